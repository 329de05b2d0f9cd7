-- One of the ends of a claim (ack, fail, release, extendLease). Each acts
-- only on tasks that are processing now; an id in any other state (acked
-- twice, reaped after its lease expired, unknown) is skipped and not counted,
-- as is one processing under another worker than the one named.
-- ARGV: B, NOW, retentionMs, worker ('' for any), ids... Returns how many
-- were completed.
--- @include "lib"
local RETENTION, WORKER = ARGV[3], ARGV[4]
local n, done, pointers, acked = 0, {}, {}, {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local t = tkey(id)
  local f = redis.call('HMGET', t, 'state', 'type', 'key', 'worker')
  if heldBy(f[1], f[4], WORKER) then
    endLease(id, 'completed', nil)
    -- The record, and the key's pointer to it, stay readable for the retention.
    redis.call('PEXPIRE', t, RETENTION)
    n = n + 1
    acked[n] = id
    pointers[n] = kkey(f[3])
    local list = done[f[2]]
    if not list then list = {}; done[f[2]] = list end
    list[#list + 1] = id
  end
end
-- The pointers in slices of one MGET each: a key's pointer expires with its
-- task only if no newer task of the key has taken it.
for i = 1, n, 500 do
  local last = math.min(i + 499, n)
  local current = redis.call('MGET', unpack(pointers, i, last))
  for j = i, last do
    if current[j - i + 1] == acked[j] then redis.call('PEXPIRE', pointers[j], RETENTION) end
  end
end
for taskType, ids in pairs(done) do
  zremAll(zkey('active', taskType), ids)
  redis.call('HINCRBY', B .. 'counts', 'completed:' .. taskType, #ids)
end
return n
