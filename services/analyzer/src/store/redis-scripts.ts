/**
 * Lua run inside Redis, so that each ingest batch is one round trip and no
 * read-modify-write happens in Node. KEYS[1] is the key prefix: every key the
 * scripts touch starts with it, and the prefix carries a hash tag so that on
 * Redis Cluster they all live in one slot (one shard's, under a sharded store:
 * sharded-store.ts).
 */

/** Shared helpers: Space-Saving on a sorted set, and scaling a zset or hash by a factor. */
const helpers = `
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
`;

/**
 * ARGV: landmark, rate demand/profile/successors, capacities (keys, entities,
 * tenants, types, sources, successors per source), events, first time, then
 * counted sections: keys (key, w, miss), entities (m, w), tenants (m, w),
 * types (name, w, hit, stale, miss, computeW, computeSum, n, (bucket, w)×n),
 * hours (h, w), successors (source, total, n, (key, w)×n).
 */
export const applyCountersLua = `${helpers}
local a = ARGV
local L = tonumber(a[1])
local rd, rp, rs = tonumber(a[2]), tonumber(a[3]), tonumber(a[4])
local capK, capE, capT, capY, capS, capN = tonumber(a[5]), tonumber(a[6]), tonumber(a[7]), tonumber(a[8]), tonumber(a[9]), tonumber(a[10])
local meta = P .. 'meta'
local stored = tonumber(redis.call('HGET', meta, 'landmark'))
local fd, fp, fs = 1, 1, 1
if not stored then
  redis.call('HSET', meta, 'landmark', a[1])
elseif L > stored then
  local d, p, s = math.exp(-rd * (L - stored)), math.exp(-rp * (L - stored)), math.exp(-rs * (L - stored))
  scalez(P .. 'keys', d) scaleh(P .. 'keymiss', d) scaleh(P .. 'keyerr', d)
  scalez(P .. 'entities', d) scalez(P .. 'tenants', d)
  local types = redis.call('ZRANGE', P .. 'types', 0, -1)
  scalez(P .. 'types', d)
  for _, t in ipairs(types) do scaleh(P .. 'type:' .. t, d) end
  scaleh(P .. 'hours', p)
  local sources = redis.call('ZRANGE', P .. 'sources', 0, -1)
  scalez(P .. 'sources', s)
  for _, src in ipairs(sources) do scalez(P .. 'succ:' .. src, s) end
  redis.call('HSET', meta, 'landmark', a[1])
elseif L < stored then
  fd, fp, fs = math.exp(-rd * (stored - L)), math.exp(-rp * (stored - L)), math.exp(-rs * (stored - L))
end
local events = tonumber(a[11])
if events > 0 then
  redis.call('HINCRBY', meta, 'events', events)
  local first = tonumber(redis.call('HGET', meta, 'first'))
  if not first or tonumber(a[12]) < first then redis.call('HSET', meta, 'first', a[12]) end
end
local i = 13
local n = tonumber(a[i]) i = i + 1
for _ = 1, n do
  local k, w, miss = a[i], tonumber(a[i + 1]) * fd, tonumber(a[i + 2]) * fd
  i = i + 3
  local evicted, floor = ss(P .. 'keys', capK, k, w)
  if evicted then
    redis.call('HDEL', P .. 'keymiss', evicted)
    redis.call('HDEL', P .. 'keyerr', evicted)
    redis.call('HSET', P .. 'keyerr', k, floor)
  end
  if miss > 0 then redis.call('HINCRBYFLOAT', P .. 'keymiss', k, miss) end
end
for _, fam in ipairs({ { 'entities', capE }, { 'tenants', capT } }) do
  n = tonumber(a[i]) i = i + 1
  for _ = 1, n do
    ss(P .. fam[1], fam[2], a[i], tonumber(a[i + 1]) * fd)
    i = i + 2
  end
end
n = tonumber(a[i]) i = i + 1
local fields = { 'w', 'hit', 'stale', 'miss', 'cw', 'cs' }
for _ = 1, n do
  local t = a[i]
  local h = P .. 'type:' .. t
  local evicted = ss(P .. 'types', capY, t, tonumber(a[i + 1]) * fd)
  if evicted then redis.call('DEL', P .. 'type:' .. evicted) end
  for f = 1, 6 do
    local v = tonumber(a[i + f]) * fd
    if v ~= 0 then redis.call('HINCRBYFLOAT', h, fields[f], v) end
  end
  local nb = tonumber(a[i + 7])
  i = i + 8
  for _ = 1, nb do
    redis.call('HINCRBYFLOAT', h, 'b' .. a[i], tonumber(a[i + 1]) * fd)
    i = i + 2
  end
end
n = tonumber(a[i]) i = i + 1
for _ = 1, n do
  redis.call('HINCRBYFLOAT', P .. 'hours', a[i], tonumber(a[i + 1]) * fp)
  i = i + 2
end
n = tonumber(a[i]) i = i + 1
for _ = 1, n do
  local src, total, ns = a[i], tonumber(a[i + 1]) * fs, tonumber(a[i + 2])
  i = i + 3
  local evicted = ss(P .. 'sources', capS, src, total)
  if evicted then redis.call('DEL', P .. 'succ:' .. evicted) end
  for _ = 1, ns do
    ss(P .. 'succ:' .. src, capN, a[i], tonumber(a[i + 1]) * fs)
    i = i + 2
  end
end
return 1
`;

/**
 * ARGV: per-user cap, user cap, then (user id, time, action) triples. Each
 * user's log is a list of "time|action"; users are a sorted set by last
 * activity, and the least recently active go beyond the user cap.
 */
export const appendActionsLua = `${helpers}
local perUser, users = tonumber(ARGV[1]), tonumber(ARGV[2])
local touched = {}
for i = 3, #ARGV, 3 do
  local u, t = ARGV[i], ARGV[i + 1]
  redis.call('RPUSH', P .. 'act:' .. u, t .. '|' .. ARGV[i + 2])
  -- GT still adds new members; it only keeps an existing score from going back.
  redis.call('ZADD', P .. 'actusers', 'GT', t, u)
  touched[u] = true
end
for u in pairs(touched) do redis.call('LTRIM', P .. 'act:' .. u, -perUser, -1) end
local over = redis.call('ZCARD', P .. 'actusers') - users
if over > 0 then
  local gone = redis.call('ZPOPMIN', P .. 'actusers', over)
  for i = 1, #gone, 2 do redis.call('DEL', P .. 'act:' .. gone[i]) end
end
return 1
`;

/** ARGV: cutoff. Drops users idle since before it, and older entries at the head of the others' logs. */
export const removeActionsLua = `${helpers}
local cutoff = tonumber(ARGV[1])
local removed = 0
local idle = redis.call('ZRANGEBYSCORE', P .. 'actusers', '-inf', '(' .. ARGV[1])
for _, u in ipairs(idle) do
  removed = removed + redis.call('LLEN', P .. 'act:' .. u)
  redis.call('DEL', P .. 'act:' .. u)
  redis.call('ZREM', P .. 'actusers', u)
end
local active = redis.call('ZRANGE', P .. 'actusers', 0, -1)
for _, u in ipairs(active) do
  local list = P .. 'act:' .. u
  local entries = redis.call('LRANGE', list, 0, -1)
  local keep = {}
  for _, e in ipairs(entries) do
    local t = tonumber(string.match(e, '^([^|]+)|'))
    if t >= cutoff then keep[#keep + 1] = e end
  end
  if #keep < #entries then
    removed = removed + #entries - #keep
    redis.call('DEL', list)
    if #keep == 0 then redis.call('ZREM', P .. 'actusers', u) end
    -- In chunks: unpack of a long list would overflow Lua's stack.
    for j = 1, #keep, 500 do redis.call('RPUSH', list, unpack(keep, j, math.min(j + 499, #keep))) end
  end
end
return removed
`;
