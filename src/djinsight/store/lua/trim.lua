#!lua flags=allow-oom
-- trim.lua: after a flush committed, drop the stream entries it applied, take
-- their views out of the pending hash and seed live counters; idempotent.
-- Packed by scripts.trim_call. It must run while Redis is at maxmemory, to empty a
-- full Redis: flags=allow-oom on Redis 7; on older servers, which get it without
-- the flags line, its first write is XTRIM, which Redis never refuses for memory,
-- and a script that has written is let finish. It frees memory (XTRIM, pending
-- decrements) before it adds any (the trimmed mark, seeded counters).
--
-- KEYS[1] = buffer:<shard>: the shard's stream
-- KEYS[2] = pending:<shard>: hash of views of objects not seeded yet
-- KEYS[3] = trimmed:<shard>: stream id up to which entries were trimmed
-- KEYS[4+] = per seed, four keys: counter:<name>, unique_counter:<name>, stats:<name>,
--   deleted:<name> (a tombstone: the object was deleted since, so it is not seeded)
-- ARGV[1] = watermark W: the stream id up to which entries were applied
-- ARGV[2] = the watermark the applied batch started after, or '' if ARGV[3] is 0
-- ARGV[3] = n: how many pending-hash decrements follow
-- ARGV[4+] = n pairs (pending-hash field, views to take back); then, if there are
--   seeds, the day window: its length m and m days (YYYYMMDD); then per seed:
--   object name, total views, unique views, d, and d pairs (day, views that day)
-- Names from store/keys.py, bound by scripts.source:
--   STATS_DAY PENDING_UNIQUE PENDING_DAY ENTRY_OBJECT ENTRY_UNIQUE ENTRY_PENDING ENTRY_DAY
-- Returns 1 if it trimmed, 0 if entries up to W were trimmed already.

local w = ARGV[1]
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function newer(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  return ams > bms or (ams == bms and aseq > bseq)
end
-- pending-hash fields to take views back from, in order, and how many
local fields, back = {}, {}
local function take_back(fld, n)
  if not back[fld] then
    table.insert(fields, fld)
    back[fld] = 0
  end
  back[fld] = back[fld] + n
end
local done = redis.call('GET', KEYS[3])
if done and not newer(w, done) then return 0 end
local ndec = tonumber(ARGV[3])
-- the pending views of the entries to trim, counted before anything is written
if redis.call('HLEN', KEYS[2]) > 0 then
  local from = ARGV[2]
  if from ~= '' and ((not done and from == '0-0') or done == from) then
    -- the caller counted the pending views of exactly the entries being trimmed
    for i = 1, ndec do take_back(ARGV[2 + 2 * i], tonumber(ARGV[3 + 2 * i])) end
  else
    -- recovery: entries a crashed flush applied; count them here
    local start = '-'
    if done then start = '(' .. done end
    for _, entry in ipairs(redis.call('XRANGE', KEYS[1], start, w)) do
      local e = {}
      local kv = entry[2]
      for i = 1, #kv, 2 do e[kv[i]] = kv[i + 1] end
      if e[ENTRY_PENDING] == '1' then
        take_back(e[ENTRY_OBJECT], 1)
        take_back(e[ENTRY_OBJECT] .. PENDING_DAY .. e[ENTRY_DAY], 1)
        if e[ENTRY_UNIQUE] == '1' then take_back(e[ENTRY_OBJECT] .. PENDING_UNIQUE, 1) end
      end
    end
  end
end
-- the first write: the applied entries go (see the header)
local ms, seq = parse(w)
redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. (seq + 1))
for _, fld in ipairs(fields) do
  if redis.call('HINCRBY', KEYS[2], fld, -back[fld]) <= 0 then redis.call('HDEL', KEYS[2], fld) end
end
redis.call('SET', KEYS[3], w)
-- seed live counters of objects that have none, from the database figures at w
-- (unless deleted after the flush read them: a seed would outlive the object);
-- the day window is sent once, each seed's days only where the database has views
local a = 4 + 2 * ndec
local window = {}
if a <= #ARGV then
  for i = 1, tonumber(ARGV[a]) do window[i] = ARGV[a + i] end
  a = a + 1 + #window
end
local k = 4
while a <= #ARGV do
  local name = ARGV[a]
  local ndays = tonumber(ARGV[a + 3])
  if redis.call('EXISTS', KEYS[k]) == 0 and redis.call('EXISTS', KEYS[k + 3]) == 0 then
    local pend = tonumber(redis.call('HGET', KEYS[2], name) or '0')
    local upend = tonumber(redis.call('HGET', KEYS[2], name .. PENDING_UNIQUE) or '0')
    redis.call('SET', KEYS[k], tonumber(ARGV[a + 1]) + pend)
    redis.call('SET', KEYS[k + 1], tonumber(ARGV[a + 2]) + upend)
    local stored = {}
    for i = 1, ndays do stored[ARGV[a + 2 + 2 * i]] = tonumber(ARGV[a + 3 + 2 * i]) end
    for _, day in ipairs(window) do
      local n = (stored[day] or 0) + tonumber(redis.call('HGET', KEYS[2], name .. PENDING_DAY .. day) or '0')
      if n > 0 then redis.call('HSET', KEYS[k + 2], STATS_DAY .. day, n) end
    end
  end
  a = a + 4 + 2 * ndays
  k = k + 4
end
return 1
