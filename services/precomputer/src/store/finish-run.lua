-- Records how a run ended and lets its lease go, if the owner still holds it.
-- KEYS: run record, lease. ARGV: owner, outcome JSON (fields merged into the
-- record). Returns 1 when finished, else 0.
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.status ~= 'running' or rec.owner ~= ARGV[1] then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
local outcome = cjson.decode(ARGV[2])
for k, v in pairs(outcome) do rec[k] = v end
redis.call('SET', KEYS[1], cjson.encode(rec), 'KEEPTTL')
redis.call('DEL', KEYS[2])
return 1
