-- One of the ends of a claim (ack, fail, release, extendLease). Each acts
-- only on tasks that are processing now; an id in any other state (acked
-- twice, reaped after its lease expired, unknown) is skipped and not counted,
-- as is one processing under another worker than the one named.
-- ARGV: B, NOW, worker ('' for any), ids... Gives tasks back un-started:
-- the attempt is returned.
--- @include "lib"
local WORKER = ARGV[3]
local n = 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local f = redis.call('HMGET', tkey(id), 'state', 'type', 'attempts', 'key', 'worker')
  if heldBy(f[1], f[5], WORKER) then
    redis.call('HSET', tkey(id), 'attempts', math.max(0, tonumber(f[3]) - 1))
    endLease(id, 'queued', nil)
    redis.call('ZREM', zkey('active', f[2]), id)
    toReady(id, f[2])
    takeKey(id, f[4])
    n = n + 1
  end
end
return n
