-- Applies one ingest batch's counter deltas (RedisAnalyzerStore.applyCounters).
-- KEYS[1]: the key prefix (includes/helpers.lua).
-- ARGV: landmark, rate demand/profile/successors/keys, capacities (keys, entities,
-- tenants, types, sources, successors per source), events, first time, then
-- counted sections: keys (key, w, miss), entities (m, w), tenants (m, w),
-- types (name, w, hit, stale, miss, computeW, computeSum, n, (bucket, w)xn),
-- hours (h, w), successors (source, total, n, (key, w)xn).
--- @include "helpers"
local a = ARGV
local L = tonumber(a[1])
local rd, rp, rs, rk = tonumber(a[2]), tonumber(a[3]), tonumber(a[4]), tonumber(a[5])
local capK, capE, capT, capY, capS, capN = tonumber(a[6]), tonumber(a[7]), tonumber(a[8]), tonumber(a[9]), tonumber(a[10]), tonumber(a[11])
local meta = P .. 'meta'
-- Key weights held under another key rate would be read as if under this one,
-- wildly off: they start over. A store from before keys had a rate of their
-- own holds them under the demand rate, so it keeps them if that is the same.
local keyrate = redis.call('HGET', meta, 'keyrate')
if keyrate ~= a[5] then
  if keyrate or a[5] ~= a[2] then redis.call('DEL', P .. 'keys', P .. 'keymiss', P .. 'keyerr') end
  redis.call('HSET', meta, 'keyrate', a[5])
end
local stored = tonumber(redis.call('HGET', meta, 'landmark'))
local fd, fp, fs, fk = 1, 1, 1, 1
if not stored then
  redis.call('HSET', meta, 'landmark', a[1])
elseif L > stored then
  local d, p, s = math.exp(-rd * (L - stored)), math.exp(-rp * (L - stored)), math.exp(-rs * (L - stored))
  local k = math.exp(-rk * (L - stored))
  scalez(P .. 'keys', k) scaleh(P .. 'keymiss', k) scaleh(P .. 'keyerr', k)
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
  fk = math.exp(-rk * (stored - L))
end
local events = tonumber(a[12])
if events > 0 then
  redis.call('HINCRBY', meta, 'events', events)
  local first = tonumber(redis.call('HGET', meta, 'first'))
  if not first or tonumber(a[13]) < first then redis.call('HSET', meta, 'first', a[13]) end
end
local i = 14
local n = tonumber(a[i]) i = i + 1
for _ = 1, n do
  local k, w, miss = a[i], tonumber(a[i + 1]) * fk, tonumber(a[i + 2]) * fk
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
