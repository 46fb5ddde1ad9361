//! The SQLite statement timeout bounds CPU, not only the reply: worst-case inputs for every
//! built-in whose cost grows faster than its input, under a 300 ms statement timeout, end within
//! a generous bound, and no CPU keeps burning after the executor answered.
//!
//! A test binary of its own with one test, so that the process CPU time it reads
//! (`/proc/self/stat`) is this test's alone. Figures are printed:
//! `cargo test -p conversational-bi --test sqlite_cpu_bound -- --nocapture`; set
//! `CBI_CPU_CASE` to a case name to run that case only.

use std::time::{Duration, Instant};

use conversational_bi::{
    ErrorKind,
    exec::{Executor, SourceOptions, SqliteExecutor},
};

/// The statement timeout of the cases.
const TIMEOUT_MS: u64 = 300;
/// Every case must end within this (a bound against hanging, not a performance target).
const CALL_BOUND: Duration = Duration::from_secs(5);
/// How long to watch the process after the reply, at least.
const AFTERWARDS: Duration = Duration::from_secs(1);
/// How long to keep watching while the process still burns CPU after the reply (for the
/// printed figure only).
const WATCH_AT_MOST: Duration = Duration::from_secs(30);
/// CPU the process may use while it should be idle after the reply (a statement still running
/// uses most of a core, even on a busy machine).
const IDLE_CPU_BOUND: Duration = Duration::from_millis(100);

/// User + system CPU time of this process.
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// A 1,000,000-byte text of one repeated character.
fn big(c: char) -> String {
    format!("printf('%.*c', 1000000, '{c}')")
}

/// `n - 1` repetitions of `a` then one `b`: a needle that matches almost everywhere.
fn almost(n: usize) -> String {
    format!("printf('%.*c', {}, 'a') || 'b'", n - 1)
}

fn cases() -> Vec<(&'static str, String)> {
    let a = big('a');
    // Patterns of 1000 bytes, the guard's limit, and sets of 80,000 characters: a `trim` set
    // costs 12 bytes per character and must stay under the 1 MiB value limit.
    let long_literal = format!("'%{}b%'", "a".repeat(997));
    let set = "printf('%.*c', 80000, 'b') || 'a'";
    vec![
        ("instr", format!("SELECT instr({a}, {})", almost(500_000))),
        (
            "replace",
            format!("SELECT length(replace({a}, {}, 'x'))", almost(500_000)),
        ),
        ("trim", format!("SELECT length(trim({a}, {set} || 'c'))")),
        ("ltrim", format!("SELECT length(ltrim({a}, {set}))")),
        ("rtrim", format!("SELECT length(rtrim({a}, {set}))")),
        ("like literal", format!("SELECT {a} LIKE {long_literal}")),
        (
            "like _",
            format!("SELECT {a} LIKE '%{}_b%'", "a".repeat(996)),
        ),
        (
            "like escape",
            format!("SELECT {a} LIKE '%{}\\%b%' ESCAPE '\\'", "a".repeat(995)),
        ),
        (
            "like many %",
            format!("SELECT {a} LIKE '{}b'", "%a".repeat(499)),
        ),
        ("glob", format!("SELECT {a} GLOB '*{}b*'", "a".repeat(997))),
        (
            "glob class",
            format!("SELECT {a} GLOB '*{}[b]*'", "a".repeat(994)),
        ),
        (
            "unhex",
            format!(
                "SELECT unhex({}, printf('%.*c', 500000, 'y') || 'z')",
                big('z')
            ),
        ),
        (
            "repeated instr",
            format!(
                "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 100000) \
                 SELECT sum(instr(substr({a}, 1 + i % 2), {})) FROM r",
                almost(1000)
            ),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worst_case_function_calls_stop_burning_cpu_at_the_deadline() {
    let options = SourceOptions {
        statement_timeout_ms: TIMEOUT_MS,
        pool_size: 2,
        ..SourceOptions::default()
    };
    let path = conversational_bi::demo::chinook_path().expect("the demo database");
    let ex = SqliteExecutor::open(&path, options).await.expect("opens");
    let only = std::env::var("CBI_CPU_CASE").ok();
    let mut failures = Vec::new();
    for (name, sql) in cases() {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let cpu_before = process_cpu();
        let started = Instant::now();
        let outcome = ex.execute(&sql).await;
        let wall = started.elapsed();
        let cpu_call = process_cpu().saturating_sub(cpu_before);
        let cpu_at_reply = process_cpu();
        tokio::time::sleep(AFTERWARDS).await;
        let cpu_after = process_cpu().saturating_sub(cpu_at_reply);
        // While the process keeps burning, watch on (up to a cap) to report for how long.
        let mut burned = cpu_after;
        let watch = Instant::now();
        let mut last = process_cpu();
        while cpu_after > IDLE_CPU_BOUND && watch.elapsed() < WATCH_AT_MOST {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = process_cpu();
            burned += now.saturating_sub(last);
            if now.saturating_sub(last) < Duration::from_millis(50) {
                break;
            }
            last = now;
        }
        let verdict = match &outcome {
            Ok(r) => format!("ok {:?}", r.rows.first()),
            Err(e) if e.kind() == ErrorKind::Timeout => "timeout".to_string(),
            Err(e) => format!("error: {e}"),
        };
        println!(
            "{name:>15}: {:>7.1} ms wall, {:>5} ms CPU in the call, {:>5} ms CPU in the {} ms after \
             the reply ({} ms CPU over {:.1} s until idle); {verdict}",
            wall.as_secs_f64() * 1000.0,
            cpu_call.as_millis(),
            cpu_after.as_millis(),
            AFTERWARDS.as_millis(),
            burned.as_millis(),
            (AFTERWARDS + watch.elapsed()).as_secs_f64(),
        );
        if wall > CALL_BOUND || cpu_after > IDLE_CPU_BOUND {
            failures.push(name);
        }
        if let Err(e) = &outcome
            && e.kind() != ErrorKind::Timeout
        {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "cases over the bounds: {failures:?}");
}
