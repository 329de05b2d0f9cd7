-- Bench baseline (bench cache-budget): the cache budget's forget script as
-- it was at c68f430, three calls per key. The shipped script is
-- services/cache/src/store/forget-budget.lua.
-- Takes keys removed by delete or invalidation off the budget's ledger
-- (redis-budget.ts). KEYS: expiry zset, bytes hash, total. ARGV: the
-- canonical keys. Returns the bytes booked after.
local Z, H, T = KEYS[1], KEYS[2], KEYS[3]
local total = tonumber(redis.call('GET', T) or '0')
for i = 1, #ARGV do
  local old = redis.call('HGET', H, ARGV[i])
  if old then
    total = total - tonumber(old)
    redis.call('HDEL', H, ARGV[i])
    redis.call('ZREM', Z, ARGV[i])
  end
end
if total < 0 or redis.call('ZCARD', Z) == 0 then total = 0 end
redis.call('SET', T, total)
return total
