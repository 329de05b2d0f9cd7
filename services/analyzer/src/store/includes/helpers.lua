-- Lua run inside Redis, so that each ingest batch is one round trip and no
-- read-modify-write happens in Node. KEYS[1] is the key prefix P: every key
-- the analyzer's scripts touch starts with it, and the prefix carries a hash
-- tag so that on Redis Cluster they all live in one slot (one shard's, under
-- a sharded store: sharded-store.ts).
--
-- Shared helpers: the prefix P, Space-Saving on a sorted set (ss), and
-- scaling a zset or hash by a factor (scalez, scaleh).
local P = KEYS[1]
local function ss(z, cap, m, w)
  -- One call when the member is counted already (nil when it is not).
  if redis.call('ZADD', z, 'XX', 'INCR', w, m) then return nil, 0 end
  if redis.call('ZCARD', z) < cap then
    redis.call('ZADD', z, w, m)
    return nil, 0
  end
  local min = redis.call('ZPOPMIN', z)
  local floor = tonumber(min[2])
  redis.call('ZADD', z, floor + w, m)
  return min[1], floor
end
local function scalez(z, f)
  local a = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
  for i = 1, #a, 2 do redis.call('ZADD', z, tonumber(a[i + 1]) * f, a[i]) end
end
local function scaleh(h, f)
  local a = redis.call('HGETALL', h)
  for i = 1, #a, 2 do redis.call('HSET', h, a[i], tonumber(a[i + 1]) * f) end
end
