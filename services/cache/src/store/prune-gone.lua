-- Takes entries that left the budget's ledger (expired, evicted, deleted,
-- invalidated) out of one tenant's indexes at once, where Redis no longer
-- holds them: an entry written again since keeps its members, as a
-- concurrent Put must never lose its index. The ledger does not keep which
-- indexes an entry joined, so the entry is taken out of all of the
-- tenant's: its keys set, and each index its registry names while those
-- are few (a tenant's model zsets, say). Where there are more (tags come by
-- the thousand), only the keys set is pruned here and the rest is left to
-- the sweeper: the script answers how many entries that is.
-- KEYS[1]: the tenant's keys set, KEYS[2]: its registry of indexes.
-- ARGV: most indexes to prune from, the tenant's entry key prefix
-- (`{p}{tenant}`), the tenant's length (a member `tenant/type/subject` is
-- the entry `{p}{tenant}/type/subject`), SOON, then the canonical keys.
-- Returns {members removed, entries left to the sweeper}.
-- An entry still there but about to expire (within SOON ms) is one the
-- ledger saw expire a moment before Redis will (its PX was set a little
-- after the ledger's expiry was taken, or on another clock): left to the
-- sweeper too, since pruning a live entry's members would hide it from an
-- invalidation.
local keysSet, registry = KEYS[1], KEYS[2]
local MAX, prefix, from, SOON = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]) + 1, tonumber(ARGV[4])
local gone, soon = {}, 0
for i = 5, #ARGV do
  local ttl = redis.call('PTTL', prefix .. string.sub(ARGV[i], from))
  if ttl == -2 then
    gone[#gone + 1] = ARGV[i]
  elseif ttl >= 0 and ttl <= SOON then
    soon = soon + 1
  end
end
if #gone == 0 then return { 0, soon } end
local removed = 0
-- In slices: unpack() of thousands of values overflows Lua's C stack.
local function removeAll(command, index)
  for i = 1, #gone, 500 do
    removed = removed + redis.call(command, index, unpack(gone, i, math.min(i + 499, #gone)))
  end
end
removeAll('SREM', keysSet)
if redis.call('SCARD', registry) > MAX then return { removed, #gone + soon } end
for _, index in ipairs(redis.call('SMEMBERS', registry)) do
  removeAll(string.find(index, '}:model:', 1, true) and 'ZREM' or 'SREM', index)
end
return { removed, soon }
