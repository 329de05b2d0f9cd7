-- One of the ends of a claim (ack, fail, release, extendLease). Each acts
-- only on tasks that are processing now; an id in any other state (acked
-- twice, reaped after its lease expired, unknown) is skipped and not counted,
-- as is one processing under another worker than the one named.
-- ARGV: B, NOW, maxAttempts, backoffBaseMs, backoffMaxMs, deadLetterCapacity,
-- deadLetterRetentionMs, housekeepingLimit, worker ('' for any), then per
-- failure: id, error, permanent ('1'/'0'), jitter in [0, 1) (drawn by the
-- caller: Lua's math.random is deterministic inside Redis).
-- Returns {outcome1, retryAt1, outcome2, retryAt2, ..., droppedByCapacity, droppedByRetention}.
--- @include "lib"
local MAX_ATTEMPTS = tonumber(ARGV[3])
local BASE, CAP = tonumber(ARGV[4]), tonumber(ARGV[5])
local WORKER = ARGV[9]
local out, died = {}, false
for i = 10, #ARGV, 4 do
  local id, err, permanent, jitter = ARGV[i], ARGV[i + 1], ARGV[i + 2] == '1', tonumber(ARGV[i + 3])
  local f = redis.call('HMGET', tkey(id), 'state', 'type', 'attempts', 'key', 'worker')
  if not heldBy(f[1], f[5], WORKER) then
    table.insert(out, 'ignored'); table.insert(out, 0)
  else
    redis.call('ZREM', zkey('active', f[2]), id)
    local attempts = tonumber(f[3])
    if permanent or attempts >= MAX_ATTEMPTS then
      toDead(id, f[2], err)
      died = true
      table.insert(out, 'dead'); table.insert(out, 0)
    else
      -- retryDelayMs in scheduling.ts: exponential, capped, equal jitter.
      local nominal = math.min(CAP, BASE * 2 ^ math.max(0, attempts - 1))
      local at = NOW + math.floor(nominal / 2 + jitter * nominal / 2)
      endLease(id, 'failed', err)
      redis.call('HSET', tkey(id), 'notbefore', fmt(at))
      redis.call('ZADD', zkey('retry', f[2]), fmt(at), id)
      takeKey(id, f[4])
      table.insert(out, 'retry'); table.insert(out, fmt(at))
    end
  end
end
if died then trimDead(tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])) end
table.insert(out, DROPPED_CAPACITY); table.insert(out, DROPPED_RETENTION)
return out
