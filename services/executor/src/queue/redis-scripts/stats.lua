-- Stats per task type, after promoting due tasks so that "queued" means
-- claimable now and "delayed" means not yet due, as in the memory queue.
-- ARGV: B, NOW, limit.
-- Returns {{type, ready, delayed, retry, active, completed, dead, {count per priority 1..10}}..., paused}.
--- @include "lib"
local LIMIT = tonumber(ARGV[3])
local counts = B .. 'counts'
local out = {}
for _, taskType in ipairs(redis.call('SMEMBERS', B .. 'types')) do
  promote(taskType, LIMIT)
  local ready = zkey('ready', taskType)
  local byPriority = {}
  for p = 1, 10 do
    local low = (10 - p) * BAND
    byPriority[p] = redis.call('ZCOUNT', ready, fmt(low), '(' .. fmt(low + BAND))
  end
  out[#out + 1] = { taskType, redis.call('ZCARD', ready), redis.call('ZCARD', zkey('delayed', taskType)),
    redis.call('ZCARD', zkey('retry', taskType)), redis.call('ZCARD', zkey('active', taskType)),
    tonumber(redis.call('HGET', counts, 'completed:' .. taskType) or '0'),
    tonumber(redis.call('HGET', counts, 'dead:' .. taskType) or '0'), byPriority }
end
return { out, redis.call('EXISTS', B .. 'paused') }
