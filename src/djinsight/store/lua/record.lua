#!lua
-- record.lua: count one view and append it to its shard's stream, atomically.
-- The beacon's one round trip (EVALSHA); packed by scripts.record_call.
--
-- KEYS[1] = counter:<name>: the object's live views (exists once trim.lua seeded it)
-- KEYS[2] = unique_counter:<name>: its live unique views
-- KEYS[3] = session:<visitor>:page:<name>: the visitor's unique mark, with a TTL (set
--           only while the object has had fewer than ARGV[11] visitors that day)
-- KEYS[4] = stats:<name>: hash of first/last view and views per day
-- KEYS[5] = buffer:<shard>: the shard's stream of views not yet trimmed
-- KEYS[6] = pending:<shard>: hash of views of objects not seeded yet
-- KEYS[7] = objects:<shard>: sorted set of objects by last view
-- KEYS[8] = deleted:<name>: the object's tombstone, set when it was deleted
-- KEYS[9] = hll:<name>:<day>: HyperLogLog of the object's visitors that day
-- KEYS[10] = hll_claimed:<name>:<day>: the part of its estimate counted as unique views
-- ARGV[1] = object name, app_label.model_name:pk
-- ARGV[2] = visitor hash
-- ARGV[3] = view time, ms since the epoch
-- ARGV[4] = the view's local day, YYYYMMDD
-- ARGV[5] = unique-mark TTL, seconds (DJINSIGHT_REDIS_EXPIRATION)
-- ARGV[6] = path
-- ARGV[7] = referrer
-- ARGV[8] = user agent
-- ARGV[9] = anonymised IP, or ''
-- ARGV[10] = oldest day kept in the stats hash, YYYYMMDD (older day fields are pruned)
-- ARGV[11] = visitors per object and day given exact marks (DJINSIGHT_UNIQUE_EXACT_LIMIT)
-- Names from store/keys.py, bound by scripts.source:
--   STATS_FIRST STATS_LAST STATS_DAY STATS_PRUNE_ABOVE PENDING_UNIQUE PENDING_DAY
--   ENTRY_OBJECT ENTRY_VISITOR ENTRY_UNIQUE ENTRY_PENDING ENTRY_DAY ENTRY_TIME
--   ENTRY_PATH ENTRY_REFERRER ENTRY_USER_AGENT ENTRY_IP RECORD_DELETED DAY_VISITORS_TTL
-- Returns 1 if the view is unique, else 0: the visitor's first within ARGV[5] while the
-- object has had fewer than ARGV[11] visitors that day; past that, one view per unit the
-- day's HyperLogLog estimate rises (memory stays bounded whatever visitors clients invent);
--   RECORD_DELETED, having written nothing, if the object's tombstone exists.

if redis.call('EXISTS', KEYS[8]) == 1 then return RECORD_DELETED end
local unique = 0
local seen = redis.call('PFCOUNT', KEYS[9])
local added = redis.call('PFADD', KEYS[9], ARGV[2])
if seen == 0 then redis.call('EXPIRE', KEYS[9], DAY_VISITORS_TTL) end
if seen < tonumber(ARGV[11]) then
  if redis.call('SET', KEYS[3], '1', 'NX', 'EX', ARGV[5]) then unique = 1 end
else
  -- a rise of the estimate can exceed 1: each view claims at most one unit of it, so
  -- the day's unique views add up to the estimate (a repeat view may claim a rise)
  local claimed = tonumber(redis.call('GET', KEYS[10]))
  if not claimed then
    claimed = seen
    redis.call('SET', KEYS[10], seen, 'EX', DAY_VISITORS_TTL)
  end
  if added == 1 then seen = redis.call('PFCOUNT', KEYS[9]) end
  if seen > claimed then
    unique = 1
    redis.call('INCR', KEYS[10])
  end
end
local p = 0
local new_day = false
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCR', KEYS[1])
  if unique == 1 then redis.call('INCR', KEYS[2]) end
  new_day = redis.call('HINCRBY', KEYS[4], STATS_DAY .. ARGV[4], 1) == 1
else
  -- live counters not seeded from the database yet: count in the pending hash
  p = 1
  redis.call('HINCRBY', KEYS[6], ARGV[1], 1)
  if unique == 1 then redis.call('HINCRBY', KEYS[6], ARGV[1] .. PENDING_UNIQUE, 1) end
  redis.call('HINCRBY', KEYS[6], ARGV[1] .. PENDING_DAY .. ARGV[4], 1)
end
-- first/last view: one read, at most one write (ts may be backdated, so keep min/max)
local ts = tonumber(ARGV[3])
local fl = redis.call('HMGET', KEYS[4], STATS_FIRST, STATS_LAST)
local earlier = not fl[1] or tonumber(fl[1]) > ts
local later = not fl[2] or tonumber(fl[2]) < ts
if earlier and later then redis.call('HSET', KEYS[4], STATS_FIRST, ARGV[3], STATS_LAST, ARGV[3])
elseif earlier then redis.call('HSET', KEYS[4], STATS_FIRST, ARGV[3])
elseif later then redis.call('HSET', KEYS[4], STATS_LAST, ARGV[3]) end
-- the hash only grows by a day field, so only a new one can take it past the window
if new_day and redis.call('HLEN', KEYS[4]) > STATS_PRUNE_ABOVE then
  local oldest = STATS_DAY .. ARGV[10]
  for _, k in ipairs(redis.call('HKEYS', KEYS[4])) do
    if string.sub(k, 1, #STATS_DAY) == STATS_DAY and k < oldest then
      redis.call('HDEL', KEYS[4], k)
    end
  end
end
redis.call('XADD', KEYS[5], '*', ENTRY_OBJECT, ARGV[1], ENTRY_VISITOR, ARGV[2],
  ENTRY_UNIQUE, unique, ENTRY_PENDING, p, ENTRY_DAY, ARGV[4], ENTRY_TIME, ARGV[3],
  ENTRY_PATH, ARGV[6], ENTRY_REFERRER, ARGV[7], ENTRY_USER_AGENT, ARGV[8], ENTRY_IP, ARGV[9])
-- objects by last view: the score only moves when the last view does
if later then redis.call('ZADD', KEYS[7], ts, ARGV[1]) end
return unique
