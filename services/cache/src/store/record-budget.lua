-- Books a PutMany's writes in the entry and byte budget (redis-budget.ts),
-- forgets what Redis has expired already, and names the entries to evict,
-- soonest expiry first, while over maxEntries or maxBytes. The expired are
-- named too: each leaves members in the indexes it joined, which the store
-- prunes as it hears of them. G counts the entries whose members the store
-- could not prune (RedisBudget.countGone adds them, not this script), for
-- its sweeper, which takes off what it has swept (SETTLE) in the same call.
-- KEYS: expiry zset, bytes hash, total, gone. ARGV: now, maxEntries,
-- maxBytes, batch, settle, then key, bytes, expiry per write.
-- Returns {victims, total, entries, gone, expired}.
local Z, H, T, G = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local NOW, MAX_ENTRIES, MAX_BYTES, BATCH = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local SETTLE = tonumber(ARGV[5])
local total = tonumber(redis.call('GET', T) or '0')
-- The writes as three commands per slice (HMGET, HSET, ZADD) rather than
-- three per key: the same end state, since a key written twice in one call
-- replaces its own earlier size, and HSET and ZADD keep a repeated key's last.
for first = 6, #ARGV, 1500 do
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
-- Expired already (Redis dropped the entry): forgotten, not counted as
-- evicted. Their sizes are read and their fields deleted a slice per
-- command, not a HGET and a HDEL per key: in a steady state every booked
-- entry comes this way once.
local expired = redis.call('ZRANGEBYSCORE', Z, '-inf', NOW, 'LIMIT', 0, BATCH)
for first = 1, #expired, 500 do
  local last = math.min(first + 499, #expired)
  for _, size in ipairs(redis.call('HMGET', H, unpack(expired, first, last))) do
    if size then total = total - tonumber(size) end
  end
  redis.call('HDEL', H, unpack(expired, first, last))
end
if #expired > 0 then redis.call('ZREMRANGEBYRANK', Z, 0, #expired - 1) end
-- Over budget: the soonest expiries go first, as ZPOPMIN one at a time would
-- take them, but a slice at a time. The slice is looked at (ZRANGE and one
-- HMGET), only the keys needed come off, and the next slice follows while
-- still over. A cache at its budget evicts on every write.
local entries = redis.call('ZCARD', Z)
local victims = {}
local function over() return entries > MAX_ENTRIES or total > MAX_BYTES end
while over() and #victims < BATCH do
  local want = math.min(500, BATCH - #victims, math.max(entries - MAX_ENTRIES, 16))
  local head = redis.call('ZRANGE', Z, 0, want - 1)
  if #head == 0 then break end
  local sizes = redis.call('HMGET', H, unpack(head))
  local taken = 0
  while taken < #head and over() do
    taken = taken + 1
    total = total - tonumber(sizes[taken] or '0')
    victims[#victims + 1] = head[taken]
    entries = entries - 1
  end
  redis.call('ZREMRANGEBYRANK', Z, 0, taken - 1)
  redis.call('HDEL', H, unpack(head, 1, taken))
end
if total < 0 or entries == 0 then total = 0 end
redis.call('SET', T, total)
local gone = tonumber(redis.call('GET', G) or '0')
if SETTLE > 0 then
  gone = math.max(0, gone - SETTLE)
  redis.call('SET', G, gone)
end
return { victims, total, entries, gone, expired }
