-- Bench baseline (bench cache-budget): the cache budget's booking script as
-- it was at c68f430, forgetting and evicting one key at a time (a HGET
-- and a HDEL per expired key; a ZPOPMIN, HGET and HDEL per victim).
-- The shipped script is services/cache/src/store/record-budget.lua.
-- Books a PutMany's writes in the entry and byte budget (redis-budget.ts),
-- forgets what Redis has expired already, and names the entries to evict,
-- soonest expiry first, while over maxEntries or maxBytes.
-- KEYS: expiry zset, bytes hash, total. ARGV: now, maxEntries, maxBytes,
-- batch, then key, bytes, expiry per write. Returns {victims, total, entries}.
local Z, H, T = KEYS[1], KEYS[2], KEYS[3]
local NOW, MAX_ENTRIES, MAX_BYTES, BATCH = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local total = tonumber(redis.call('GET', T) or '0')
-- The writes as three commands per slice (HMGET, HSET, ZADD) rather than
-- three per key: the same end state, since a key written twice in one call
-- replaces its own earlier size, and HSET and ZADD keep a repeated key's last.
for first = 5, #ARGV, 1500 do
  local last = math.min(first + 1499, #ARGV)
  local keys, sizes, expiries = {}, {}, {}
  for i = first, last, 3 do
    keys[#keys + 1] = ARGV[i]
    sizes[#sizes + 1] = ARGV[i]; sizes[#sizes + 1] = ARGV[i + 1]
    expiries[#expiries + 1] = ARGV[i + 2]; expiries[#expiries + 1] = ARGV[i]
  end
  local olds = redis.call('HMGET', H, unpack(keys))
  local written = {}
  for j, key in ipairs(keys) do
    local old = written[key] or olds[j]
    if old then total = total - tonumber(old) end
    local size = sizes[2 * j]
    written[key] = size
    total = total + tonumber(size)
  end
  redis.call('HSET', H, unpack(sizes))
  redis.call('ZADD', Z, unpack(expiries))
end
-- Expired already (Redis dropped the entry): forgotten, not counted as evicted.
local expired = redis.call('ZRANGEBYSCORE', Z, '-inf', NOW, 'LIMIT', 0, BATCH)
for _, key in ipairs(expired) do
  total = total - tonumber(redis.call('HGET', H, key) or '0')
  redis.call('HDEL', H, key)
end
if #expired > 0 then redis.call('ZREMRANGEBYRANK', Z, 0, #expired - 1) end
local entries = redis.call('ZCARD', Z)
local victims = {}
while (entries > MAX_ENTRIES or total > MAX_BYTES) and #victims < BATCH do
  local popped = redis.call('ZPOPMIN', Z)
  if #popped == 0 then break end
  local key = popped[1]
  total = total - tonumber(redis.call('HGET', H, key) or '0')
  redis.call('HDEL', H, key)
  victims[#victims + 1] = key
  entries = entries - 1
end
if total < 0 or entries == 0 then total = 0 end
redis.call('SET', T, total)
return { victims, total, entries }
