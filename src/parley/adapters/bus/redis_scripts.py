"""Lua run inside Redis, so each step on a session is atomic across server instances.

Every script takes ``ARGV[1]`` = key prefix and ``ARGV[2]`` = the caller's wall clock, then its own
arguments. Keys are built inside the scripts, which suits a single Redis server (not a cluster):

    <p>s:<sid>           hash: org owner created delay ack last delivered acked, and take before:
                         the last take that handed events out, and delivered before it
    <p>s:<sid>:log       list: retained events, the first one numbered last - LLEN + 1
    <p>o:<org>:<owner>   set of session ids
    <p>idle              sorted set: session id by the time it expires; membership = alive
    <p>gone:<sid>        why the session went away (kept an hour)
    <p>w:<sid>           pub/sub channel that wakes polls waiting on the session
    <p>ty:due            sorted set: "<interaction>\\x1f<sender>" by the time its typing expires
    <p>ty:i:<iid>        hash: l:<sender> = last forwarded composing, m:<sender> = its meta
    <p>ev:<event id>     a recently published event (kept EVENT_ID_SECONDS)

A session whose expiry time has passed refuses service until ``sweep`` removes and reports it.
"""

from __future__ import annotations

from parley.adapters.bus import reasons
from parley.domain.typing import MAX_EXPIRES_SECONDS, RENEWAL_ABSORB_SECONDS

# How long Redis remembers a published event's id, so that an event held during an outage and
# published again cannot be delivered twice: longer than an outage one waits out.
EVENT_ID_SECONDS = 300


def _lua_string(text: str) -> str:
    return f"[=[{text}]=]"


_PRELUDE = f"""
local p = ARGV[1]
local now = tonumber(ARGV[2])
local UNKNOWN = {_lua_string(reasons.UNKNOWN)}
local DELETED = {_lua_string(reasons.DELETED)}
local EXPIRED = {_lua_string(reasons.EXPIRED)}
local BEHIND = {_lua_string(reasons.FELL_BEHIND)}
local EVENT_ID_SECONDS = {EVENT_ID_SECONDS}

local function skey(sid) return p .. 's:' .. sid end
-- A call that timed out may reach Redis later (after a stall): one whose late run would do
-- harm carries a deadline in Redis's time and refuses to run after it.
local function late(deadline)
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000 > tonumber(deadline)
end
local function okey(org, owner) return p .. 'o:' .. org .. ':' .. owner end
-- Keys outlive the inactivity delay and the longest poll, so only sweep ends a session.
local function ttl_of(delay) return delay * 3 + 120 end

local function refresh(s, delay, org, owner)
  local ttl = ttl_of(delay)
  redis.call('EXPIRE', s, ttl)
  redis.call('EXPIRE', s .. ':log', ttl)
  local o = okey(org, owner)
  if redis.call('TTL', o) < ttl then redis.call('EXPIRE', o, ttl) end
end

local function drop(sid, reason)
  local s = skey(sid)
  local f = redis.call('HMGET', s, 'org', 'owner')
  if f[1] then redis.call('SREM', okey(f[1], f[2]), sid) end
  redis.call('DEL', s, s .. ':log')
  redis.call('ZREM', p .. 'idle', sid)
  redis.call('SET', p .. 'gone:' .. sid, reason, 'EX', 3600)
  redis.call('PUBLISH', p .. 'w:' .. sid, '')
end

-- The live session's state, or nil and why it is gone.
local function load(sid)
  local deadline = redis.call('ZSCORE', p .. 'idle', sid)
  local f = redis.call('HMGET', skey(sid), 'org', 'owner', 'created', 'delay', 'ack', 'last',
                       'delivered', 'acked')
  if not deadline or not f[1] then
    return nil, redis.call('GET', p .. 'gone:' .. sid) or UNKNOWN
  end
  if tonumber(deadline) < now then return nil, string.format(EXPIRED, f[4]) end
  return {{raw = f, org = f[1], owner = f[2], delay = tonumber(f[4]), ack = f[5] == '1',
          last = tonumber(f[6]), delivered = tonumber(f[7]), acked = tonumber(f[8])}}
end
"""

CREATE = (
    _PRELUDE
    + """
local sid, org, owner, delay = ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[7])
local s = skey(sid)
redis.call('DEL', s, s .. ':log', p .. 'gone:' .. sid)
redis.call('HSET', s, 'org', org, 'owner', owner, 'created', ARGV[6], 'delay', ARGV[7],
           'ack', ARGV[8], 'last', 0, 'delivered', 0, 'acked', 0)
redis.call('ZADD', p .. 'idle', now + delay, sid)
redis.call('SADD', okey(org, owner), sid)
refresh(s, delay, org, owner)
"""
)

GET = (
    _PRELUDE
    + """
local st, why = load(ARGV[3])
if not st then return {'gone', why} end
return {'ok', st.raw[1], st.raw[2], st.raw[3], st.raw[4], st.raw[5]}
"""
)

TOUCH = (
    _PRELUDE
    + """
local sid = ARGV[3]
local st, why = load(sid)
if not st then return {'gone', why} end
redis.call('ZADD', p .. 'idle', 'GT', now + st.delay, sid)
refresh(skey(sid), st.delay, st.org, st.owner)
return {'ok'}
"""
)

DELETE = (
    _PRELUDE
    + """
local sid = ARGV[3]
local f = redis.call('HMGET', skey(sid), 'org', 'owner', 'created', 'delay', 'ack')
if not f[1] then return false end
drop(sid, DELETED)
return f
"""
)

SESSIONS_OF = (
    _PRELUDE
    + """
local o = okey(ARGV[3], ARGV[4])
local live = {}
for _, sid in ipairs(redis.call('SMEMBERS', o)) do
  local deadline = redis.call('ZSCORE', p .. 'idle', sid)
  if not deadline then redis.call('SREM', o, sid)
  elseif tonumber(deadline) >= now then live[#live + 1] = sid end
end
return live
"""
)

SWEEP = (
    _PRELUDE
    + """
local out = {}
for _, sid in ipairs(redis.call('ZRANGEBYSCORE', p .. 'idle', '-inf', '(' .. ARGV[2],
                                'LIMIT', 0, tonumber(ARGV[3]))) do
  local f = redis.call('HMGET', skey(sid), 'org', 'owner', 'created', 'delay', 'ack')
  if f[1] then
    drop(sid, string.format(EXPIRED, f[4]))
    out[#out + 1] = sid
    for i = 1, 5 do out[#out + 1] = f[i] end
  else
    redis.call('ZREM', p .. 'idle', sid)
  end
end
return out
"""
)

# Returns 'late' (not run), 'seen' (an event of that id was published already) or 'ok'.
PUBLISH = (
    _PRELUDE
    + """
local limit, blob, event_id, org = tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[7]
if late(ARGV[6]) then return 'late' end
if not redis.call('SET', p .. 'ev:' .. event_id, '', 'NX', 'EX', EVENT_ID_SECONDS) then return 'seen' end
for i = 8, #ARGV do
  local o = okey(org, ARGV[i])
  for _, sid in ipairs(redis.call('SMEMBERS', o)) do
    local s = skey(sid)
    local f = redis.call('HMGET', s, 'ack', 'delivered', 'acked', 'delay')
    if not f[1] then
      redis.call('SREM', o, sid)
    else
      local last = redis.call('HINCRBY', s, 'last', 1)
      if redis.call('RPUSH', s .. ':log', blob) == 1 then
        redis.call('EXPIRE', s .. ':log', ttl_of(tonumber(f[4])))
      end
      local cursor = tonumber(f[1] == '1' and f[3] or f[2])
      if last - cursor > limit then
        drop(sid, string.format(BEHIND, limit))
      else
        redis.call('PUBLISH', p .. 'w:' .. sid, '')
      end
    end
  end
end
return 'ok'
"""
)

# Returns {'ok', reset, first sequence number returned, event blobs...}, or {'late'}.
TAKE = (
    _PRELUDE
    + """
local sid = ARGV[3]
if late(ARGV[8]) then return {'late'} end
local st, why = load(sid)
if not st then return {'gone', why} end
local max, after, hold, retain = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]),
                                 tonumber(ARGV[7])
local s = skey(sid)
local log = s .. ':log'
local first = st.last - redis.call('LLEN', log) + 1
local reset, start = 0, 0
if after < 0 then
  start = (st.ack and st.acked or st.delivered) + 1
else
  if after + 1 < first and after < st.last then reset = first end
  start = math.max(after + 1, first)
end
local stop = math.min(st.last, start + max - 1)
local out = {'ok', reset, start}
if stop >= start then
  for _, blob in ipairs(redis.call('LRANGE', log, start - first, stop - first)) do
    out[#out + 1] = blob
  end
  if stop > st.delivered then
    redis.call('HSET', s, 'delivered', stop, 'take', ARGV[9], 'before', st.delivered)
    local keep_from = stop - retain + 1
    if not st.ack and keep_from > first then redis.call('LTRIM', log, keep_from - first, -1) end
  end
  hold = 0
elseif reset > 0 then
  hold = 0
end
-- A poll about to wait keeps its session alive until its timeout.
redis.call('ZADD', p .. 'idle', 'GT', now + st.delay + hold, sid)
refresh(s, st.delay, st.org, st.owner)
return out
"""
)

# A take whose answer never reached its caller: if it is still the session's last, what it
# handed out is handed out again.
UNTAKE = (
    _PRELUDE
    + """
local s = skey(ARGV[3])
local f = redis.call('HMGET', s, 'take', 'before')
if f[1] == ARGV[4] then redis.call('HSET', s, 'delivered', f[2], 'take', '') end
"""
)

ACKNOWLEDGE = (
    _PRELUDE
    + """
local st, why = load(ARGV[3])
if not st then return {'gone', why} end
local upto = math.min(tonumber(ARGV[4]), st.delivered)
if st.ack and upto > st.acked then
  local s = skey(ARGV[3])
  local first = st.last - redis.call('LLEN', s .. ':log') + 1
  redis.call('LTRIM', s .. ':log', upto - first + 1, -1)
  redis.call('HSET', s, 'acked', upto)
end
return {'ok'}
"""
)

_TYPING = f"""
local function member(iid, sender) return iid .. '\\31' .. sender end
local function state_key(iid) return p .. 'ty:i:' .. iid end
local ABSORB = {RENEWAL_ABSORB_SECONDS!r}
-- Only a safety net: every state leaves through stop, stop_interaction or expire.
local STATE_TTL = {MAX_EXPIRES_SECONDS * 20}
"""

TYPING_COMPOSING = (
    _PRELUDE
    + _TYPING
    + """
local iid, sender, expires_at = ARGV[3], ARGV[4], ARGV[5]
local h = state_key(iid)
local last = redis.call('HGET', h, 'l:' .. sender)
if last and now - tonumber(last) < ABSORB then
  redis.call('ZADD', p .. 'ty:due', 'GT', expires_at, member(iid, sender))
  return 0
end
redis.call('HSET', h, 'l:' .. sender, ARGV[2], 'm:' .. sender, ARGV[6])
redis.call('EXPIRE', h, STATE_TTL)
redis.call('ZADD', p .. 'ty:due', expires_at, member(iid, sender))
return 1
"""
)

TYPING_STOP = (
    _PRELUDE
    + _TYPING
    + """
local iid, sender = ARGV[3], ARGV[4]
local h = state_key(iid)
local meta = redis.call('HGET', h, 'm:' .. sender)
redis.call('HDEL', h, 'l:' .. sender, 'm:' .. sender)
redis.call('ZREM', p .. 'ty:due', member(iid, sender))
return meta
"""
)

# Returns sender, meta, sender, meta ...
TYPING_STOP_INTERACTION = (
    _PRELUDE
    + _TYPING
    + """
local iid = ARGV[3]
local h = state_key(iid)
local fields = redis.call('HGETALL', h)
local out = {}
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 'm:' then
    local sender = string.sub(fields[i], 3)
    out[#out + 1] = sender
    out[#out + 1] = fields[i + 1]
    redis.call('ZREM', p .. 'ty:due', member(iid, sender))
  end
end
redis.call('DEL', h)
return out
"""
)

# Returns member, meta, member, meta ...
TYPING_EXPIRE = (
    _PRELUDE
    + _TYPING
    + """
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', p .. 'ty:due', '-inf', ARGV[2])) do
  local cut = string.find(m, '\\31', 1, true)
  local iid, sender = string.sub(m, 1, cut - 1), string.sub(m, cut + 1)
  local h = state_key(iid)
  local meta = redis.call('HGET', h, 'm:' .. sender)
  redis.call('HDEL', h, 'l:' .. sender, 'm:' .. sender)
  redis.call('ZREM', p .. 'ty:due', m)
  if meta then
    out[#out + 1] = m
    out[#out + 1] = meta
  end
end
return out
"""
)
