-- The claim, in one script: the decision of decideClaim (run-store.ts) over
-- the window's record and its lease. The lease is a key SET NX PX with the
-- owner as its value, so it lapses on Redis's own clock when its owner dies
-- and stops renewing; a running record without a lease is taken over.
-- KEYS: run record, lease. ARGV: owner, leaseMs, now, maxAttempts, schedule,
-- windowStart, key, retentionMs.
-- Returns {1, takeover (1/0), record JSON} when claimed, else {0, why, record JSON or ''}.
local raw = redis.call('GET', KEYS[1])
local held = redis.call('EXISTS', KEYS[2]) == 1
local rec = nil
if raw then rec = cjson.decode(raw) end
local now = tonumber(ARGV[3])
if rec then
  if rec.status == 'succeeded' then return {0, 'succeeded', raw} end
  if rec.status == 'running' and held then return {0, 'running', raw} end
  if tonumber(rec.attempts) >= tonumber(ARGV[4]) then return {0, 'attempts_exhausted', raw} end
  if rec.status == 'failed' and rec.retryAt and now < tonumber(rec.retryAt) then return {0, 'retry_later', raw} end
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) == false then
  return {0, 'running', raw or ''}
end
local takeover = 0
local attempts = 1
local err = ''
if rec then
  attempts = tonumber(rec.attempts) + 1
  err = rec.error or ''
  if rec.status == 'running' then takeover = 1 end
end
local out = cjson.encode({key = ARGV[7], schedule = ARGV[5], windowStart = tonumber(ARGV[6]), status = 'running',
  owner = ARGV[1], startedAt = now, items = 0, error = err, attempts = attempts, note = ''})
redis.call('SET', KEYS[1], out, 'PX', ARGV[8])
return {1, takeover, out}
