-- Takes keys removed by delete or invalidation off the budget's ledger
-- (redis-budget.ts). KEYS: expiry zset, bytes hash, total. ARGV: the
-- canonical keys (a key may repeat). Returns the bytes booked after.
-- A slice of keys per HMGET, HDEL and ZREM rather than three calls per key:
-- an invalidation may name thousands.
local Z, H, T = KEYS[1], KEYS[2], KEYS[3]
local total = tonumber(redis.call('GET', T) or '0')
local seen = {}
for first = 1, #ARGV, 500 do
  local last = math.min(first + 499, #ARGV)
  local sizes = redis.call('HMGET', H, unpack(ARGV, first, last))
  local booked = {}
  for j, size in ipairs(sizes) do
    local key = ARGV[first + j - 1]
    -- A repeat within a slice reads the size its first deleted: counted once.
    if size and not seen[key] then
      seen[key] = true
      total = total - tonumber(size)
      booked[#booked + 1] = key
    end
  end
  if #booked > 0 then
    redis.call('HDEL', H, unpack(booked))
    redis.call('ZREM', Z, unpack(booked))
  end
end
if total < 0 or redis.call('ZCARD', Z) == 0 then total = 0 end
redis.call('SET', T, total)
return total
