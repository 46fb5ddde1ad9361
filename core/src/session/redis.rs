//! Sessions in Redis, shared by every instance: a conversation continues on whichever
//! instance takes the next question.
//!
//! Keys (`P` is `[redis] key_prefix`): `P:session:<tenant>:<user>:<session>:turns`, a list of
//! turns (`<number>\t<bytes>\t<append id>\t<turn JSON>`), and
//! `P:session:<tenant>:<user>:<session>:meta`, a hash of the turn count and the bytes kept (and,
//! for people reading Redis, the tenant, user and session). `<user>` is the user who started the
//! conversation (the login name on the server) and is empty for the library's default user;
//! every part is escaped by [`crate::store::key_part`], so no part can contain a `:` and two
//! keys of different tenants, users or sessions never meet. Both keys expire after
//! `session_timeout_minutes` without a question.
//!
//! An append is one Lua script: it numbers the turn, pushes it and trims the oldest turns
//! beyond `max_turns` or `max_context_size`, atomically, so two instances answering two
//! questions of one session at once keep both turns with distinct numbers. Each append carries
//! an id: when the reply of an append is lost and it is sent again, the second one finds its
//! id and changes nothing. When Redis cannot be reached the question fails with
//! `SERVICE_UNAVAILABLE` and no turn is written anywhere (there is no local fallback that would
//! split a conversation between instances).

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::Script;

use super::{SessionKey, SessionLimits, SessionState, SessionStore, Turn};
use crate::{
    error::{Error, Result},
    store::RedisConnection,
};

static LOAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local count = redis.call('HGET', KEYS[2], 'count')
if count then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
else
  count = '0'
end
return {count, items}
",
    )
});

static APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local turns, meta = KEYS[1], KEYS[2]
local id, bytes, json = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local max_turns, max_bytes, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local items = redis.call('LRANGE', turns, 0, -1)
for _, item in ipairs(items) do
  local _, _, seen = string.find(item, '^%d+\t%d+\t([^\t]*)\t')
  if seen == id then
    return {redis.call('HGET', meta, 'count'), items}
  end
end
local n = redis.call('HINCRBY', meta, 'count', 1)
local total = redis.call('HINCRBY', meta, 'bytes', bytes)
redis.call('HSET', meta, 'tenant', ARGV[7], 'session', ARGV[8], 'user', ARGV[9])
redis.call('RPUSH', turns, n .. '\t' .. bytes .. '\t' .. id .. '\t' .. json)
local len = #items + 1
while len > 1 and (len > max_turns or total > max_bytes) do
  local head = redis.call('LPOP', turns)
  local _, _, size = string.find(head, '^%d+\t(%d+)\t')
  total = redis.call('HINCRBY', meta, 'bytes', -tonumber(size))
  len = len - 1
end
redis.call('PEXPIRE', turns, ttl)
redis.call('PEXPIRE', meta, ttl)
return {tostring(n), redis.call('LRANGE', turns, 0, -1)}
",
    )
});

/// Sessions in Redis.
#[derive(Debug, Clone)]
pub struct RedisSessionStore {
    redis: RedisConnection,
    limits: SessionLimits,
}

impl RedisSessionStore {
    /// A store on `redis` with `limits` (`max_sessions` is left to Redis's own memory limit).
    pub fn new(redis: RedisConnection, limits: SessionLimits) -> Self {
        Self { redis, limits }
    }

    /// The keys of `key`'s turns and meta hash.
    pub fn keys(&self, key: &SessionKey) -> (String, String) {
        let user = key.user_id.as_deref().unwrap_or("");
        let base = [
            "session",
            key.tenant_id.as_str(),
            user,
            key.session_id.as_str(),
        ];
        let turns = self
            .redis
            .key(&[base[0], base[1], base[2], base[3], "turns"]);
        let meta = self
            .redis
            .key(&[base[0], base[1], base[2], base[3], "meta"]);
        (turns, meta)
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.limits.idle_timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1000)
    }

    fn state(key: &SessionKey, count: &str, items: &[Vec<u8>]) -> SessionState {
        let mut state = SessionState::new(key);
        state.turn_count = count.parse().unwrap_or(0);
        for item in items {
            let text = String::from_utf8_lossy(item);
            let mut parts = text.splitn(4, '\t');
            let (Some(number), Some(_), Some(_), Some(json)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                tracing::warn!("skipping a malformed turn in a Redis session");
                continue;
            };
            match serde_json::from_str::<Turn>(json) {
                Ok(mut turn) => {
                    turn.turn = number.parse().unwrap_or(0);
                    state.turns.push(turn);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "skipping an unreadable turn in a Redis session")
                }
            }
        }
        state
    }
}

/// Says what an unreachable session store means for the question.
fn explain(e: Error) -> Error {
    match e {
        Error::ServiceUnavailable { service, message } => Error::ServiceUnavailable {
            service,
            message: format!(
                "{message}. Conversations are kept in Redis ([session] store = \"redis\"): the question was not answered and no turn was saved; retry when Redis is reachable"
            ),
        },
        other => other,
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<SessionState> {
        let (turns, meta) = self.keys(key);
        let ttl = self.ttl_ms();
        let (count, items): (String, Vec<Vec<u8>>) = self
            .redis
            .run("loading the conversation", true, |mut c| {
                let (turns, meta) = (turns.clone(), meta.clone());
                async move {
                    LOAD.key(turns)
                        .key(meta)
                        .arg(ttl)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await
            .map_err(explain)?;
        Ok(Self::state(key, &count, &items))
    }

    async fn append(&self, key: &SessionKey, turn: Turn) -> Result<SessionState> {
        let (turns, meta) = self.keys(key);
        let bytes = turn.context_bytes();
        let json = serde_json::to_string(&Turn { turn: 0, ..turn })
            .map_err(|e| Error::internal(format!("a turn cannot be serialized: {e}")))?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (max_turns, max_bytes, ttl) = (
            self.limits.max_turns.max(1),
            self.limits.max_context_size,
            self.ttl_ms(),
        );
        let (count, items): (String, Vec<Vec<u8>>) = self
            .redis
            .run("saving the turn", true, |mut c| {
                let (turns, meta, id, json) =
                    (turns.clone(), meta.clone(), id.clone(), json.clone());
                let (tenant, session) = (key.tenant_id.clone(), key.session_id.clone());
                let user = key.user_id.clone().unwrap_or_default();
                async move {
                    APPEND
                        .key(turns)
                        .key(meta)
                        .arg(id)
                        .arg(bytes)
                        .arg(json)
                        .arg(max_turns)
                        .arg(max_bytes)
                        .arg(ttl)
                        .arg(tenant)
                        .arg(session)
                        .arg(user)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await
            .map_err(explain)?;
        Ok(Self::state(key, &count, &items))
    }

    async fn reset(&self, key: &SessionKey) -> Result<()> {
        let (turns, meta) = self.keys(key);
        self.redis
            .run("forgetting the conversation", true, |mut c| {
                let (turns, meta) = (turns.clone(), meta.clone());
                async move {
                    redis::cmd("DEL")
                        .arg(turns)
                        .arg(meta)
                        .query_async::<i64>(&mut c)
                        .await
                }
            })
            .await
            .map_err(explain)
            .map(|_| ())
    }
}
