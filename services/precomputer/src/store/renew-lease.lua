-- Extends a run's lease while its owner still holds it.
-- KEYS: run record, lease. ARGV: owner, leaseMs. Returns 1 when renewed, else 0.
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.status ~= 'running' or rec.owner ~= ARGV[1] then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
