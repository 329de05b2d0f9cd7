-- Selects dead ids: the first LIMIT of the set ('all'), or those of ARGV[first..] still dead ('ids').
local function selectDead(mode, limit, first)
  if mode == 'all' then return redis.call('ZRANGE', B .. 'dead', 0, limit - 1) end
  local ids = {}
  for i = first, #ARGV do
    if redis.call('ZSCORE', B .. 'dead', ARGV[i]) then ids[#ids + 1] = ARGV[i] end
  end
  return ids
end
