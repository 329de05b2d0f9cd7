-- Features of many entities of one tenant in one call (RedisEntityStore.upsertMany),
-- instead of a pipeline of two commands per entity.
-- KEYS: the entities' hashes, all in the tenant's slot ({tenant} hash tag).
-- ARGV[1]: the ttl in ms ('0': none); then per key the number of fields F,
-- followed by F field, value pairs. HSET merges field by field, as an upsert
-- should; the ttl restarts with every upsert.
local ttl = ARGV[1]
local a = 2
for k = 1, #KEYS do
  local n = tonumber(ARGV[a])
  if n > 0 then redis.call('HSET', KEYS[k], unpack(ARGV, a + 1, a + 2 * n)) end
  if ttl ~= '0' then redis.call('PEXPIRE', KEYS[k], ttl) end
  a = a + 1 + 2 * n
end
return #KEYS
