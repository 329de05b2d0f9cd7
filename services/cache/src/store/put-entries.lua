-- One tenant's share of a PutMany (RedisCacheStore.putMany): the entries and
-- their index memberships written together, as the MULTI it replaces did,
-- in one command instead of a few hundred queued ones.
-- KEYS: the entries' physical keys, then the index keys, then the tenant's
-- registry of indexes (absent when there are no indexes); all in the
-- tenant's slot ({tenant} hash tag).
-- ARGV[1]: number of entries E, ARGV[2]: number of indexes I, then per entry
-- its PX ttl in ms ('0': already expired, unlink it) and its value; then per
-- index its kind ('s' set, 'z' zset), ttl and count C followed by C members
-- (a zset's as score, member pairs); then the registry's ttl.
-- Like MULTI, a failing command does not stop the others; the first error is
-- the reply.
local E, I = tonumber(ARGV[1]), tonumber(ARGV[2])
local failure
local function call(...)
  local reply = redis.pcall(...)
  if type(reply) == 'table' and reply.err and not failure then failure = reply end
end
-- An index lives as long as its longest-lived member: NX sets the first
-- expiry, GT only ever extends it.
local function expire(key, ttl)
  call('PEXPIRE', key, ttl, 'NX')
  call('PEXPIRE', key, ttl, 'GT')
end
-- In slices: unpack() of thousands of values overflows Lua's C stack.
local function addAll(command, key, first, last, step)
  for i = first, last, step do call(command, key, unpack(ARGV, i, math.min(i + step - 1, last))) end
end

local a = 3
for k = 1, E do
  local ttl = ARGV[a]
  if ttl == '0' then call('UNLINK', KEYS[k]) else call('SET', KEYS[k], ARGV[a + 1], 'PX', ttl) end
  a = a + 2
end
local names = {}
for k = 1, I do
  local key, kind, ttl, count = KEYS[E + k], ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  addAll(kind == 'z' and 'ZADD' or 'SADD', key, a + 3, a + 2 + count, kind == 'z' and 1000 or 500)
  expire(key, ttl)
  names[k] = key
  a = a + 3 + count
end
if I > 0 then
  local registry = KEYS[E + I + 1]
  for i = 1, #names, 500 do call('SADD', registry, unpack(names, i, math.min(i + 499, #names))) end
  expire(registry, ARGV[a])
end
if failure then return failure end
return E
