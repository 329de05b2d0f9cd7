-- Enqueues a batch atomically, all or nothing (into one partition: a
-- partitioned queue runs it once per partition the batch touches).
-- ARGV: B, NOW, capacity, idPrefix ('' in partition 0, '<p>.' beyond),
-- checkOnly ('1': only answer whether the new tasks would fit, writing
-- nothing; the other task fields may then be empty), then per task: key,
-- type, tenant, priority, reason, notBefore ('' = none), traceparent
-- ('' = none), payload, hasPayload ('1'/'0'), nonce (the random part of a new
-- task's id, so ids cannot be guessed). FIELDS, the fields per task, is
-- enqueueFields in queue-scripts.ts; a test keeps the two in step.
-- Returns {'ok', id1, dedup1, id2, dedup2, ...} ({'ok'} when checking) or
-- {'full', size, needed}.
--- @include "lib"
local CAPACITY = tonumber(ARGV[3])
local ID_PREFIX = ARGV[4]
local CHECK_ONLY = ARGV[5] == '1'
local FIRST = 6
local FIELDS = 10
local COUNT = (#ARGV - FIRST + 1) / FIELDS

-- Writes of new tasks wait here and go out in a few calls per batch (one
-- MSET of key pointers, one ZADD per type and zset) instead of three calls
-- per task; a merge into a task this batch created flushes them first, since
-- it reads the task's zset entries.
local pendingPointers, pendingZ, createdHere = {}, {}, {}
local function flush()
  for i = 1, #pendingPointers, 500 do
    redis.call('MSET', unpack(pendingPointers, i, math.min(i + 499, #pendingPointers)))
  end
  for z, list in pairs(pendingZ) do zaddAll(z, list) end
  pendingPointers, pendingZ = {}, {}
end

-- Dedup: the higher priority, every reason, the earlier not-before (a failed
-- task keeps its backoff), the newest payload, the first traceparent.
local function merge(id, taskType, priority, reason, notBefore, traceparent, payload, hasPayload)
  if createdHere[id] then flush() end
  local t = tkey(id)
  local f = redis.call('HMGET', t, 'priority', 'reasons', 'state', 'traceparent', 'seq')
  local oldPriority, seq = tonumber(f[1]), tonumber(f[5])
  if not string.find(',' .. f[2] .. ',', ',' .. reason .. ',', 1, true) then
    redis.call('HSET', t, 'reasons', f[2] .. ',' .. reason)
  end
  if hasPayload then redis.call('HSET', t, 'payload', payload) end
  if traceparent ~= '' and not f[4] then redis.call('HSET', t, 'traceparent', traceparent) end
  redis.call('HSET', t, 'updated', NOWS)
  if priority > oldPriority then redis.call('HSET', t, 'priority', priority) end
  local best = math.max(priority, oldPriority)
  local delayedAt = redis.call('ZSCORE', zkey('delayed', taskType), id)
  local due = tonumber(notBefore) or 0
  if f[3] == 'queued' and delayedAt and due < tonumber(delayedAt) then
    if notBefore == '' then redis.call('HDEL', t, 'notbefore') else redis.call('HSET', t, 'notbefore', notBefore) end
    if due > NOW then
      redis.call('ZADD', zkey('delayed', taskType), fmt(due), id)
    else
      redis.call('ZREM', zkey('delayed', taskType), id)
      redis.call('ZADD', zkey('ready', taskType), readyScore(best, seq), id)
    end
  elseif priority > oldPriority and redis.call('ZSCORE', zkey('ready', taskType), id) then
    -- Re-scored in place: the same place in time, in the higher band.
    redis.call('ZADD', zkey('ready', taskType), readyScore(priority, seq), id)
  end
end

local knownTypes = {}
local seq -- the last sequence number taken; pass 2 takes them from a range reserved in one INCRBY
local function create(key, taskType, tenant, priority, reason, notBefore, traceparent, payload, hasPayload, nonce)
  seq = seq + 1
  local id = ID_PREFIX .. fmt(seq) .. '-' .. nonce
  local fields = { 'id', id, 'key', key, 'type', taskType, 'tenant', tenant, 'priority', priority,
    'reasons', reason, 'state', 'queued', 'attempts', 0, 'created', NOWS, 'updated', NOWS, 'seq', fmt(seq) }
  if notBefore ~= '' then table.insert(fields, 'notbefore'); table.insert(fields, notBefore) end
  if traceparent ~= '' then table.insert(fields, 'traceparent'); table.insert(fields, traceparent) end
  if hasPayload then table.insert(fields, 'payload'); table.insert(fields, payload) end
  redis.call('HSET', tkey(id), unpack(fields))
  pendingPointers[#pendingPointers + 1] = kkey(key)
  pendingPointers[#pendingPointers + 1] = id
  createdHere[id] = true
  if not knownTypes[taskType] then
    redis.call('SADD', B .. 'types', taskType)
    knownTypes[taskType] = true
  end
  local due = tonumber(notBefore) or 0
  if due > NOW then
    push(pendingZ, zkey('delayed', taskType), fmt(due), id)
  else
    push(pendingZ, zkey('ready', taskType), readyScore(priority, seq), id)
  end
  return id
end

-- Pass 1: find the task each key is waiting as, count the tasks that would be
-- new (keys neither waiting nor earlier in this batch), and refuse the whole
-- batch if they do not fit.
-- The key pointers are read in slices of one MGET each; only a key that has
-- a task costs a look at its state.
local target, fresh, distinct = {}, 0, {}
for i = 0, COUNT - 1 do
  local key = ARGV[FIRST + i * FIELDS]
  if target[key] == nil then
    target[key] = false
    distinct[#distinct + 1] = key
  end
end
for i = 1, #distinct, 500 do
  local last = math.min(i + 499, #distinct)
  local pointers = {}
  for j = i, last do pointers[#pointers + 1] = kkey(distinct[j]) end
  local ids = redis.call('MGET', unpack(pointers))
  for j = i, last do
    local id = ids[j - i + 1]
    -- The task a key is waiting as (queued or failed) is what a new enqueue merges into.
    if id and isWaiting(redis.call('HGET', tkey(id), 'state')) then target[distinct[j]] = id else fresh = fresh + 1 end
  end
end
if fresh > 0 then
  local size = queueSize()
  if size + fresh > CAPACITY then return { 'full', size, fresh } end
end
if CHECK_ONLY then return { 'ok' } end
seq = redis.call('INCRBY', B .. 'seq', fresh) - fresh

-- Pass 2: merge or create, in request order; a key's second task in the
-- batch merges into its first.
local out = { 'ok' }
for i = 0, COUNT - 1 do
  local a = FIRST + i * FIELDS
  local key, taskType, tenant = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local priority, reason, notBefore = tonumber(ARGV[a + 3]), ARGV[a + 4], ARGV[a + 5]
  local traceparent, payload, hasPayload = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8] == '1'
  local nonce = ARGV[a + 9]
  local id = target[key]
  if id then
    merge(id, taskType, priority, reason, notBefore, traceparent, payload, hasPayload)
    table.insert(out, id)
    table.insert(out, 1)
  else
    id = create(key, taskType, tenant, priority, reason, notBefore, traceparent, payload, hasPayload, nonce)
    target[key] = id
    table.insert(out, id)
    table.insert(out, 0)
  end
end
flush()
return out
