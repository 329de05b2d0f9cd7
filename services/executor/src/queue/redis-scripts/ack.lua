-- One of the ends of a claim (ack, fail, release, extendLease). Each acts
-- only on tasks that are processing now; an id in any other state (acked
-- twice, reaped after its lease expired, unknown) is skipped and not counted,
-- as is one processing under another worker than the one named.
-- ARGV: B, NOW, retentionMs, worker ('' for any), ids... Returns how many
-- were completed, then the ids given that were not (each may repeat): a
-- worker whose lease ran out learns which of its results another claim owns.
--- @include "lib"
local RETENTION, WORKER = ARGV[3], ARGV[4]
local n, done, pointers, acked, refused, completed = 0, {}, {}, {}, {}, {}
for i = 5, #ARGV do
  local id = ARGV[i]
  local t = tkey(id)
  local f = redis.call('HMGET', t, 'state', 'type', 'key', 'worker')
  if not heldBy(f[1], f[4], WORKER) then
    -- The same id twice in one call: completed by its first, not refused by its second.
    if not completed[id] then refused[#refused + 1] = id end
  else
    completed[id] = true
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
-- Built, not unpacked: a whole claim refused would overflow Lua's C stack.
local reply = { n }
for i = 1, #refused do reply[i + 1] = refused[i] end
return reply
