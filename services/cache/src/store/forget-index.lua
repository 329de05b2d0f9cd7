-- Forgets an index name once its index has expired away.
-- KEYS: the tenant's registry of indexes, the index. ARGV[1]: the index's name.
if redis.call('exists', KEYS[2]) == 0 then return redis.call('srem', KEYS[1], ARGV[1]) end
return 0
