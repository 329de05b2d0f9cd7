-- Claims up to N tasks in one atomic step. First it does the housekeeping
-- that every worker shares, so that no separate reaper process is needed:
-- expired leases come back (all types), and due delayed and retry tasks of
-- the claimed types become ready.
-- Dead letters past their capacity or retention are trimmed here too, so an
-- idle queue (whose workers still poll) ages them out.
-- ARGV: B, NOW, n, leaseMs, workerId, maxAttempts, housekeepingLimit,
-- deadLetterCapacity, deadLetterRetentionMs, taskTypes... (none = all).
-- Returns {claimed, droppedByCapacity, droppedByRetention}: claimed is a JSON
-- array, best first, of [id, ...values of FIELDS] per claimed task, attempts
-- already counted: one bulk string parses several times faster in Node than
-- nested RESP arrays of thousands of strings.
-- FIELDS are claimFields (queue-scripts.ts, which redis-codec.ts decodes by),
-- in the same order: positional values of only these fields halve what Redis
-- reads, encodes and Node parses per task compared with HGETALL; the rest of
-- a claimed record (state, worker, lease, updated) the caller knows already.
-- ATTEMPTS is the position of 'attempts' in FIELDS. A test keeps both in step.
--- @include "lib"
local N = tonumber(ARGV[3])
local LEASE_UNTIL = fmt(NOW + tonumber(ARGV[4]))
local WORKER = ARGV[5]
local MAX_ATTEMPTS = tonumber(ARGV[6])
local LIMIT = tonumber(ARGV[7])
local FIELDS = { 'key', 'type', 'tenant', 'priority', 'reasons', 'attempts', 'created', 'notbefore', 'error',
  'traceparent', 'payload' }
local ATTEMPTS = 6

reap(MAX_ATTEMPTS, LIMIT)
trimDead(tonumber(ARGV[8]), tonumber(ARGV[9]), LIMIT)
if redis.call('EXISTS', B .. 'paused') == 1 then return { '[]', DROPPED_CAPACITY, DROPPED_RETENTION } end

local types = {}
for i = 10, #ARGV do types[#types + 1] = ARGV[i] end
if #types == 0 then types = redis.call('SMEMBERS', B .. 'types') end

-- The N best of all types are among the N best of each. A ready set is
-- sorted already, so one type is read as it stands (no scores), and several
-- are merged by their heads: no table per candidate and no sort. This runs
-- per claimed task; a table and a score per candidate were about a tenth of
-- a claim's redis-server time.
local ids, idTypes = {}, {}
if #types == 1 then
  local taskType = types[1]
  promote(taskType, LIMIT)
  ids = redis.call('ZRANGE', zkey('ready', taskType), 0, N - 1)
  for i = 1, #ids do idTypes[i] = taskType end
else
  -- Per type: its ids and scores, where its head is, and the head's score (nil once used up).
  local lists, heads, headScores = {}, {}, {}
  for k, taskType in ipairs(types) do
    promote(taskType, LIMIT)
    lists[k] = redis.call('ZRANGE', zkey('ready', taskType), 0, N - 1, 'WITHSCORES')
    heads[k] = 1
    headScores[k] = tonumber(lists[k][2])
  end
  while #ids < N do
    local best
    for k = 1, #types do
      if headScores[k] and (not best or headScores[k] < headScores[best]) then best = k end
    end
    if not best then break end
    local h = heads[best]
    ids[#ids + 1] = lists[best][h]
    idTypes[#ids] = types[best]
    heads[best] = h + 2
    headScores[best] = tonumber(lists[best][h + 3])
  end
end

local out, taken, leased = {}, {}, {}
for i = 1, #ids do
  local id, taskType = ids[i], idTypes[i]
  local t = tkey(id)
  local values = redis.call('HMGET', t, unpack(FIELDS))
  local list = taken[taskType]
  if not list then list = {}; taken[taskType] = list end
  list[#list + 1] = id
  -- A ready id without a record (deleted by hand) is dropped, not claimed.
  if values[1] then
    values[ATTEMPTS] = tonumber(values[ATTEMPTS]) + 1
    redis.call('HSET', t, 'state', 'processing', 'attempts', values[ATTEMPTS], 'updated', NOWS,
      'worker', WORKER, 'lease', LEASE_UNTIL)
    table.insert(values, 1, id)
    out[#out + 1] = values
    list = leased[taskType]
    if not list then list = {}; leased[taskType] = list end
    list[#list + 1] = LEASE_UNTIL
    list[#list + 1] = id
  end
end
for taskType, list in pairs(taken) do zremAll(zkey('ready', taskType), list) end
for taskType, list in pairs(leased) do zaddAll(zkey('active', taskType), list) end
-- cjson writes an empty table as {}
return { #out == 0 and '[]' or cjson.encode(out), DROPPED_CAPACITY, DROPPED_RETENTION }
