//! Sessions in Redis, shared by every instance: a conversation continues on whichever
//! instance takes the next question.
//!
//! Keys (`P` is `[redis] key_prefix`): `P:session:<tenant>:<user>:<session>:turns`, a list of
//! turns (`<number>\t<bytes>\t<append id>\t<turn JSON>`), and
//! `P:session:<tenant>:<user>:<session>:meta`, a hash of the turn count and the bytes kept, what
//! a list of conversations shows (`created` and `updated`, milliseconds since the epoch by the
//! Redis server's clock; `first`, the first question shortened; `title`, once the user named
//! it) and, for people reading Redis, the tenant, user and session. `<user>` is the user who
//! started the conversation (the login name on the server) and is empty for the library's
//! default user. `P:sessions:<tenant>:<user>` lists the user's conversations: a sorted set of
//! session ids scored by `updated`. Every part is escaped by [`crate::store::key_part`], so no
//! part can contain a `:`, a glob character or a `{}` hash tag, and two keys of different
//! tenants, users or sessions never meet. The keys expire after `session_timeout_minutes`
//! without a question; the list is given the same timeout whenever one of its sessions is, so it
//! outlives all of them, and the ids of sessions that expired meanwhile are removed from it as
//! they are met when listing.
//!
//! An append is one Lua script: it numbers the turn, pushes it and trims the oldest turns
//! beyond `max_turns` or `max_context_size`, and moves the session to the top of its user's
//! list, atomically, so two instances answering two questions of one session at once keep both
//! turns with distinct numbers. Each append carries
//! an id: when the reply of an append is lost and it is sent again, the second one finds its
//! id and changes nothing. When Redis cannot be reached the question fails with
//! `SERVICE_UNAVAILABLE` and no turn is written anywhere (there is no local fallback that would
//! split a conversation between instances).

use std::sync::LazyLock;

use async_trait::async_trait;
use redis::Script;

use super::{
    SessionKey, SessionLimits, SessionState, SessionStore, SessionSummary, Turn, default_title,
    rfc3339,
};
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
  redis.call('PEXPIRE', KEYS[3], ARGV[1])
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
if redis.replicate_commands then redis.replicate_commands() end
local turns, meta, list = KEYS[1], KEYS[2], KEYS[3]
local id, bytes, json = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local max_turns, max_bytes, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local items = redis.call('LRANGE', turns, 0, -1)
for _, item in ipairs(items) do
  local _, _, seen = string.find(item, '^%d+\t%d+\t([^\t]*)\t')
  if seen == id then
    return {redis.call('HGET', meta, 'count'), items}
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local top = redis.call('ZREVRANGE', list, 0, 0, 'WITHSCORES')
if top[2] and tonumber(top[2]) >= now then now = tonumber(top[2]) + 1 end
now = string.format('%.0f', now)
local n = redis.call('HINCRBY', meta, 'count', 1)
local total = redis.call('HINCRBY', meta, 'bytes', bytes)
redis.call('HSET', meta, 'tenant', ARGV[7], 'session', ARGV[8], 'user', ARGV[9], 'updated', now)
redis.call('HSETNX', meta, 'created', now)
redis.call('HSETNX', meta, 'first', ARGV[10])
redis.call('ZADD', list, now, ARGV[8])
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
redis.call('PEXPIRE', list, ttl)
return {tostring(n), redis.call('LRANGE', turns, 0, -1)}
",
    )
});

/// Forgets a session and takes it off its user's list.
static RESET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
",
    )
});

/// Titles a live session (and keeps it alive, as a load does); 0 when it does not exist.
static RENAME: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HEXISTS', KEYS[2], 'count') == 0 then
  redis.call('ZREM', KEYS[3], ARGV[3])
  return 0
end
redis.call('HSET', KEYS[2], 'title', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return 1
",
    )
});

/// What a list shows of the sessions `ARGV` of the list `KEYS[1]`, whose meta hashes are
/// `KEYS[2..]`: for each, `{count, created, updated, first, title}`, or an empty reply for a
/// session that no longer exists, which is taken off the list in the same step (so that a
/// session started again meanwhile under the same id is never taken off).
static SUMMARIES: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local out = {}
for i, session in ipairs(ARGV) do
  local m = redis.call('HMGET', KEYS[i + 1], 'count', 'created', 'updated', 'first', 'title')
  if m[1] then
    out[i] = m
  else
    redis.call('ZREM', KEYS[1], session)
    out[i] = {}
  end
end
return out
",
    )
});

/// Session ids read from a list per step of [`RedisSessionStore::list`].
const LIST_PAGE: usize = 100;

/// The oldest entries of a list checked for expired sessions on each listing that does not
/// read the whole list, so that a list never fills with the ids of expired sessions.
const LIST_SWEEP: usize = 32;

/// One session of a list, as [`SUMMARIES`] gives it: count, created, updated, first, title.
type Fields = Vec<Option<String>>;

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

    /// The key of the list of `user_id`'s sessions in `tenant_id` (`None` or empty: the
    /// default user): `P:sessions:<tenant>:<user>`, escaped as [`RedisSessionStore::keys`].
    pub fn list_key(&self, tenant_id: &str, user_id: Option<&str>) -> String {
        self.redis
            .key(&["sessions", tenant_id, user_id.unwrap_or("")])
    }

    fn all_keys(&self, key: &SessionKey) -> (String, String, String) {
        let (turns, meta) = self.keys(key);
        let list = self.list_key(&key.tenant_id, key.user_id.as_deref());
        (turns, meta, list)
    }

    /// The summaries of `sessions` of the list `list` (`None` for those that no longer exist,
    /// which are taken off the list).
    async fn summaries(
        &self,
        tenant_id: &str,
        user_id: Option<&str>,
        sessions: &[String],
    ) -> Result<Vec<Option<SessionSummary>>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let list = self.list_key(tenant_id, user_id);
        let metas: Vec<String> = sessions
            .iter()
            .map(|s| {
                let key = SessionKey {
                    tenant_id: tenant_id.to_string(),
                    user_id: user_id.map(str::to_string),
                    session_id: s.clone(),
                };
                self.keys(&key).1
            })
            .collect();
        let replies: Vec<Fields> = self
            .redis
            .run("listing the conversations", true, |mut c| {
                let mut call = SUMMARIES.key(&list);
                for meta in &metas {
                    call.key(meta);
                }
                for s in sessions {
                    call.arg(s);
                }
                async move { call.invoke_async(&mut c).await }
            })
            .await
            .map_err(explain_listing)?;
        Ok(sessions
            .iter()
            .zip(replies)
            .map(|(id, fields)| summary_of(id, &fields))
            .collect())
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

/// The summary of session `id` from its meta `fields` (count, created, updated, first, title);
/// `None` when they are empty (the session no longer exists).
fn summary_of(id: &str, fields: &[Option<String>]) -> Option<SessionSummary> {
    let field = |i: usize| fields.get(i).cloned().flatten();
    let count = field(0)?;
    let time = |i: usize| {
        field(i)
            .and_then(|ms| ms.parse::<i64>().ok())
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(rfc3339)
    };
    // Sessions saved before lists existed have no times until their next turn.
    let updated_at = time(2).unwrap_or_default();
    Some(SessionSummary {
        session_id: id.to_string(),
        title: field(4).or_else(|| field(3)).unwrap_or_default(),
        created_at: time(1).unwrap_or_else(|| updated_at.clone()),
        updated_at,
        turn_count: count.parse().unwrap_or(0),
    })
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

/// Says what an unreachable session store means for a list or a title.
fn explain_listing(e: Error) -> Error {
    match e {
        Error::ServiceUnavailable { service, message } => Error::ServiceUnavailable {
            service,
            message: format!(
                "{message}. Conversations are kept in Redis ([session] store = \"redis\"): nothing was changed; retry when Redis is reachable"
            ),
        },
        other => other,
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<SessionState> {
        let (turns, meta, list) = self.all_keys(key);
        let ttl = self.ttl_ms();
        let (count, items): (String, Vec<Vec<u8>>) = self
            .redis
            .run("loading the conversation", true, |mut c| {
                let (turns, meta, list) = (turns.clone(), meta.clone(), list.clone());
                async move {
                    LOAD.key(turns)
                        .key(meta)
                        .key(list)
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
        let (turns, meta, list) = self.all_keys(key);
        let first = default_title(&turn.question);
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
                let (turns, meta, list, id, json) = (
                    turns.clone(),
                    meta.clone(),
                    list.clone(),
                    id.clone(),
                    json.clone(),
                );
                let (tenant, session) = (key.tenant_id.clone(), key.session_id.clone());
                let (user, first) = (key.user_id.clone().unwrap_or_default(), first.clone());
                async move {
                    APPEND
                        .key(turns)
                        .key(meta)
                        .key(list)
                        .arg(id)
                        .arg(bytes)
                        .arg(json)
                        .arg(max_turns)
                        .arg(max_bytes)
                        .arg(ttl)
                        .arg(tenant)
                        .arg(session)
                        .arg(user)
                        .arg(first)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await
            .map_err(explain)?;
        Ok(Self::state(key, &count, &items))
    }

    async fn reset(&self, key: &SessionKey) -> Result<()> {
        let (turns, meta, list) = self.all_keys(key);
        self.redis
            .run("forgetting the conversation", true, |mut c| {
                let (turns, meta, list) = (turns.clone(), meta.clone(), list.clone());
                let session = key.session_id.clone();
                async move {
                    RESET
                        .key(turns)
                        .key(meta)
                        .key(list)
                        .arg(session)
                        .invoke_async::<i64>(&mut c)
                        .await
                }
            })
            .await
            .map_err(explain)
            .map(|_| ())
    }

    async fn list(
        &self,
        tenant_id: &str,
        user_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SessionSummary>> {
        let user_id = user_id.filter(|u| !u.is_empty());
        if limit == 0 {
            return Ok(Vec::new());
        }
        let list = self.list_key(tenant_id, user_id);
        let mut listed: Vec<SessionSummary> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // Live entries come first: an expired one is taken off the list when met, so the next
        // page starts after the live entries read so far.
        let mut start = 0usize;
        let mut whole_list_read = false;
        while listed.len() < limit {
            let page = LIST_PAGE.min(limit - listed.len());
            let stop = start + page - 1;
            let ids: Vec<String> = self
                .redis
                .run("listing the conversations", true, |mut c| {
                    let list = list.clone();
                    async move {
                        redis::cmd("ZREVRANGE")
                            .arg(list)
                            .arg(start)
                            .arg(stop)
                            .query_async(&mut c)
                            .await
                    }
                })
                .await
                .map_err(explain_listing)?;
            let read = ids.len();
            for (id, summary) in ids
                .iter()
                .zip(self.summaries(tenant_id, user_id, &ids).await?)
            {
                if let Some(summary) = summary {
                    start += 1;
                    if seen.insert(id.clone()) {
                        listed.push(summary);
                    }
                }
            }
            if read < page {
                whole_list_read = true;
                break;
            }
        }
        if !whole_list_read {
            let oldest: Vec<String> = self
                .redis
                .run("listing the conversations", true, |mut c| {
                    let list = list.clone();
                    async move {
                        redis::cmd("ZRANGE")
                            .arg(list)
                            .arg(0)
                            .arg(LIST_SWEEP - 1)
                            .query_async(&mut c)
                            .await
                    }
                })
                .await
                .map_err(explain_listing)?;
            self.summaries(tenant_id, user_id, &oldest).await?;
        }
        // Turns given while listing may have moved sessions between pages.
        listed.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
        listed.truncate(limit);
        Ok(listed)
    }

    async fn summary(&self, key: &SessionKey) -> Result<Option<SessionSummary>> {
        let (_, meta) = self.keys(key);
        let fields: Fields = self
            .redis
            .run("reading the conversation", true, |mut c| {
                let meta = meta.clone();
                async move {
                    redis::cmd("HMGET")
                        .arg(meta)
                        .arg(&["count", "created", "updated", "first", "title"])
                        .query_async(&mut c)
                        .await
                }
            })
            .await
            .map_err(explain_listing)?;
        Ok(summary_of(&key.session_id, &fields))
    }

    async fn rename(&self, key: &SessionKey, title: &str) -> Result<bool> {
        let (turns, meta, list) = self.all_keys(key);
        let ttl = self.ttl_ms();
        let renamed: i64 = self
            .redis
            .run("renaming the conversation", true, |mut c| {
                let (turns, meta, list) = (turns.clone(), meta.clone(), list.clone());
                let (title, session) = (title.to_string(), key.session_id.clone());
                async move {
                    RENAME
                        .key(turns)
                        .key(meta)
                        .key(list)
                        .arg(title)
                        .arg(ttl)
                        .arg(session)
                        .invoke_async(&mut c)
                        .await
                }
            })
            .await
            .map_err(explain_listing)?;
        Ok(renamed == 1)
    }
}
