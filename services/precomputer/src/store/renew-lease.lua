-- Extends a run's lease while its owner still holds it.
-- KEYS: run record, lease. ARGV: owner, leaseMs. Returns 1 when renewed, else 0.
--- @include "owned-run"
if not ownedRun(ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
