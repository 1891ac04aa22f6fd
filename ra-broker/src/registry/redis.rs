//! The Redis registry: many broker nodes share one Redis. Each code is one
//! key (`ra:code:LOOKUP`, a JSON record) with the code's TTL; claims, reports
//! and re-attaches are Lua scripts, so each is atomic across nodes.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::{ClaimOutcome, CodeRecord, Registry, RegistryError, ReportOutcome};

const CODE_PREFIX: &str = "ra:code:";
const NODE_PREFIX: &str = "ra:node:";

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
        })
    }
}

fn key(lookup: &str) -> String {
    format!("{CODE_PREFIX}{lookup}")
}

fn decode(text: &str) -> Result<CodeRecord, RegistryError> {
    serde_json::from_str(text).map_err(|e| RegistryError::Corrupt(e.to_string()))
}

fn encode(record: &CodeRecord) -> Result<String, RegistryError> {
    serde_json::to_string(record).map_err(|e| RegistryError::Corrupt(e.to_string()))
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
            .arg(encode(record)?)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut connection)
            .await?;
        Ok(set.is_some())
    }

    async fn get(&self, lookup: &str) -> Result<Option<CodeRecord>, RegistryError> {
        let mut connection = self.connection.clone();
        let value: Option<String> = connection.get(key(lookup)).await?;
        value.as_deref().map(decode).transpose()
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
            [kind, record] if kind == "claimed" => Ok(ClaimOutcome::Claimed(decode(record)?)),
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
        Ok(())
    }

    async fn announce_node(
        &self,
        node: &str,
        addr: &str,
        ttl: Duration,
    ) -> Result<(), RegistryError> {
        let mut connection = self.connection.clone();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let _: () = redis::cmd("SET")
            .arg(format!("{NODE_PREFIX}{node}"))
            .arg(addr)
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut connection)
            .await?;
        Ok(())
    }

    async fn node_addr(&self, node: &str) -> Result<Option<String>, RegistryError> {
        let mut connection = self.connection.clone();
        Ok(connection.get(format!("{NODE_PREFIX}{node}")).await?)
    }

    async fn code_count(&self) -> Result<u64, RegistryError> {
        let mut connection = self.connection.clone();
        Ok(redis::cmd("DBSIZE").query_async(&mut connection).await?)
    }
}
