// The Lua scripts of the Redis store. Each decides and writes in one atomic
// step on the record as it is at that moment, using Redis server time, so
// gateway clocks never matter and no read-then-write race exists. A record
// is one hash at KEYS[1]: fp, owner, state ("in_progress" | "completed"),
// lease_until (server epoch ms, while in progress), outcome (once completed).
// Replies are arrays whose first element names the result; anything that
// does not look like a record we wrote is answered with "corrupt", never
// repaired or overwritten.

/** Shared prologue: server time and the record, validated. */
const LOAD_RECORD = `
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local kind = redis.call('TYPE', key)['ok']
local rec = nil
if kind == 'hash' then
  local f = redis.call('HMGET', key, 'fp', 'owner', 'state', 'lease_until', 'outcome')
  rec = { fp = f[1], owner = f[2], state = f[3], lease_until = tonumber(f[4] or ''), outcome = f[5] }
end
local function corrupt_reason()
  if kind ~= 'hash' then return 'record is a ' .. kind .. ', not a hash' end
  if not rec.fp or rec.fp == '' or not rec.owner or rec.owner == '' then return 'record has no fingerprint or owner' end
  if rec.state == 'in_progress' then
    -- Without a lease it is corrupt, not an orphan: taking it over could
    -- run a call that is still running a second time.
    if not rec.lease_until then return 'in-progress record has no lease expiry' end
  elseif rec.state == 'completed' then
    if not rec.outcome then return 'completed record has no outcome' end
  else
    return 'record has an unknown state'
  end
  return nil
end
`;

/**
 * The fence of every write by an owner, after LOAD_RECORD with `owner` set
 * (and `fp` for writes that carry the fingerprint): a missing, completed or
 * someone else's record is refused before anything is written.
 */
const FENCE = `
if kind == 'none' then return {'missing'} end
local bad = corrupt_reason()
if bad then return {'corrupt', bad} end
if rec.state == 'completed' then return {'already_completed'} end
if rec.owner ~= owner then return {'not_owner'} end
if fp and rec.fp ~= fp then return {'corrupt', 'fingerprint changed under the same owner'} end
`;

/**
 * ARGV: fingerprint, owner, lease ms, key TTL ms.
 * Replies: {claimed} (also when the record is already this owner's)
 * {reclaimed, previous owner} {replay, outcome} {mismatch, state}
 * {in_flight, lease ms left} {corrupt, reason}.
 */
export const CLAIM_SCRIPT = `${LOAD_RECORD}
local fp, owner = ARGV[1], ARGV[2]
local lease_ms, key_ttl_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local lease_until = string.format('%.0f', now + lease_ms)
if kind == 'none' then
  redis.call('HSET', key, 'fp', fp, 'owner', owner, 'state', 'in_progress', 'lease_until', lease_until)
  redis.call('PEXPIRE', key, key_ttl_ms)
  return {'claimed'}
end
local bad = corrupt_reason()
if bad then return {'corrupt', bad} end
if rec.fp ~= fp then return {'mismatch', rec.state} end
if rec.state == 'completed' then return {'replay', rec.outcome} end
-- The same claim again (a client that resent it after a reconnect): it is
-- already ours, so the caller must not wait on itself.
if rec.owner == owner then return {'claimed'} end
if rec.lease_until > now then return {'in_flight', rec.lease_until - now} end
-- Takeover of an expired lease, decided and written on the record as it is
-- now, never by an unconditional SET over whatever is there.
redis.call('HSET', key, 'owner', owner, 'lease_until', lease_until)
redis.call('PEXPIRE', key, key_ttl_ms)
return {'reclaimed', rec.owner}
`;

/**
 * ARGV: owner, fingerprint, outcome, TTL ms.
 * Replies: {applied} {missing} {not_owner} {already_completed} {corrupt, reason}.
 */
export const COMPLETE_SCRIPT = `${LOAD_RECORD}
local owner, fp, outcome, ttl_ms = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
${FENCE}-- fp is left in place: the completed record keeps its fingerprint, so a
-- retry with other parameters is a mismatch, never a replay.
redis.call('HSET', key, 'state', 'completed', 'outcome', outcome)
redis.call('HDEL', key, 'lease_until')
redis.call('PEXPIRE', key, ttl_ms)
return {'applied'}
`;

/**
 * ARGV: owner.
 * Replies: {applied} {missing} {not_owner} {already_completed} {corrupt, reason}.
 */
export const RELEASE_SCRIPT = `${LOAD_RECORD}
local owner, fp = ARGV[1], nil
${FENCE}redis.call('DEL', key)
return {'applied'}
`;

/**
 * ARGV: owner, fingerprint, lease ms, key TTL ms.
 * Replies: {renewed} {restored} {not_owner} {already_completed} {corrupt, reason}.
 */
export const RENEW_SCRIPT = `${LOAD_RECORD}
local owner, fp = ARGV[1], ARGV[2]
local lease_ms, key_ttl_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local lease_until = string.format('%.0f', now + lease_ms)
if kind == 'none' then
  -- The record is gone while its owner still runs (a restart without
  -- persistence): hold the token again, or a duplicate would run alongside.
  redis.call('HSET', key, 'fp', fp, 'owner', owner, 'state', 'in_progress', 'lease_until', lease_until)
  redis.call('PEXPIRE', key, key_ttl_ms)
  return {'restored'}
end
${FENCE}
redis.call('HSET', key, 'lease_until', lease_until)
redis.call('PEXPIRE', key, key_ttl_ms)
return {'renewed'}
`;

/**
 * ARGV: owner.
 * Replies: {applied} {missing} {not_owner} {already_completed} {corrupt, reason}.
 */
export const ABANDON_SCRIPT = `${LOAD_RECORD}
local owner, fp = ARGV[1], nil
${FENCE}-- The lease ends now; the record stays, so the next claim is a takeover.
redis.call('HSET', key, 'lease_until', string.format('%.0f', now))
return {'applied'}
`;

/**
 * No ARGV. Replies: {none} {in_progress, fp, owner, lease ms left (>= 0)}
 * {completed, fp, owner, outcome} {corrupt, reason}.
 */
export const READ_SCRIPT = `${LOAD_RECORD}
if kind == 'none' then return {'none'} end
local bad = corrupt_reason()
if bad then return {'corrupt', bad} end
if rec.state == 'completed' then return {'completed', rec.fp, rec.owner, rec.outcome} end
return {'in_progress', rec.fp, rec.owner, math.max(0, rec.lease_until - now)}
`;

/** Every script, for loading them onto each node ahead of use. */
export const IDEMPOTENCY_SCRIPTS: readonly string[] = [
  CLAIM_SCRIPT,
  RENEW_SCRIPT,
  COMPLETE_SCRIPT,
  RELEASE_SCRIPT,
  ABANDON_SCRIPT,
  READ_SCRIPT,
];
