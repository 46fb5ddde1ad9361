//! The differential test of the SQL validator, as a long run or a single-statement replay.
//!
//! Runs the loop of `core/tests/it/differential` (the same generator, oracles and comparison,
//! included by path) over as many statements as asked and prints statements per second, the
//! number checked, accepted, refused and every class of disagreement with its shortest example.
//!
//! ```text
//! # a long run (SQLite needs nothing; PostgreSQL and MariaDB need scripts/load-test-data.sh)
//! cargo run --release -p conversational-bi --example differential -- --dialect sqlite --count 1000000
//! # replay one statement of a report
//! cargo run -p conversational-bi --example differential -- --dialect postgres --seed 0x14d1ff5eed000001 --index 708
//! # show generated statements the validator refused with a rule (to tune the generator)
//! cargo run -p conversational-bi --example differential -- --dialect sqlite --count 2000 --show parse_error
//! ```
//!
//! Options: `--dialect sqlite|postgres|mysql` (default sqlite), `--count N` (default 100000),
//! `--seed S` (decimal or 0x-hex; default time-derived), `--start I` (first index, default 0),
//! `--workers W` (parallel connections, each with its own range; default 1), `--index I`
//! (replay statement I), `--sql TEXT` (replay this statement), `--raw` (print the replayed
//! statements as they are, not escaped), `--show RULE` (print up to 30
//! statements refused with RULE, or `accepted` / `db_refused`, or with a finding:
//! `finding:CLASS[/MECHANISM]`), `--hunt-crashes` (also generate
//! the shapes of `KNOWN_CRASHES`: only against a private server, which they may crash; point
//! `CBI_DIFF_MYSQL_URL` / `CBI_DIFF_MYSQL_PROBE_URL` at it), `--keep-going` (when the database
//! goes away, wait for it and go on, counting each loss: for a supervised private server). Exits with status 1 when a security
//! or fidelity finding occurs.

#[allow(dead_code)]
#[path = "../tests/it/differential/compare.rs"]
mod compare;
#[allow(dead_code)]
#[path = "../tests/it/differential/expressions.rs"]
mod expressions;
#[allow(dead_code)]
#[path = "../tests/it/differential/fixture.rs"]
mod fixture;
#[allow(dead_code)]
#[path = "../tests/it/differential/generate.rs"]
mod generate;
#[allow(dead_code)]
#[path = "../tests/it/differential/grammar.rs"]
mod grammar;
#[allow(dead_code)]
#[path = "../tests/it/differential/lexical.rs"]
mod lexical;
#[allow(dead_code)]
#[path = "../tests/it/differential/oracle_mysql.rs"]
mod oracle_mysql;
#[allow(dead_code)]
#[path = "../tests/it/differential/oracle_postgres.rs"]
mod oracle_postgres;
#[allow(dead_code)]
#[path = "../tests/it/differential/oracle_sqlite.rs"]
mod oracle_sqlite;
#[allow(dead_code)]
#[path = "../tests/it/differential/proofs.rs"]
mod proofs;
#[allow(dead_code)]
#[path = "../tests/it/differential/run.rs"]
mod run;

use std::{process::ExitCode, time::Instant};

use conversational_bi::{Dialect, Error};

use crate::{
    generate::Generator,
    run::{Oracle, Report},
};

#[derive(Debug)]
struct Args {
    dialect: Dialect,
    count: u64,
    seed: u64,
    start: u64,
    workers: u64,
    index: Option<u64>,
    sql: Option<String>,
    show: Option<String>,
    hunt: bool,
    raw: bool,
    keep_going: bool,
}

fn parse_u64(s: &str) -> Result<u64, String> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    }
    .map_err(|e| format!("{s}: {e}"))
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        dialect: Dialect::Sqlite,
        count: 100_000,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        start: 0,
        workers: 1,
        index: None,
        sql: None,
        show: None,
        hunt: false,
        raw: false,
        keep_going: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--dialect" => {
                a.dialect = match value()?.as_str() {
                    "sqlite" => Dialect::Sqlite,
                    "postgres" | "postgresql" => Dialect::Postgres,
                    "mysql" | "mariadb" => Dialect::Mysql,
                    other => return Err(format!("unknown dialect {other}")),
                }
            }
            "--count" => a.count = parse_u64(&value()?)?,
            "--seed" => a.seed = parse_u64(&value()?)?,
            "--start" => a.start = parse_u64(&value()?)?,
            "--workers" => a.workers = parse_u64(&value()?)?.max(1),
            "--index" => a.index = Some(parse_u64(&value()?)?),
            "--show" => a.show = Some(value()?),
            "--sql" => a.sql = Some(value()?),
            "--hunt-crashes" => a.hunt = true,
            "--raw" => a.raw = true,
            "--keep-going" => a.keep_going = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

async fn setup(dialect: Dialect) -> Result<(Oracle, conversational_bi::sql::Validator), String> {
    let oracle = Oracle::open(dialect).await?;
    let validator = run::validator(dialect, &oracle).await?;
    Ok((oracle, validator))
}

fn generator(a: &Args) -> Generator {
    if a.hunt {
        Generator::hunting_crashes(a.dialect)
    } else {
        Generator::new(a.dialect)
    }
}

/// Prints everything about one statement: `--sql`, else statement `index` of the seed.
async fn replay(a: &Args, index: u64) -> Result<(), String> {
    let (mut oracle, validator) = setup(a.dialect).await?;
    let sql = match &a.sql {
        Some(sql) => sql.clone(),
        None => {
            let stmt = generator(a).statement(a.seed, index);
            println!(
                "seed {:#x} index {index} ({})",
                a.seed,
                stmt.origin.as_str()
            );
            stmt.sql
        }
    };
    let show = |s: &str| {
        if a.raw {
            s.to_string()
        } else {
            s.escape_debug().to_string()
        }
    };
    println!("input:    {}", show(&sql));
    match validator.validate(&sql) {
        Ok(v) => {
            println!("exec_sql: {}", show(&v.exec_sql));
            println!("validator tables:  {:?}", v.tables);
            println!("validator columns: {:?}", v.columns);
            let on_exec = oracle.observe(&v.exec_sql).await;
            let on_input = oracle.observe_input(&sql).await;
            println!("database on exec_sql: {on_exec:?}");
            println!("database on input:    {on_input:?}");
            let policy = compare::Policy::new(a.dialect);
            let validated = policy.names().validated(&v);
            for f in compare::compare(
                &policy,
                a.dialect,
                &validated,
                &v.exec_sql,
                &on_exec,
                &on_input,
            ) {
                println!(
                    "finding: {} [{}] {}",
                    f.class.as_str(),
                    f.mechanism,
                    f.detail
                );
            }
        }
        Err(e) => println!("refused: {e}"),
    }
    Ok(())
}

/// Prints statements refused with `rule` (or accepted ones, or ones the database refused).
async fn show(a: &Args, rule: &str) -> Result<(), String> {
    let (mut oracle, validator) = setup(a.dialect).await?;
    let g = generator(a);
    let mut shown = 0;
    for index in a.start..a.start + a.count {
        let stmt = g.statement(a.seed, index);
        let hit = match validator.validate(&stmt.sql) {
            Err(Error::SqlRejected {
                rule: r, reason, ..
            }) if r.as_str() == rule => Some(reason),
            Ok(v) if rule == "accepted" => Some(v.exec_sql),
            Ok(v) if rule == "db_refused" => match oracle.observe(&v.exec_sql).await {
                compare::Observation::Refused(e) => Some(format!("{e} <- {}", v.exec_sql)),
                _ => None,
            },
            Ok(v) if rule.starts_with("finding:") => {
                let on_exec = oracle.observe(&v.exec_sql).await;
                let on_input = oracle.observe_input(&stmt.sql).await;
                let policy = compare::Policy::new(a.dialect);
                let validated = policy.names().validated(&v);
                let wanted = &rule["finding:".len()..];
                compare::compare(
                    &policy,
                    a.dialect,
                    &validated,
                    &v.exec_sql,
                    &on_exec,
                    &on_input,
                )
                .into_iter()
                .find(|f| format!("{}/{}", f.class.as_str(), f.mechanism).starts_with(wanted))
                .map(|f| format!("{} <- {}", f.detail, v.exec_sql))
            }
            _ => None,
        };
        if let Some(why) = hit {
            println!(
                "#{index} ({}): {}\n    {}",
                stmt.origin.as_str(),
                stmt.sql.escape_debug(),
                why.escape_debug()
            );
            shown += 1;
            if shown == 30 {
                break;
            }
        }
    }
    Ok(())
}

/// Runs `count` statements from `start` on `workers` threads, each with its own connections.
fn long_run(a: &Args) -> Result<Report, String> {
    let per = a.count.div_ceil(a.workers);
    let started = Instant::now();
    let results: Vec<Result<Report, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..a.workers)
            .map(|w| {
                let from = a.start + w * per;
                let to = (from + per).min(a.start + a.count);
                let (dialect, seed, g, keep_going) =
                    (a.dialect, a.seed, generator(a), a.keep_going);
                scope.spawn(move || -> Result<Report, String> {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())?;
                    rt.block_on(async move {
                        let (mut oracle, validator) = setup(dialect).await?;
                        let mut total = Report::default();
                        // Chunks, so that progress shows during hours-long runs.
                        let chunk = 50_000;
                        let mut i = from;
                        while i < to {
                            let end = (i + chunk).min(to);
                            let r = run::run(&g, &validator, &mut oracle, seed, i..end, keep_going)
                                .await;
                            let stopped = r.stopped.is_some();
                            total.merge(r);
                            eprintln!(
                                "worker {w}: {} / {} statements, {:.0}/s, {} security, {} fidelity",
                                total.checked,
                                to - from,
                                total.rate(),
                                total.security(),
                                total.fidelity()
                            );
                            if stopped {
                                break;
                            }
                            i = end;
                        }
                        Ok(total)
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a worker panicked".into())))
            .collect()
    });
    let mut report = Report::default();
    for r in results {
        report.merge(r?);
    }
    // Wall time, not the sum of the workers' times.
    report.elapsed = started.elapsed();
    report.seeds = vec![(a.seed, a.start..a.start + a.count)];
    Ok(report)
}

fn block_on(f: impl std::future::Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?
        .block_on(f)
}

fn main() -> ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("differential: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = if a.index.is_some() || a.sql.is_some() {
        block_on(replay(&a, a.index.unwrap_or_default())).map(|()| None)
    } else if let Some(rule) = &a.show {
        block_on(show(&a, rule)).map(|()| None)
    } else {
        long_run(&a).map(Some)
    };
    match outcome {
        Ok(Some(report)) => {
            println!("{report}");
            if report.security() + report.fidelity() > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("differential: {e}");
            ExitCode::from(2)
        }
    }
}
