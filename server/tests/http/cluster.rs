//! Three instances of the real binary on one machine sharing the machine's Redis, as the
//! runbook scales out: one conversation continues across instances, a tenant's rate limit holds
//! across them, a question answered on one is a cache hit on another, and SIGTERM on one loses
//! no answered turn.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use testkit::{
    Service,
    loopback::{LoopbackLlm, Scripted},
    redis::redis_url,
};

use crate::support::{
    PASSWORD, SECRET, cheap_hash,
    process::{ServerProcess, chinook_url, client},
};

const LLM_KEY: &str = "sk-loopback-cluster";

async fn post(
    http: &reqwest::Client,
    api: &str,
    token: &str,
    session: Option<&str>,
    query: &str,
) -> (u16, Option<String>, Value) {
    let mut body = json!({ "query": query });
    if let Some(s) = session {
        body["session_id"] = json!(s);
    }
    let reply = http
        .post(format!("{api}/api/v1/query"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("query");
    let status = reply.status().as_u16();
    let retry_after = reply
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, retry_after, reply.json().await.expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_conversations_cache_and_limits_through_redis() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (tenant, limited) = (format!("acme-{run}"), format!("limited-{run}"));
    let llm = LoopbackLlm::start(
        LLM_KEY,
        0,
        Arc::new(|question: &str| Scripted {
            sql: if question.contains("albums") {
                "SELECT count(*) AS albums FROM Album".into()
            } else if question.contains("tracks") {
                "SELECT count(*) AS tracks FROM Track".into()
            } else {
                "SELECT count(*) AS artists FROM Artist".into()
            },
            delay: if question.contains("slowly") {
                Duration::from_millis(1500)
            } else {
                Duration::ZERO
            },
        }),
    )
    .await;
    let hash = cheap_hash(PASSWORD);
    let config = format!(
        r#"
[server]
host = "127.0.0.1"
port = 0
workers = 2

[metrics]
prometheus_port = 0

[database]
url = "{db}"

[llm]
provider = "openai"
model = "gpt-4o-mini"
base_url = "{llm}"
max_retries = 0
fallback = "none"

[session]
store = "redis"

[cache]
store = "redis"

[production.rate_limiting]
store = "redis"

[production.rate_limiting.tenants.{limited}]
queries_per_minute = 6
burst_allowance = 6

[redis]
url = "{redis}"

[auth]
users = [
  {{ username = "ana", password_hash = "{hash}", tenant_id = "{tenant}", roles = ["analyst"] }},
  {{ username = "lim", password_hash = "{hash}", tenant_id = "{limited}", roles = ["analyst"] }},
]
"#,
        db = chinook_url(),
        llm = llm.base_url,
        redis = redis_url(),
    );
    let mut servers = Vec::new();
    for _ in 0..3 {
        let config = config.clone();
        let env = [("JWT_SECRET", SECRET), ("OPENAI_API_KEY", LLM_KEY)];
        servers.push(
            tokio::task::spawn_blocking(move || ServerProcess::start(&config, &env))
                .await
                .expect("join"),
        );
    }
    let apis: Vec<String> = servers.iter().map(|s| s.api.clone()).collect();
    let http = client();
    let login = |user: &'static str, api: String| {
        let http = http.clone();
        async move {
            let reply: Value = http
                .post(format!("{api}/api/v1/auth/login"))
                .json(&json!({ "username": user, "password": PASSWORD }))
                .send()
                .await
                .expect("login")
                .json()
                .await
                .expect("json");
            reply["token"].as_str().expect("token").to_string()
        }
    };
    // A token from one instance is good on every instance (one JWT_SECRET).
    let token = login("ana", apis[0].clone()).await;

    // One conversation, one turn per instance; its id comes from the first answer.
    let mut session = format!("conv-{run}");
    let questions = ["How many artists are there?", "and albums?", "and tracks?"];
    for (i, question) in questions.iter().enumerate() {
        let (status, _, answer) = post(&http, &apis[i], &token, Some(&session), question).await;
        assert_eq!(status, 200, "{answer}");
        if i == 0 {
            session = answer["session_id"].as_str().expect("id").to_string();
        }
        assert_eq!(answer["session_id"], session.as_str());
        assert_eq!(
            answer["turn"],
            i as u64 + 1,
            "turn {} on instance {i}",
            i + 1
        );
    }
    let transcripts = llm.transcripts();
    let last = transcripts.last().expect("the model was asked");
    assert!(
        last.contains(questions[0]) && last.contains(questions[1]),
        "instance 3 sent the earlier turns, read from Redis: {last}"
    );
    let state: Value = http
        .get(format!("{}/api/v1/sessions/{session}", apis[1]))
        .bearer_auth(&token)
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    assert_eq!(state["turn_count"], 3, "{state}");

    // A question answered on one instance is a cache hit on another.
    let question = format!("How many albums are there, {run}?");
    let (status, _, first) = post(&http, &apis[0], &token, None, &question).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["cache_hit"], false);
    let calls = llm.calls();
    let (status, _, second) = post(&http, &apis[2], &token, None, &question).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["cache_hit"], true, "{second}");
    assert_eq!(second["rows"], first["rows"]);
    assert_eq!(llm.calls(), calls, "the model was not asked again");

    // The limited tenant's quota (a bucket of 6, refilled at 6 per minute) holds across the three instances.
    let lim = login("lim", apis[1].clone()).await;
    let (mut admitted, mut refused) = (0, 0);
    for i in 0..24 {
        let (status, retry_after, body) = post(
            &http,
            &apis[i % 3],
            &lim,
            None,
            "How many artists are there?",
        )
        .await;
        match status {
            200 => admitted += 1,
            429 => {
                refused += 1;
                assert_eq!(body["error"]["code"], "RATE_LIMITED");
                let secs: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
                assert!((1..=60).contains(&secs), "{secs}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(
        admitted <= 7,
        "{admitted} admitted: one shared quota of 6 (separate quotas would admit ~18)"
    );
    assert!(refused >= 17, "{refused} refused");

    // SIGTERM on instance 2 while it answers turn 4: the turn is answered and saved.
    let in_flight = {
        let (http, api, token, session) = (
            http.clone(),
            apis[1].clone(),
            token.clone(),
            session.clone(),
        );
        tokio::spawn(async move {
            post(
                &http,
                &api,
                &token,
                Some(&session),
                "count the tracks slowly",
            )
            .await
        })
    };
    let received = llm.received();
    let deadline = Instant::now() + Duration::from_secs(30);
    while llm.received() == received {
        assert!(
            Instant::now() < deadline,
            "the slow question never reached the model"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    servers[1].sigterm();
    let (status, _, answer) = in_flight.await.expect("join");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["turn"], 4);
    let mut stopped = servers.remove(1);
    let status = tokio::task::spawn_blocking(move || stopped.wait(Duration::from_secs(20)))
        .await
        .expect("join");
    assert!(status.success());
    let state: Value = http
        .get(format!("{}/api/v1/sessions/{session}", apis[2]))
        .bearer_auth(&token)
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    assert_eq!(state["turn_count"], 4, "{state}");
    assert_eq!(state["turns"][3]["question"], "count the tracks slowly");
}
