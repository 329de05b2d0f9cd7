-- Records how a run ended and lets its lease go, if the owner still holds it.
-- KEYS: run record, lease. ARGV: owner, outcome JSON (fields merged into the
-- record). Returns 1 when finished, else 0.
--- @include "owned-run"
local rec = ownedRun(ARGV[1])
if not rec then return 0 end
local outcome = cjson.decode(ARGV[2])
for k, v in pairs(outcome) do rec[k] = v end
redis.call('SET', KEYS[1], cjson.encode(rec), 'KEEPTTL')
redis.call('DEL', KEYS[2])
return 1
