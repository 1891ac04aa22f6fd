//! The Redis registry: many broker nodes share one Redis. Each code is one
//! key (`ra:code:LOOKUP`, a JSON record) with the code's TTL; claims, reports
//! and re-attaches are Lua scripts, so each is atomic across nodes.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::{
    ClaimOutcome, CodeRecord, NodeAddresses, Registry, RegistryError, RelayRecord, ReportOutcome,
};
use crate::rate_limit::{Limit, SourceKey};

const CODE_PREFIX: &str = "ra:code:";
const NODE_PREFIX: &str = "ra:node:";
const RATE_PREFIX: &str = "ra:rate:";
const RELAY_PREFIX: &str = "ra:relay:";
/// Every announced node, scored by when its announcement runs out.
const NODES_BY_EXPIRY: &str = "ra:nodes";
/// Every registered lookup, scored by when it expires: what `code_count`
/// counts (a used code stays counted until its time is up).
const CODES_BY_EXPIRY: &str = "ra:codes";

/// A token bucket in a hash (`tokens`, `at` in ms of the server's clock,
/// so every node agrees): refills ARGV[1] tokens a minute, takes one if it
/// can; returns 0, or the milliseconds until the next token.
const TAKE_TOKEN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_minute = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or per_minute
local at = tonumber(state[2]) or now
tokens = math.min(per_minute, tokens + math.max(0, now - at) * per_minute / 60000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 60000 / per_minute)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 120000)
return wait
";

const CLAIM: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return {'unavailable'} end
local r = cjson.decode(v)
if r.role ~= tonumber(ARGV[1]) or r.state ~= 'waiting' then return {'unavailable'} end
if r.owner ~= ARGV[2] then return {'owner', r.owner} end
local claims = tonumber(r.claims) or 0
if claims >= tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[1])
  return {'exhausted'}
end
r.claims = claims + 1
r.state = 'claimed'
r.match_id = ARGV[3]
local out = cjson.encode(r)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
return {'claimed', out}
";

const REPORT: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return 'unknown' end
local r = cjson.decode(v)
if r.state ~= 'claimed' or r.match_id ~= ARGV[1] then return 'unknown' end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
  return 'used'
end
r.failures = r.failures + 1
if r.failures >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return 'dead'
end
r.state = 'waiting'
r.match_id = ''
redis.call('SET', KEYS[1], cjson.encode(r), 'KEEPTTL')
return 'retry'
";

const ATTACH: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local r = cjson.decode(v)
r.owner = ARGV[1]
r.observed = ARGV[2]
r.locals = ARGV[3]
r.state = 'waiting'
r.match_id = ''
redis.call('SET', KEYS[1], cjson.encode(r), 'KEEPTTL')
return 1
";

/// Codes in a Redis server shared by the broker's nodes.
#[derive(Clone)]
pub struct RedisRegistry {
    connection: ConnectionManager,
    claim: Script,
    report: Script,
    attach: Script,
    take_token: Script,
}

impl std::fmt::Debug for RedisRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRegistry").finish_non_exhaustive()
    }
}

impl RedisRegistry {
    /// Connects to `url` (`redis://HOST:PORT`); reconnects on its own later.
    ///
    /// # Errors
    /// [`RegistryError::Redis`] when the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, RegistryError> {
        let client = redis::Client::open(url)?;
        let connection = ConnectionManager::new(client).await?;
        Ok(RedisRegistry {
            connection,
            claim: Script::new(CLAIM),
            report: Script::new(REPORT),
            attach: Script::new(ATTACH),
            take_token: Script::new(TAKE_TOKEN),
        })
    }
}

fn key(lookup: &str) -> String {
    format!("{CODE_PREFIX}{lookup}")
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, RegistryError> {
    serde_json::to_string(value).map_err(|e| RegistryError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, RegistryError> {
    serde_json::from_str(text).map_err(|e| RegistryError::Corrupt(e.to_string()))
}

/// The wall clock in Unix milliseconds (what the sets are scored by).
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Registry for RedisRegistry {
    async fn register(
        &self,
        lookup: &str,
        record: &CodeRecord,
        ttl: Duration,
    ) -> Result<bool, RegistryError> {
        let mut connection = self.connection.clone();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let set: Option<String> = redis::cmd("SET")
            .arg(key(lookup))
            .arg(to_json(record)?)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut connection)
            .await?;
        if set.is_some() {
            let _: i64 = connection
                .zadd(CODES_BY_EXPIRY, lookup, record.expires_at_ms)
                .await?;
        }
        Ok(set.is_some())
    }

    async fn get(&self, lookup: &str) -> Result<Option<CodeRecord>, RegistryError> {
        let mut connection = self.connection.clone();
        let value: Option<String> = connection.get(key(lookup)).await?;
        value.as_deref().map(from_json).transpose()
    }

    async fn attach(
        &self,
        lookup: &str,
        node: &str,
        observed: &str,
        locals: &[String],
    ) -> Result<bool, RegistryError> {
        let mut connection = self.connection.clone();
        let attached: i64 = self
            .attach
            .key(key(lookup))
            .arg(node)
            .arg(observed)
            .arg(locals.join(","))
            .invoke_async(&mut connection)
            .await?;
        Ok(attached == 1)
    }

    async fn claim(
        &self,
        lookup: &str,
        waiter_role: i32,
        node: &str,
        match_id: &str,
        max_claims: u32,
    ) -> Result<ClaimOutcome, RegistryError> {
        let mut connection = self.connection.clone();
        let reply: Vec<String> = self
            .claim
            .key(key(lookup))
            .arg(waiter_role)
            .arg(node)
            .arg(match_id)
            .arg(max_claims)
            .invoke_async(&mut connection)
            .await?;
        match reply.as_slice() {
            [kind] if kind == "exhausted" => Ok(ClaimOutcome::Exhausted),
            [kind, record] if kind == "claimed" => Ok(ClaimOutcome::Claimed(from_json(record)?)),
            [kind, owner] if kind == "owner" => Ok(ClaimOutcome::OwnedBy(owner.clone())),
            _ => Ok(ClaimOutcome::Unavailable),
        }
    }

    async fn report(
        &self,
        lookup: &str,
        match_id: &str,
        success: bool,
        max_failures: u32,
    ) -> Result<ReportOutcome, RegistryError> {
        let mut connection = self.connection.clone();
        let reply: String = self
            .report
            .key(key(lookup))
            .arg(match_id)
            .arg(if success { "1" } else { "0" })
            .arg(max_failures)
            .invoke_async(&mut connection)
            .await?;
        Ok(match reply.as_str() {
            "used" => ReportOutcome::Used,
            "dead" => ReportOutcome::Dead,
            "retry" => ReportOutcome::Retry,
            _ => ReportOutcome::Unknown,
        })
    }

    async fn remove(&self, lookup: &str) -> Result<(), RegistryError> {
        let mut connection = self.connection.clone();
        let _: i64 = connection.del(key(lookup)).await?;
        let _: i64 = connection.zrem(CODES_BY_EXPIRY, lookup).await?;
        Ok(())
    }

    async fn announce_node(
        &self,
        node: &str,
        addrs: &NodeAddresses,
        ttl: Duration,
    ) -> Result<(), RegistryError> {
        let mut connection = self.connection.clone();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let _: () = redis::pipe()
            .cmd("SET")
            .arg(format!("{NODE_PREFIX}{node}"))
            .arg(to_json(addrs)?)
            .arg("PX")
            .arg(ttl_ms)
            .ignore()
            .zadd(NODES_BY_EXPIRY, node, now_ms().saturating_add(ttl_ms))
            .ignore()
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    async fn node(&self, node: &str) -> Result<Option<NodeAddresses>, RegistryError> {
        let mut connection = self.connection.clone();
        let text: Option<String> = connection.get(format!("{NODE_PREFIX}{node}")).await?;
        text.as_deref().map(from_json).transpose()
    }

    async fn live_nodes(&self) -> Result<Vec<(String, NodeAddresses)>, RegistryError> {
        let mut connection = self.connection.clone();
        let _: i64 = connection
            .zrembyscore(NODES_BY_EXPIRY, "-inf", now_ms())
            .await?;
        let mut names: Vec<String> = connection.zrange(NODES_BY_EXPIRY, 0, -1).await?;
        names.sort();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = names.iter().map(|n| format!("{NODE_PREFIX}{n}")).collect();
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut connection)
            .await?;
        names
            .into_iter()
            .zip(values)
            .filter_map(|(name, value)| value.map(|v| (name, v)))
            .map(|(name, value)| Ok((name, from_json(&value)?)))
            .collect()
    }

    async fn store_relay(&self, record: &RelayRecord, ttl: Duration) -> Result<(), RegistryError> {
        let mut connection = self.connection.clone();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let value = to_json(record)?;
        let mut pipe = redis::pipe();
        for token in &record.tokens {
            pipe.cmd("SET")
                .arg(format!("{RELAY_PREFIX}{token}"))
                .arg(&value)
                .arg("PX")
                .arg(ttl_ms)
                .ignore();
        }
        let _: () = pipe.query_async(&mut connection).await?;
        Ok(())
    }

    async fn relay(&self, token: &str) -> Result<Option<RelayRecord>, RegistryError> {
        let mut connection = self.connection.clone();
        let text: Option<String> = connection.get(format!("{RELAY_PREFIX}{token}")).await?;
        text.as_deref().map(from_json).transpose()
    }

    async fn code_count(&self) -> Result<u64, RegistryError> {
        let mut connection = self.connection.clone();
        let _: i64 = connection
            .zrembyscore(CODES_BY_EXPIRY, "-inf", now_ms())
            .await?;
        Ok(connection.zcard(CODES_BY_EXPIRY).await?)
    }

    async fn take_token(
        &self,
        limit: Limit,
        source: SourceKey,
        per_minute: u32,
    ) -> Result<Result<(), Duration>, RegistryError> {
        let mut connection = self.connection.clone();
        let wait_ms: u64 = self
            .take_token
            .key(format!("{RATE_PREFIX}{}:{source}", limit.as_str()))
            .arg(per_minute.max(1))
            .invoke_async(&mut connection)
            .await?;
        Ok(match wait_ms {
            0 => Ok(()),
            ms => Err(Duration::from_millis(ms)),
        })
    }
}
