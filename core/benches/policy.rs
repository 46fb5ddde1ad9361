//! The cost of data permissions per statement: `View::validate` (validation, then every
//! filtered or masked table replaced by the principal's derived table, and the round trip of the
//! rewritten text) against the plain validation of the same statement on the same source, on
//! the demo database (SQLite Chinook).
//!
//! The statements join three tables, two of them filtered (`Customer` and `Invoice`, the
//! policy of `sales_rep`) and one not (`InvoiceLine`). A policy keeps the rewrites of the
//! statements it has seen, so two cases are measured: the first time a statement is seen (each
//! call with a literal of its own) and a statement seen before (the same text again, as a
//! repeated question or a cache hit). Criterion reports per-statement times; afterwards a plain
//! measurement over many calls prints p50 and p99 of each path and the difference from plain
//! validation, the extra time of the policy. Runs on mimalloc, the allocator of the
//! `heliosdb-conversational-bi` binary.

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

/// Three-table joins, `Customer` and `Invoice` filtered, `InvoiceLine` not; `{k}` is a literal
/// that makes each call a statement of its own.
const QUERIES: &[(&str, &str)] = &[
    (
        "join3",
        "SELECT c.FirstName, c.LastName, i.InvoiceDate, il.UnitPrice * il.Quantity AS amount FROM Customer c JOIN Invoice i ON i.CustomerId = c.CustomerId JOIN InvoiceLine il ON il.InvoiceId = i.InvoiceId WHERE i.Total > {k} ORDER BY i.InvoiceDate DESC LIMIT 50",
    ),
    (
        "join3_grouped",
        "SELECT c.Country, c.Email, count(DISTINCT i.InvoiceId) AS invoices, sum(il.UnitPrice * il.Quantity) AS revenue FROM InvoiceLine il JOIN Invoice i ON i.InvoiceId = il.InvoiceId JOIN Customer c ON c.CustomerId = i.CustomerId WHERE il.UnitPrice < {k} GROUP BY c.Country, c.Email ORDER BY revenue DESC",
    ),
];

/// Calls per path in the plain measurement.
const CALLS: usize = 10_000;

fn statement(template: &str, k: usize) -> String {
    template.replace("{k}", &k.to_string())
}

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

/// p50, p99 and max of `f` over `statements`.
fn distribution(statements: &[String], mut f: impl FnMut(&str)) -> [Duration; 3] {
    let mut samples = Vec::with_capacity(statements.len());
    for sql in statements {
        let start = Instant::now();
        f(black_box(sql));
        samples.push(start.elapsed());
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    [at(0.50), at(0.99), at(1.0)]
}

fn criterion_groups(c: &mut Criterion, source: &DataSource, view: &View) {
    let mut group = c.benchmark_group("policy");
    for (name, template) in QUERIES {
        let mut k = 1_000_000;
        group.bench_function(format!("{name}/plain"), |b| {
            b.iter(|| {
                k += 1;
                source.validate(black_box(&statement(template, k)))
            })
        });
        group.bench_function(format!("{name}/view_first"), |b| {
            b.iter(|| {
                k += 1;
                view.validate(black_box(&statement(template, k)))
            })
        });
        let repeated = statement(template, 10);
        group.bench_function(format!("{name}/view_repeated"), |b| {
            b.iter(|| view.validate(black_box(&repeated)))
        });
    }
    group.finish();
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (source, view, principal) = setup(&rt);
    for (name, template) in QUERIES {
        let sql = statement(template, 10);
        let plain = source
            .validate(&sql)
            .unwrap_or_else(|e| panic!("`{name}` must be accepted: {e}"));
        let policed = view
            .validate(&sql)
            .unwrap_or_else(|e| panic!("`{name}` must be accepted under the policy: {e}"));
        assert_ne!(plain.exec_sql, policed.exec_sql, "`{name}` is rewritten");
        assert!(
            policed.exec_sql.contains("SupportRepId = 3"),
            "{}",
            policed.exec_sql
        );
    }

    let mut c = Criterion::default().configure_from_args();
    criterion_groups(&mut c, &source, &view);
    c.bench_function("policy/bind_view", |b| {
        b.iter(|| rt.block_on(source.view(black_box(&principal))))
    });
    c.final_summary();

    // Distinct statements (never seen by the policy), alternating the two joins.
    let fresh = |offset: usize| -> Vec<String> {
        (0..CALLS)
            .map(|i| statement(QUERIES[i % QUERIES.len()].1, offset + i))
            .collect()
    };
    let repeated: Vec<String> = (0..CALLS)
        .map(|i| statement(QUERIES[i % QUERIES.len()].1, 10))
        .collect();
    let plain = distribution(&fresh(2_000_000), |sql| {
        black_box(source.validate(sql)).ok();
    });
    let first = distribution(&fresh(3_000_000), |sql| {
        black_box(view.validate(sql)).ok();
    });
    let again = distribution(&repeated, |sql| {
        black_box(view.validate(sql)).ok();
    });
    let rewritten: Vec<String> = fresh(4_000_000)
        .iter()
        .take(1000)
        .map(|sql| view.validate(sql).expect("accepted").exec_sql)
        .collect();
    let parse = distribution(&rewritten, |sql| {
        black_box(Parser::parse_sql(&SQLiteDialect {}, sql)).ok();
    });
    let show = |what: &str, d: [Duration; 3]| {
        println!(
            "{what} over {CALLS} calls: p50 = {:?}, p99 = {:?}, max = {:?}",
            d[0], d[1], d[2]
        );
    };
    show("plain validation", plain);
    show("view validation, first time a statement is seen", first);
    show("view validation, statement seen before", again);
    let extra = |d: [Duration; 3]| (d[0].saturating_sub(plain[0]), d[1].saturating_sub(plain[1]));
    let (f50, f99) = extra(first);
    let (a50, a99) = extra(again);
    println!(
        "extra time of the policy per statement (target: p99 <= 20 µs): first time p50 = {f50:?}, p99 = {f99:?}; seen before p50 = {a50:?}, p99 = {a99:?}"
    );
    println!(
        "for reference, sqlparser's parse alone of a rewritten text ({} bytes; the statement has {}): p50 = {:?}, p99 = {:?}",
        rewritten[0].len(),
        statement(QUERIES[0].1, 4_000_000).len(),
        parse[0],
        parse[1]
    );
}
