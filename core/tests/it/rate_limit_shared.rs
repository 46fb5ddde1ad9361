//! Four engines sharing one Redis behave as one: over repeated trials, a tenant is admitted
//! exactly `burst + rate * elapsed` times however its questions are spread over the engines.

use std::{sync::Arc, time::Duration};

use conversational_bi::{
    Ask, Config, Engine, ErrorKind,
    clock::{Clock, ManualClock},
    config::{Secret, StoreKind},
};

use testkit::{
    Service,
    redis::{Prefix, redis_url},
};

const QPM: u64 = 120;
const BURST: u64 = 10;
const TOKEN: u64 = 60_000_000;

fn config(prefix: &Prefix) -> Config {
    let mut config = Config::default();
    config.redis.url = Some(Secret::new(redis_url()));
    config.redis.key_prefix = prefix.name.clone();
    config.production.rate_limiting.store = Some(StoreKind::Redis);
    config.production.rate_limiting.queries_per_minute = QPM as u32;
    config.production.rate_limiting.burst_allowance = BURST as u32;
    config.session.store = Some(StoreKind::Memory);
    config.cache.enabled = false;
    config
}

async fn engines(prefix: &Prefix, clock: Option<&ManualClock>) -> Vec<Engine> {
    let mut engines = Vec::new();
    for _ in 0..4 {
        let mut builder = Engine::builder().config(config(prefix));
        if let Some(c) = clock {
            builder = builder.clock(Arc::new(c.clone()));
        }
        engines.push(builder.build().await.expect("engine"));
    }
    engines
}

/// Every engine asks `per_engine` questions of tenant `acme` at once; returns how many were
/// admitted.
async fn burst_of_asks(engines: &[Engine], per_engine: usize) -> u64 {
    let mut tasks = Vec::new();
    for engine in engines {
        for _ in 0..per_engine {
            let engine = engine.clone();
            tasks.push(tokio::spawn(async move {
                engine
                    .ask(Ask::new("How many artists are there?").tenant("acme"))
                    .await
            }));
        }
    }
    let mut admitted = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(_) => admitted += 1,
            Err(e) => assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}"),
        }
    }
    admitted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_engines_admit_exactly_burst_plus_rate_times_elapsed() {
    if !testkit::require(Service::Redis) {
        return;
    }
    for trial in 0..5u64 {
        let prefix = Prefix::new("shared-limit");
        let clock = ManualClock::at(1_800_000_000_000_000 + trial * 7_777_777);
        let engines = engines(&prefix, Some(&clock)).await;
        let start = clock.now_micros();
        let mut admitted = 0;
        for step in 0..12u64 {
            if step > 0 {
                clock.advance(Duration::from_micros(
                    90_000 + ((step * 7_919 + trial * 104_729) % 700_000),
                ));
            }
            admitted += burst_of_asks(&engines, 3).await;
            let elapsed = clock.now_micros() - start;
            let expected = BURST + elapsed * QPM / TOKEN;
            assert_eq!(
                admitted, expected,
                "trial {trial}, step {step}: demand (12 per step) always exceeds supply, so exactly burst + rate x elapsed are admitted"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_redis_clock_four_engines_never_exceed_the_quota() {
    if !testkit::require(Service::Redis) {
        return;
    }
    let prefix = Prefix::new("shared-limit-time");
    let engines = engines(&prefix, None).await;
    let mut con = prefix.raw();
    let server_micros = |con: &mut redis::Connection| {
        let (s, us): (u64, u64) = redis::cmd("TIME").query(con).expect("TIME");
        s * 1_000_000 + us
    };
    let before = server_micros(&mut con);
    let mut admitted = 0;
    for _ in 0..6 {
        admitted += burst_of_asks(&engines, 4).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = server_micros(&mut con) - before;
    let bound = BURST + elapsed * QPM / TOKEN;
    assert!(admitted >= BURST, "{admitted}");
    assert!(
        admitted <= bound,
        "{admitted} admitted, at most {bound} allowed"
    );
}
