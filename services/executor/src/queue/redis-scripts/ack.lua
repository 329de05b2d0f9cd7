-- One of the ends of a claim (ack, fail, release, extendLease). Each acts
-- only on tasks that are processing now; an id in any other state (acked
-- twice, reaped after its lease expired, unknown) is skipped and not counted.
-- ARGV: B, NOW, retentionMs, ids... Returns how many were completed.
--- @include "lib"
local RETENTION = ARGV[3]
local n, done = 0, {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local t = tkey(id)
  local f = redis.call('HMGET', t, 'state', 'type', 'key')
  if f[1] == 'processing' then
    endLease(id, 'completed', nil)
    -- The record, and the key's pointer to it, stay readable for the retention.
    redis.call('PEXPIRE', t, RETENTION)
    local pointer = kkey(f[3])
    if redis.call('GET', pointer) == id then redis.call('PEXPIRE', pointer, RETENTION) end
    local list = done[f[2]]
    if not list then list = {}; done[f[2]] = list end
    list[#list + 1] = id
    n = n + 1
  end
end
for taskType, ids in pairs(done) do
  zremAll(zkey('active', taskType), ids)
  redis.call('HINCRBY', B .. 'counts', 'completed:' .. taskType, #ids)
end
return n
