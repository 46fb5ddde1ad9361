//! The differential loop shared by the test (short runs) and `examples/differential.rs` (long
//! runs): generate, validate, ask the database about `exec_sql` and the input, compare, count.

use std::{
    collections::BTreeMap,
    fmt,
    ops::Range,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::{Duration, Instant},
};

use conversational_bi::{Dialect, Error, sql::Validator};

use super::{
    compare::{self, Class, Observation, Policy, STAR_COLUMNS_NOTE},
    fixture,
    generate::{Generator, Origin},
    oracle_mysql::MysqlOracle,
    oracle_postgres::PgOracle,
    oracle_sqlite::SqliteOracle,
};

/// A database that reports what statements read.
#[derive(Debug)]
pub enum Oracle {
    /// SQLite's compiler with a recording authorizer.
    Sqlite(SqliteOracle),
    /// PostgreSQL's `EXPLAIN (VERBOSE)` and grants.
    Postgres(PgOracle),
    /// MariaDB's `EXPLAIN EXTENDED` note and grants.
    Mysql(MysqlOracle),
}

impl Oracle {
    /// Opens the oracle of `dialect` (SQLite builds its fixture file).
    pub async fn open(dialect: Dialect) -> Result<Self, String> {
        Ok(match dialect {
            Dialect::Sqlite => Self::Sqlite(SqliteOracle::create()?),
            Dialect::Postgres => Self::Postgres(PgOracle::connect().await?),
            Dialect::Mysql => Self::Mysql(MysqlOracle::connect().await?),
        })
    }

    /// The URL the library's executor introspects for the validator's catalog.
    pub fn catalog_url(&self) -> String {
        match self {
            Self::Sqlite(o) => format!("sqlite://{}", o.path().display()),
            Self::Postgres(_) => fixture::pg_all_url(),
            Self::Mysql(_) => fixture::mysql_all_url(),
        }
    }

    /// What the database reads for `sql`. A server that does not answer within
    /// [`ANSWER_DEADLINE`] (the oracles' own statement timeouts did not stop it) is reported as
    /// lost, with [`HANG`] in the message, and the run stops whatever `keep_going` says.
    pub async fn observe(&mut self, sql: &str) -> Observation {
        self.observe_as(sql, false).await
    }

    /// What the database reads for the statement as the user wrote it (on SQLite, with
    /// double-quoted strings allowed, as SQLite ships).
    pub async fn observe_input(&mut self, sql: &str) -> Observation {
        self.observe_as(sql, true).await
    }

    async fn observe_as(&mut self, sql: &str, input: bool) -> Observation {
        let outcome = match self {
            Self::Sqlite(o) if input => return o.observe_input(sql),
            Self::Sqlite(o) => return o.observe(sql),
            Self::Postgres(o) => tokio::time::timeout(ANSWER_DEADLINE, o.observe(sql)).await,
            Self::Mysql(o) => tokio::time::timeout(ANSWER_DEADLINE, o.observe(sql)).await,
        };
        outcome.unwrap_or_else(|_| {
            match self {
                Self::Postgres(o) => o.mark_broken(),
                Self::Mysql(o) => o.mark_broken(),
                Self::Sqlite(_) => {}
            }
            Observation::Lost(format!(
                "{HANG}: no answer within {} s",
                ANSWER_DEADLINE.as_secs()
            ))
        })
    }
}

/// How long the database may take over one EXPLAIN before the statement counts as hanging it.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(20);

/// The start of the message of a statement that hung the server.
pub const HANG: &str = "the server hangs";

/// The validator under test, over the catalog the library introspects from the fixture, with
/// the fixture's policy.
pub async fn validator(dialect: Dialect, oracle: &Oracle) -> Result<Validator, String> {
    let url = oracle.catalog_url();
    let options = conversational_bi::exec::SourceOptions {
        pool_size: 1,
        ..Default::default()
    };
    let executor = conversational_bi::exec::connect(&url, options)
        .await
        .map_err(|e| {
            format!(
                "cannot open the fixture through the library: {e}; {}",
                fixture::SETUP_HINT
            )
        })?;
    let catalog = executor.catalog().await.map_err(|e| e.to_string())?;
    Ok(Validator::new(
        Arc::new(catalog),
        fixture::validator_options(dialect),
    ))
}

/// The most distinct details kept per class.
const MAX_DETAILS: usize = 500;

/// One statement that shows a class of disagreement.
#[derive(Debug, Clone)]
pub struct Example {
    /// The run's seed.
    pub seed: u64,
    /// The statement's index in the run.
    pub index: u64,
    /// Where it came from.
    pub origin: Origin,
    /// The input.
    pub input: String,
    /// What the validator accepted and the engine would send.
    pub exec_sql: String,
    /// What the database read or did.
    pub detail: String,
}

/// All findings of one class and mechanism, with the shortest example.
#[derive(Debug, Clone)]
pub struct Group {
    /// How many statements showed it.
    pub count: u64,
    /// The shortest of them.
    pub example: Example,
}

/// The outcome of a run.
#[derive(Debug, Default)]
pub struct Report {
    /// The dialect.
    pub dialect: Option<Dialect>,
    /// The seeds run (with their statement ranges).
    pub seeds: Vec<(u64, Range<u64>)>,
    /// Statements generated and validated.
    pub checked: u64,
    /// Statements the validator accepted (and the database was asked about).
    pub accepted: u64,
    /// Refusals by rule.
    pub refused: BTreeMap<String, u64>,
    /// Accepted statements whose `exec_sql` the database refused to compile.
    pub exec_refused_by_db: u64,
    /// Accepted statements whose reads the oracle could not read completely (not compared).
    pub partial: u64,
    /// The most frequent reasons of those refusals.
    pub db_refusals: BTreeMap<String, u64>,
    /// Findings by (class, mechanism).
    pub findings: BTreeMap<(Class, &'static str), Group>,
    /// Statements by origin: (checked, accepted, with a finding).
    pub by_origin: BTreeMap<Origin, (u64, u64, u64)>,
    /// Wall time.
    pub elapsed: Duration,
    /// The index at which the run stopped because the database went away.
    pub stopped: Option<u64>,
    /// The statement the database took longest over: (time, seed, index, exec_sql).
    pub slowest: Option<(Duration, u64, u64, String)>,
    /// Time spent in the database (both observations).
    pub in_database: Duration,
    /// How often each detail occurred, by class and mechanism (bounded).
    pub details: BTreeMap<(Class, &'static str), BTreeMap<String, u64>>,
}

impl Report {
    /// Statements per second.
    pub fn rate(&self) -> f64 {
        self.checked as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Statements with at least one security finding, by class.
    pub fn security(&self) -> u64 {
        self.findings
            .iter()
            .filter(|((c, _), _)| c.is_security())
            .map(|(_, g)| g.count)
            .sum()
    }

    /// Fidelity findings.
    pub fn fidelity(&self) -> u64 {
        self.findings
            .iter()
            .filter(|((c, _), _)| !c.is_security())
            .map(|(_, g)| g.count)
            .sum()
    }

    /// Adds another report's counts (same dialect).
    pub fn merge(&mut self, other: Report) {
        self.dialect = self.dialect.or(other.dialect);
        self.seeds.extend(other.seeds);
        self.checked += other.checked;
        self.accepted += other.accepted;
        self.exec_refused_by_db += other.exec_refused_by_db;
        self.partial += other.partial;
        self.elapsed += other.elapsed;
        self.stopped = self.stopped.or(other.stopped);
        self.in_database += other.in_database;
        for (k, m) in other.details {
            let mine = self.details.entry(k).or_default();
            for (d, n) in m {
                if mine.len() < MAX_DETAILS || mine.contains_key(&d) {
                    *mine.entry(d).or_default() += n;
                }
            }
        }
        if other.slowest.as_ref().map(|s| s.0) > self.slowest.as_ref().map(|s| s.0) {
            self.slowest = other.slowest;
        }
        for (k, v) in other.refused {
            *self.refused.entry(k).or_default() += v;
        }
        for (k, v) in other.db_refusals {
            *self.db_refusals.entry(k).or_default() += v;
        }
        for (k, (a, b, c)) in other.by_origin {
            let e = self.by_origin.entry(k).or_default();
            e.0 += a;
            e.1 += b;
            e.2 += c;
        }
        for (k, g) in other.findings {
            match self.findings.get_mut(&k) {
                Some(mine) => {
                    mine.count += g.count;
                    if g.example.input.len() < mine.example.input.len() {
                        mine.example = g.example;
                    }
                }
                None => {
                    self.findings.insert(k, g);
                }
            }
        }
    }
}

/// The first words of a database error, numbers and quoted names removed, to group refusals.
fn refusal_kind(e: &str) -> String {
    let mut s = String::new();
    let mut quoted = None;
    for c in e.chars() {
        match quoted {
            Some(q) if c == q => quoted = None,
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => {
                quoted = Some(c);
                s.push('…');
            }
            None if c.is_ascii_digit() => {}
            None => s.push(c),
        }
        if s.chars().count() >= 60 {
            break;
        }
    }
    s
}

/// Runs statements `range` of `seed` through the validator and the oracle. When the database
/// goes away the run stops, unless `keep_going` (a supervised private server that comes back):
/// then it waits for the server and goes on.
pub async fn run(
    generator: &Generator,
    validator: &Validator,
    oracle: &mut Oracle,
    seed: u64,
    range: Range<u64>,
    keep_going: bool,
) -> Report {
    let dialect = validator.dialect();
    let policy = Policy::new(dialect);
    let names = policy.names();
    let started = Instant::now();
    let mut report = Report {
        dialect: Some(dialect),
        seeds: vec![(seed, range.clone())],
        ..Default::default()
    };
    if range.start == 0 {
        known_crashes(validator, seed, &mut report);
    }
    for index in range {
        let stmt = generator.statement(seed, index);
        report.checked += 1;
        let origin = report.by_origin.entry(stmt.origin).or_default();
        origin.0 += 1;
        let outcome = catch_unwind(AssertUnwindSafe(|| validator.validate(&stmt.sql)));
        let validated = match outcome {
            Ok(Ok(v)) => v,
            Ok(Err(Error::SqlRejected { rule, .. })) => {
                *report.refused.entry(rule.as_str().to_string()).or_default() += 1;
                continue;
            }
            Ok(Err(e)) => {
                *report.refused.entry(format!("error: {e}")).or_default() += 1;
                continue;
            }
            Err(_) => {
                let finding = compare::Finding {
                    class: Class::ValidatorPanic,
                    mechanism: "panic",
                    detail: "validate panicked".into(),
                };
                record(
                    &mut report,
                    seed,
                    index,
                    stmt.origin,
                    &stmt.sql,
                    "",
                    vec![finding],
                );
                continue;
            }
        };
        report.accepted += 1;
        if let Some(o) = report.by_origin.get_mut(&stmt.origin) {
            o.1 += 1;
        }
        let asked = Instant::now();
        let on_exec = oracle.observe(&validated.exec_sql).await;
        let lost = matches!(on_exec, Observation::Lost(_));
        let on_input = if lost {
            on_exec.clone()
        } else {
            oracle.observe_input(&stmt.sql).await
        };
        let lost = lost || matches!(on_input, Observation::Lost(_));
        let took = asked.elapsed();
        report.in_database += took;
        if report.slowest.as_ref().is_none_or(|s| took > s.0) {
            report.slowest = Some((took, seed, index, validated.exec_sql.clone()));
        }
        if matches!(on_exec, Observation::Compiled { partial: true, .. }) {
            report.partial += 1;
        }
        if let Observation::Refused(e) = &on_exec {
            report.exec_refused_by_db += 1;
            *report.db_refusals.entry(refusal_kind(e)).or_default() += 1;
        }
        let findings = compare::compare(
            &policy,
            dialect,
            &names.validated(&validated),
            &validated.exec_sql,
            &on_exec,
            &on_input,
        );
        record(
            &mut report,
            seed,
            index,
            stmt.origin,
            &stmt.sql,
            &validated.exec_sql,
            findings,
        );
        let hung = [&on_exec, &on_input]
            .iter()
            .any(|o| matches!(o, Observation::Lost(e) if e.starts_with(HANG)));
        if lost && keep_going && !hung {
            tokio::time::sleep(Duration::from_secs(3)).await;
        } else if lost {
            // The server went away: what follows would only repeat it.
            report.stopped = Some(index);
            break;
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// Validates the statements of [`fixture::KNOWN_CRASHES`] (never sending them): each one the
/// validator accepts is a `database_lost` finding.
fn known_crashes(validator: &Validator, seed: u64, report: &mut Report) {
    for (dialect, sql, server) in fixture::KNOWN_CRASHES {
        if *dialect != validator.dialect() {
            continue;
        }
        if let Ok(v) = validator.validate(sql) {
            let finding = compare::Finding {
                class: Class::DatabaseLost,
                mechanism: "known_crash",
                detail: format!("crashes {server} (not sent)"),
            };
            record(
                report,
                seed,
                u64::MAX,
                Origin::Proof,
                sql,
                &v.exec_sql,
                vec![finding],
            );
        }
    }
}

fn record(
    report: &mut Report,
    seed: u64,
    index: u64,
    origin: Origin,
    input: &str,
    exec_sql: &str,
    findings: Vec<compare::Finding>,
) {
    if findings.is_empty() {
        return;
    }
    if let Some(o) = report.by_origin.get_mut(&origin) {
        o.2 += 1;
    }
    let mut seen = Vec::new();
    for f in findings {
        let key = (f.class, f.mechanism);
        let details = report.details.entry(key).or_default();
        if details.len() < MAX_DETAILS || details.contains_key(&f.detail) {
            *details.entry(f.detail.clone()).or_default() += 1;
        }
        if seen.contains(&key) {
            // One statement counts once per class; keep the details of the first read.
            continue;
        }
        seen.push(key);
        let example = Example {
            seed,
            index,
            origin,
            input: input.to_string(),
            exec_sql: exec_sql.to_string(),
            detail: f.detail,
        };
        match report.findings.get_mut(&key) {
            Some(g) => {
                g.count += 1;
                if example.input.len() < g.example.input.len() {
                    g.example = example;
                }
            }
            None => {
                report.findings.insert(key, Group { count: 1, example });
            }
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.dialect.map_or("?", Dialect::as_str);
        let refused: u64 = self.refused.values().sum();
        writeln!(
            f,
            "differential [{d}]: {} statements in {:.1} s ({:.0}/s): {} accepted, {refused} refused, {} security findings, {} fidelity findings",
            self.checked,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.accepted,
            self.security(),
            self.fidelity(),
        )?;
        if let Some(i) = self.stopped {
            writeln!(
                f,
                "  STOPPED at statement {i}: the database went away (see database_lost)"
            )?;
        }
        for (seed, range) in &self.seeds {
            writeln!(
                f,
                "  seed {seed:#x}, statements {}..{}",
                range.start, range.end
            )?;
        }
        let mut rules: Vec<_> = self.refused.iter().collect();
        rules.sort_by(|a, b| b.1.cmp(a.1));
        let rules: Vec<String> = rules.iter().map(|(r, n)| format!("{r} {n}")).collect();
        writeln!(f, "  refused by rule: {}", rules.join(", "))?;
        for (origin, (c, a, x)) in &self.by_origin {
            writeln!(
                f,
                "  {}: {c} checked, {a} accepted, {x} with findings",
                origin.as_str()
            )?;
        }
        if let Some((took, seed, index, sql)) = &self.slowest {
            writeln!(
                f,
                "  time in the database: {:.1} s; slowest statement {:.0} ms (seed {seed:#x} index {index}): {}",
                self.in_database.as_secs_f64(),
                took.as_secs_f64() * 1000.0,
                sql.chars().take(200).collect::<String>().escape_debug()
            )?;
        }
        if self.partial > 0 {
            writeln!(
                f,
                "  reads not compared (the oracle could not read them completely): {}",
                self.partial
            )?;
        }
        let mut db: Vec<_> = self.db_refusals.iter().collect();
        db.sort_by(|a, b| b.1.cmp(a.1));
        writeln!(
            f,
            "  accepted but refused by the database: {} (most frequent: {})",
            self.exec_refused_by_db,
            db.iter()
                .take(4)
                .map(|(k, n)| format!("{n}× {k}"))
                .collect::<Vec<_>>()
                .join(" | ")
        )?;
        for security in [true, false] {
            let groups: Vec<_> = self
                .findings
                .iter()
                .filter(|((c, _), _)| c.is_security() == security)
                .collect();
            if groups.is_empty() {
                continue;
            }
            writeln!(
                f,
                "  {} findings:",
                if security { "SECURITY" } else { "FIDELITY" }
            )?;
            for ((class, mechanism), g) in groups {
                let e = &g.example;
                writeln!(
                    f,
                    "    {} [{mechanism}]: {} statements; shortest: seed {:#x} index {} ({})",
                    class.as_str(),
                    g.count,
                    e.seed,
                    e.index,
                    e.origin.as_str()
                )?;
                writeln!(f, "      input:    {}", e.input.escape_debug())?;
                writeln!(f, "      exec_sql: {}", e.exec_sql.escape_debug())?;
                writeln!(f, "      database: {}", e.detail.escape_debug())?;
                if let Some(details) = self.details.get(&(*class, *mechanism)) {
                    let mut top: Vec<_> = details.iter().collect();
                    top.sort_by(|a, b| b.1.cmp(a.1));
                    let top: Vec<String> = top
                        .iter()
                        .take(6)
                        .map(|(d, n)| format!("{n}× {}", d.chars().take(80).collect::<String>()))
                        .collect();
                    writeln!(f, "      most frequent: {}", top.join(" | ").escape_debug())?;
                }
                if *mechanism == "star" {
                    writeln!(f, "      note:     {STAR_COLUMNS_NOTE}")?;
                }
            }
        }
        Ok(())
    }
}
