//! The cost of data permissions per statement: `View::validate` (validation, then every
//! filtered or masked table replaced by the principal's derived table, and the round trip of the
//! rewritten text) against the plain validation of the same statement on the same source, on
//! the demo database (SQLite Chinook).
//!
//! The statements join three tables, two of them filtered (`Customer` and `Invoice`, the
//! policy of `sales_rep`) and one not (`InvoiceLine`). Criterion reports per-statement times;
//! afterwards a plain measurement over many rounds prints p50 and p99 of single calls of each
//! path and their difference, the extra time of the policy. Runs on mimalloc, the allocator of
//! the `heliosdb-conversational-bi` binary.

#![allow(missing_docs)]

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use conversational_bi::{
    Config, DataSource, Principal,
    access::View,
    config::{ConfigSources, Interface, Secret},
};
use criterion::Criterion;
use sqlparser::{dialect::SQLiteDialect, parser::Parser};

// The allocator of the shipped binary, so that the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ACCESS: &str = r#"
[access.roles.sales_rep]
row_filters = { Customer = "SupportRepId = {user.employee_id}", Invoice = "CustomerId IN (SELECT CustomerId FROM Customer WHERE SupportRepId = {user.employee_id})" }
columns = { "Customer.Email" = "hash", "Customer.Phone" = "null", "Customer.Fax" = "text:(hidden)", "Employee.BirthDate" = "deny" }
"#;

/// Three-table joins: `Customer` and `Invoice` filtered, `InvoiceLine` not.
const QUERIES: &[(&str, &str)] = &[
    (
        "join3",
        "SELECT c.FirstName, c.LastName, i.InvoiceDate, il.UnitPrice * il.Quantity AS amount FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId JOIN InvoiceLine il ON il.InvoiceId = i.InvoiceId WHERE i.Total > 10 ORDER BY i.InvoiceDate DESC LIMIT 50",
    ),
    (
        "join3_grouped",
        "SELECT c.Country, c.Email, count(DISTINCT i.InvoiceId) AS invoices, sum(il.UnitPrice * il.Quantity) AS revenue FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.Country, c.Email ORDER BY revenue DESC",
    ),
];

/// The demo source under the policy, and rep 3's view of it.
fn setup(rt: &tokio::runtime::Runtime) -> (DataSource, View, Principal) {
    let mut config = Config::from_sources(ConfigSources::new(Interface::Embedded).toml(ACCESS))
        .expect("the benchmark's [access] policy");
    config.access.mask_key = Some(Secret::new("bench-key"));
    let principal = Principal::user("rep3")
        .role("sales_rep")
        .attribute("employee_id", 3);
    rt.block_on(async {
        let source = DataSource::connect(&config, None)
            .await
            .expect("the demo database");
        let view = source.view(&principal).await.expect("rep 3's view");
        (source, view, principal)
    })
}

/// Rounds of the plain measurement.
const ROUNDS: usize = 5000;

/// p50, p99 and max of `f` over many rounds of `queries`.
fn distribution(queries: &[&str], mut f: impl FnMut(&str)) -> [Duration; 3] {
    let mut samples = Vec::with_capacity(ROUNDS * queries.len());
    for _ in 0..ROUNDS {
        for sql in queries {
            let start = Instant::now();
            f(black_box(sql));
            samples.push(start.elapsed());
        }
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    [at(0.50), at(0.99), at(1.0)]
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (source, view, principal) = setup(&rt);
    for (name, sql) in QUERIES {
        let plain = source
            .validate(sql)
            .unwrap_or_else(|e| panic!("`{name}` must be accepted: {e}"));
        let policed = view
            .validate(sql)
            .unwrap_or_else(|e| panic!("`{name}` must be accepted under the policy: {e}"));
        assert_ne!(plain.exec_sql, policed.exec_sql, "`{name}` is rewritten");
        assert!(
            policed.exec_sql.contains("SupportRepId = 3"),
            "{}",
            policed.exec_sql
        );
    }

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("policy");
    for (name, sql) in QUERIES {
        group.bench_function(format!("{name}/plain"), |b| {
            b.iter(|| source.validate(black_box(sql)))
        });
        group.bench_function(format!("{name}/view"), |b| {
            b.iter(|| view.validate(black_box(sql)))
        });
    }
    group.bench_function("bind_view", |b| {
        b.iter(|| rt.block_on(source.view(black_box(&principal))))
    });
    group.finish();
    c.final_summary();

    let queries: Vec<&str> = QUERIES.iter().map(|(_, sql)| *sql).collect();
    let plain = distribution(&queries, |sql| {
        black_box(source.validate(sql)).ok();
    });
    let policed = distribution(&queries, |sql| {
        black_box(view.validate(sql)).ok();
    });
    // For reference: parsing the text the database receives under the policy (the derived
    // tables make it several times longer), which the rewrite's round trip does once.
    let rewritten: Vec<String> = queries
        .iter()
        .map(|sql| view.validate(sql).expect("accepted").exec_sql)
        .collect();
    let rewritten: Vec<&str> = rewritten.iter().map(String::as_str).collect();
    let parse = distribution(&rewritten, |sql| {
        black_box(Parser::parse_sql(&SQLiteDialect {}, sql)).ok();
    });
    let n = ROUNDS * QUERIES.len();
    println!(
        "plain validation over {n} calls: p50 = {:?}, p99 = {:?}, max = {:?}",
        plain[0], plain[1], plain[2]
    );
    println!(
        "view validation (with the policy rewrite) over {n} calls: p50 = {:?}, p99 = {:?}, max = {:?}",
        policed[0], policed[1], policed[2]
    );
    println!(
        "extra time of the policy per statement: p50 = {:?}, p99 = {:?} (target: p99 <= 20 µs)",
        policed[0].saturating_sub(plain[0]),
        policed[1].saturating_sub(plain[1])
    );
    println!(
        "sqlparser parse alone of the rewritten text ({} and {} bytes instead of {} and {}): p50 = {:?}, p99 = {:?}",
        rewritten[0].len(),
        rewritten[1].len(),
        queries[0].len(),
        queries[1].len(),
        parse[0],
        parse[1]
    );
}
