-- One of the ends of a claim (ack, fail, release, extendLease). Each acts
-- only on tasks that are processing now; an id in any other state (acked
-- twice, reaped after its lease expired, unknown) is skipped and not counted.
-- ARGV: B, NOW, leaseMs, ids... Returns how many leases were extended.
--- @include "lib"
local UNTIL = fmt(NOW + tonumber(ARGV[3]))
local n = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local f = redis.call('HMGET', tkey(id), 'state', 'type')
  if f[1] == 'processing' then
    redis.call('HSET', tkey(id), 'lease', UNTIL, 'updated', NOWS)
    redis.call('ZADD', zkey('active', f[2]), UNTIL, id)
    n = n + 1
  end
end
return n
