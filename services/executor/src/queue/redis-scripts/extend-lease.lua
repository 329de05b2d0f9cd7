-- One of the ends of a claim (ack, fail, release, extendLease). Each acts
-- only on tasks that are processing now; an id in any other state (acked
-- twice, reaped after its lease expired, unknown) is skipped and not counted,
-- as is one processing under another worker than the one named.
-- ARGV: B, NOW, leaseMs, worker ('' for any), ids... Returns how many
-- leases were extended.
--- @include "lib"
local UNTIL = fmt(NOW + tonumber(ARGV[3]))
local WORKER = ARGV[4]
local n = 0
for i = 5, #ARGV do
  local id = ARGV[i]
  local f = redis.call('HMGET', tkey(id), 'state', 'type', 'worker')
  if heldBy(f[1], f[3], WORKER) then
    redis.call('HSET', tkey(id), 'lease', UNTIL, 'updated', NOWS)
    redis.call('ZADD', zkey('active', f[2]), UNTIL, id)
    n = n + 1
  end
end
return n
