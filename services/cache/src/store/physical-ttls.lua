-- Each entry's remaining life in ms (PTTL: -2 absent, -1 kept without an
-- expiry, which the store never writes), so that a freshness check of large
-- results reads no values: a 64 KB thumbnail's expiry costs what a CTR's does.
-- KEYS: one tenant's entry keys (the tenant's slot, {tenant} hash tag).
local out = {}
for i = 1, #KEYS do out[i] = redis.call('PTTL', KEYS[i]) end
return out
