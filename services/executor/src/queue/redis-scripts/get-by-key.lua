-- ARGV: B, NOW, key. Returns the record of the key's newest task, or {}.
--- @include "lib"
local id = redis.call('GET', kkey(ARGV[3]))
if not id then return {} end
return redis.call('HGETALL', tkey(id))
