-- Lua shared by every queue script, included at the top of each one.
--
-- Calling convention: KEYS[1] is the queue's `types` set, ARGV[1] the key base
-- `{keyPrefix}:` and ARGV[2] the caller's clock in epoch ms. Time comes from
-- the caller, never from Redis, so that one injected Clock (a ManualClock in
-- tests, the replay clock in the evaluator) drives both queue implementations.
--
-- Redis Cluster: every key of one queue partition starts with the same hash
-- tag (`{keyPrefix}` for partition 0, `{keyPrefix#p}` beyond: partitions.ts),
-- so all of them live in one slot and a script may touch any of them. A
-- script works on one partition; the queue runs it once per partition an
-- operation touches. The scripts build most key names themselves (task
-- records, one set per task type) because they are not known before the
-- script runs; KEYS[1] only routes the call to the partition's slot. With the
-- default of one partition the whole queue is one slot, as it always was;
-- more partitions spread it over the cluster's masters.
--
-- Keys under the base B (one partition's; seq and deadseq count per partition):
--   seq, deadseq        counters: task ids / FIFO order, and dead-letter order
--   types               set of task types ever enqueued
--   paused              present while claims are paused
--   counts              hash: completed:<type> (a counter), dead:<type>
--   ready:<type>        zset of claimable ids, score (10 - priority) * 2^49 + seq
--   delayed:<type>      zset of queued ids with a future not-before, score = due time
--   retry:<type>        zset of failed ids waiting for their retry, score = due time
--   active:<type>       zset of processing ids, score = lease expiry
--   dead                zset of dead ids, score = deadseq (stable paging); bounded
--                       by trimDead: capacity (oldest first) and retention (age)
--   task:<id>           hash: the status record (fields below)
--   key:<key>           string: id of the newest task of a canonical key
--
-- Record fields: id key type tenant priority reasons state attempts created
-- updated notbefore error traceparent payload worker lease seq deadseq.
-- `reasons` is a comma-separated set (reason names are [a-z]); `worker` and
-- `lease` mean something only while the state is processing.
local B = ARGV[1]
local NOW = tonumber(ARGV[2])
local BAND = 562949953421312 -- 2^49: the width of one priority band (scheduling.ts)

local function tkey(id) return B .. 'task:' .. id end
local function kkey(key) return B .. 'key:' .. key end
local function zkey(kind, taskType) return B .. kind .. ':' .. taskType end
-- redis.call turns Lua numbers into strings with 14 significant digits; scores
-- and sequence numbers need all of theirs.
local function fmt(n) return string.format('%.0f', n) end
local function readyScore(priority, seq) return fmt((10 - priority) * BAND + seq) end
local NOWS = fmt(NOW)
local function isWaiting(state) return state == 'queued' or state == 'failed' end
-- Whether a task is processing under the worker named ('' for any): the ends of
-- a claim pass the worker whose claims they may end (ClaimHolder in
-- task-queue.ts), so a worker back from a stall cannot end a claim another
-- worker has taken since its lease ran out.
local function heldBy(state, worker, named)
  return state == 'processing' and (named == '' or worker == named)
end

-- Batched writes, in slices: unpack() of thousands of values overflows
-- Lua's C stack. One call per slice instead of one per task is most of what
-- makes a 256-task claim cheap.
local function zremAll(z, ids)
  for i = 1, #ids, 500 do
    redis.call('ZREM', z, unpack(ids, i, math.min(i + 499, #ids)))
  end
end
-- pairs: a flat list score1, member1, score2, member2, ...
local function zaddAll(z, pairs)
  for i = 1, #pairs, 1000 do
    redis.call('ZADD', z, unpack(pairs, i, math.min(i + 999, #pairs)))
  end
end
-- Appends to the list stored under 'name' in table 'groups', creating it.
-- (select, not a table of the values: this runs per claimed task.)
local function push(groups, name, ...)
  local list = groups[name]
  if not list then list = {}; groups[name] = list end
  for i = 1, select('#', ...) do list[#list + 1] = (select(i, ...)) end
end

local function toReady(id, taskType)
  local f = redis.call('HMGET', tkey(id), 'priority', 'seq')
  redis.call('ZADD', zkey('ready', taskType), readyScore(tonumber(f[1]), tonumber(f[2])), id)
end

-- A task waiting again takes its key's pointer, unless a newer task of the
-- key is still live (then that one is what getByKey and dedup should see).
local function takeKey(id, key)
  local current = redis.call('GET', kkey(key))
  if current == id then return end
  if current then
    local other = redis.call('HGET', tkey(current), 'state')
    if isWaiting(other) or other == 'processing' then return end
  end
  redis.call('SET', kkey(key), id)
end

-- Leaves processing for another state. The worker and lease fields stay
-- behind (deleting them costs a call per task); readers ignore them unless
-- the state is processing.
local function endLease(id, state, err)
  if err then
    redis.call('HSET', tkey(id), 'state', state, 'updated', NOWS, 'error', err)
  else
    redis.call('HSET', tkey(id), 'state', state, 'updated', NOWS)
  end
end

local function toDead(id, taskType, err)
  endLease(id, 'dead', err)
  local seq = redis.call('INCR', B .. 'deadseq')
  redis.call('HSET', tkey(id), 'deadseq', seq)
  redis.call('ZADD', B .. 'dead', seq, id)
  redis.call('HINCRBY', B .. 'counts', 'dead:' .. taskType, 1)
end

-- Dead letters deleted unasked by this script run, returned to the caller for its metrics.
local DROPPED_CAPACITY, DROPPED_RETENTION = 0, 0

-- Deletes dead tasks: their records, their keys' pointers to them, their counts.
local function deleteDead(ids)
  for _, id in ipairs(ids) do
    local t = tkey(id)
    local f = redis.call('HMGET', t, 'type', 'key')
    redis.call('DEL', t)
    if f[2] and redis.call('GET', kkey(f[2])) == id then redis.call('DEL', kkey(f[2])) end
    if f[1] then redis.call('HINCRBY', B .. 'counts', 'dead:' .. f[1], -1) end
  end
  if #ids > 0 then zremAll(B .. 'dead', ids) end
end

-- Keeps the dead set bounded: beyond 'capacity' the oldest deaths go, and so
-- does every dead letter older than 'retentionMs' (death time is the record's
-- 'updated', which nothing changes while it is dead). At most 'limit' of
-- each per call, so a lowered capacity is caught up over a few calls rather
-- than in one long script. The set is in death order (deadseq), so the age
-- check stops at the first young one: with several executors' clocks a little
-- apart, an old one behind it waits for a later call.
local function trimDead(capacity, retentionMs, limit)
  local z = B .. 'dead'
  local excess = redis.call('ZCARD', z) - capacity
  if excess > 0 then
    local ids = redis.call('ZRANGE', z, 0, math.min(excess, limit) - 1)
    deleteDead(ids)
    DROPPED_CAPACITY = DROPPED_CAPACITY + #ids
  end
  local cutoff = NOW - retentionMs
  local oldest = redis.call('ZRANGE', z, 0, 0)
  if #oldest == 0 then return end
  -- The common case, nothing aged out, costs this one look.
  local at = tonumber(redis.call('HGET', tkey(oldest[1]), 'updated'))
  if at and at > cutoff then return end
  local aged = {}
  for _, id in ipairs(redis.call('ZRANGE', z, 0, limit - 1)) do
    at = tonumber(redis.call('HGET', tkey(id), 'updated'))
    if at and at > cutoff then break end
    aged[#aged + 1] = id
  end
  deleteDead(aged)
  DROPPED_RETENTION = DROPPED_RETENTION + #aged
end

-- Moves up to 'limit' due tasks of each of delayed:<type> and retry:<type>
-- to ready:<type>. Bounded so that one call stays short; the next claim
-- promotes the rest.
local function promote(taskType, limit)
  for _, kind in ipairs({ 'delayed', 'retry' }) do
    local z = zkey(kind, taskType)
    local due = redis.call('ZRANGEBYSCORE', z, '-inf', NOWS, 'LIMIT', 0, limit)
    for _, id in ipairs(due) do
      toReady(id, taskType)
      if kind == 'retry' then redis.call('HSET', tkey(id), 'state', 'queued', 'updated', NOWS) end
    end
    if #due > 0 then zremAll(z, due) end
  end
end

-- Returns tasks whose lease expired (their worker died or hung), up to
-- 'limit' per type. The attempt was counted at claim; out of attempts, the
-- task is dead-lettered (a task that kills its workers must not loop).
local function reap(maxAttempts, limit)
  local n = 0
  for _, taskType in ipairs(redis.call('SMEMBERS', B .. 'types')) do
    local z = zkey('active', taskType)
    local expired = redis.call('ZRANGEBYSCORE', z, '-inf', NOWS, 'LIMIT', 0, limit)
    for _, id in ipairs(expired) do
      local f = redis.call('HMGET', tkey(id), 'attempts', 'worker', 'key')
      local err = 'lease expired (worker ' .. (f[2] or '?') .. ' stopped without acking)'
      if tonumber(f[1]) >= maxAttempts then
        toDead(id, taskType, err)
      else
        endLease(id, 'queued', err)
        toReady(id, taskType)
        takeKey(id, f[3])
      end
    end
    if #expired > 0 then zremAll(z, expired) end
    n = n + #expired
  end
  return n
end

-- Tasks counted against capacity: ready, delayed, retry-waiting, processing.
local function queueSize()
  local n = 0
  for _, taskType in ipairs(redis.call('SMEMBERS', B .. 'types')) do
    for _, kind in ipairs({ 'ready', 'delayed', 'retry', 'active' }) do
      n = n + redis.call('ZCARD', zkey(kind, taskType))
    end
  end
  return n
end
