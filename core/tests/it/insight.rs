//! What the engine answers besides rows, through `Engine::ask`: clarifications from a
//! generator, empty results that say which condition emptied them (under the asker's row
//! filters too), joins that count rows more than once, and follow-ups to ask next; on the demo
//! database (with its semantic model) and on the PostgreSQL and MariaDB copies of Chinook.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;
use conversational_bi::{
    Ask, Config, Engine, Principal,
    answer::{AnswerKind, Clarification, ClarificationOption},
    config::{ConfigSources, Interface},
    exec::Value,
    generate::{Generation, GenerationRequest, SqlGenerator},
    insight::fanout,
};
use testkit::db::{Backend, SETUP_HINT};

pub(crate) fn demo_model() -> String {
    format!("{}/../models/chinook.yaml", env!("CARGO_MANIFEST_DIR"))
}

/// The embedded defaults with `extra` TOML (e.g. `[semantic]`, `[access]`).
pub(crate) fn config(extra: &str) -> Config {
    Config::from_sources(ConfigSources::new(Interface::Embedded).toml(extra.to_string()))
        .expect("config")
}

/// A private copy of the demo database (data-permission tests build per-policy indexes).
pub(crate) fn demo_copy() -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chinook.sqlite");
    std::fs::write(&path, conversational_bi::demo::CHINOOK_SQLITE).expect("copy");
    let url = format!("sqlite://{}", path.display());
    std::mem::forget(dir);
    url
}

/// An engine on `url` with `toml`, and `generator` when given (the rule generator otherwise).
pub(crate) async fn engine_on(
    url: &str,
    toml: &str,
    generator: Option<Arc<dyn SqlGenerator>>,
) -> Engine {
    let mut builder = Engine::builder().config(config(toml)).database_url(url);
    if let Some(g) = generator {
        builder = builder.generator(g);
    }
    builder
        .build()
        .await
        .unwrap_or_else(|e| panic!("engine on {url}: {e}\n{SETUP_HINT}"))
}

/// The demo engine with its model.
pub(crate) async fn demo_engine() -> Engine {
    let toml = format!("[semantic]\nmodel = {:?}\n", demo_model());
    engine_on(&demo_copy(), &toml, None).await
}

/// Asks a clarification first; once the previous turn asked one, answers with SQL.
#[derive(Debug, Default)]
struct Asks {
    calls: AtomicUsize,
}

#[async_trait]
impl SqlGenerator for Asks {
    fn name(&self) -> String {
        "asks".into()
    }

    async fn generate(&self, request: &GenerationRequest) -> conversational_bi::Result<Generation> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let previous = request.history.last();
        if let Some(asked) = previous.and_then(|t| t.clarification.as_ref()) {
            assert!(previous.is_some_and(|t| t.sql.is_empty()));
            let picked = asked
                .options
                .iter()
                .find(|o| request.question.contains(&o.label))
                .expect("the reply names an option");
            let column = if picked.label == "invoice date" {
                "InvoiceDate"
            } else {
                "HireDate"
            };
            let table = if column == "InvoiceDate" {
                "Invoice"
            } else {
                "Employee"
            };
            return Ok(Generation {
                sql: format!("SELECT MIN({column}) AS first FROM {table}"),
                explanation: format!("the first {}", picked.label),
                state: None,
                degraded: None,
                clarification: None,
            });
        }
        Ok(Generation {
            sql: String::new(),
            explanation: String::new(),
            state: None,
            degraded: None,
            clarification: Some(Clarification {
                question: "Which date do you mean?".into(),
                options: vec![
                    ClarificationOption {
                        label: "invoice date".into(),
                        detail: "Invoice.InvoiceDate".into(),
                    },
                    ClarificationOption {
                        label: "hire date".into(),
                        detail: "Employee.HireDate".into(),
                    },
                ],
            }),
        })
    }
}

#[tokio::test]
async fn a_clarification_runs_nothing_is_never_cached_and_its_reply_continues_it() {
    let generator = Arc::new(Asks::default());
    let engine = engine_on(
        &demo_copy(),
        "[cache]\nenabled = true\n",
        Some(generator.clone()),
    )
    .await;
    for session in ["c1", "c2"] {
        let asked = engine
            .ask(Ask::new("When was the first one?").session(session))
            .await
            .expect("asks back");
        assert_eq!(asked.kind, AnswerKind::Clarification);
        assert!(asked.sql.is_empty() && asked.rows.is_empty() && asked.columns.is_empty());
        assert!(asked.explanation.contains("Which date do you mean?"));
        let c = asked.clarification.as_ref().expect("clarification");
        assert_eq!(c.options.len(), 2);
        assert_eq!(asked.suggestions, ["invoice date", "hire date"]);
        assert!(!asked.cache_hit);
        let json = serde_json::to_value(&asked).expect("json");
        assert_eq!(json["kind"], "clarification");
        assert_eq!(json["clarification"]["options"][0]["label"], "invoice date");
        let state = engine.session("default", session).await.expect("state");
        let turn = state.turns.last().expect("saved");
        assert!(turn.sql.is_empty());
        assert_eq!(turn.clarification.as_ref(), Some(c));
    }
    // Both sessions reached the generator: the question back was not cached.
    assert_eq!(generator.calls.load(Ordering::SeqCst), 2);
    let answer = engine
        .ask(Ask::new("the hire date").session("c1"))
        .await
        .expect("answers");
    assert_eq!(answer.kind, AnswerKind::Answer);
    assert_eq!(answer.turn, 2);
    assert!(answer.sql.contains("HireDate"), "{}", answer.sql);
    assert_eq!(answer.rows.len(), 1);
    assert!(answer.clarification.is_none());
}

/// One SQL statement, whatever the question.
#[derive(Debug)]
struct Fixed(String);

#[async_trait]
impl SqlGenerator for Fixed {
    fn name(&self) -> String {
        "fixed".into()
    }

    async fn generate(&self, _: &GenerationRequest) -> conversational_bi::Result<Generation> {
        Ok(Generation {
            sql: self.0.clone(),
            explanation: "fixed".into(),
            state: None,
            degraded: None,
            clarification: None,
        })
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(t) | Value::Decimal(t) => t.clone(),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn an_empty_year_names_the_range_and_the_nearest_year_answers() {
    let engine = demo_engine().await;
    let first = engine
        .ask(Ask::new("Total sales by country").session("empty"))
        .await
        .expect("answers");
    assert!(first.row_count > 0);
    let empty = engine
        .ask(Ask::new("only 2012").session("empty"))
        .await
        .expect("answers");
    assert_eq!(empty.row_count, 0, "{}", empty.sql);
    assert!(
        empty
            .warnings
            .iter()
            .any(|w| w.contains("from January 2021 to December 2025")),
        "{:?}",
        empty.warnings
    );
    assert!(empty.explanation.contains("2012"), "{}", empty.explanation);
    assert_eq!(
        empty.suggestions.first().map(String::as_str),
        Some("what about 2021")
    );
    let next = engine
        .ask(Ask::new(empty.suggestions[0].clone()).session("empty"))
        .await
        .expect("answers");
    assert!(next.row_count > 0, "{}", next.sql);
    assert!(next.sql.contains("2021"), "{}", next.sql);
}

#[tokio::test]
async fn an_empty_text_filter_names_the_nearest_values() {
    let sql = "SELECT InvoiceId FROM Invoice WHERE BillingCountry = 'Brazl' AND Total > 1";
    let engine = engine_on(&demo_copy(), "", Some(Arc::new(Fixed(sql.into())))).await;
    let answer = engine.ask(Ask::new("x")).await.expect("answers");
    assert_eq!(answer.row_count, 0);
    let why = answer
        .warnings
        .iter()
        .find(|w| w.starts_with("no rows"))
        .expect("explained");
    assert!(why.contains("BillingCountry = 'Brazl'"), "{why}");
    assert!(why.contains("'Brazil'"), "{why}");
    assert_eq!(
        answer.suggestions.first().map(String::as_str),
        Some("what about Brazil")
    );
    // Two dropped conditions: two statements, and no more.
    assert!(answer.timings.contains_key("insight"));
}

const REP_ACCESS: &str = r#"
[access.roles.sales_rep]
row_filters = { Customer = "SupportRepId = {user.employee_id}", Invoice = "CustomerId IN (SELECT CustomerId FROM Customer WHERE SupportRepId = {user.employee_id})" }
"#;

fn rep(id: i64) -> Principal {
    Principal::user(format!("rep{id}"))
        .role("sales_rep")
        .attribute("employee_id", id)
}

/// The countries of all invoices, and those rep 3 sees.
async fn countries(engine: &Engine) -> (Vec<String>, Vec<String>) {
    let all = engine
        .source()
        .run("SELECT DISTINCT BillingCountry FROM Invoice")
        .await
        .expect("runs")
        .1
        .rows
        .iter()
        .map(|r| text(&r[0]))
        .collect();
    let view = engine.view(&rep(3)).await.expect("view");
    let seen = view
        .run("SELECT DISTINCT BillingCountry FROM Invoice")
        .await
        .expect("runs")
        .1
        .rows
        .iter()
        .map(|r| text(&r[0]))
        .collect();
    (all, seen)
}

#[tokio::test]
async fn an_empty_result_under_a_row_filter_reveals_no_hidden_value_or_range() {
    let probe = engine_on(&demo_copy(), REP_ACCESS, None).await;
    let (all, seen) = countries(&probe).await;
    let hidden: Vec<&String> = all.iter().filter(|c| !seen.contains(c)).collect();
    assert!(!hidden.is_empty(), "rep 3 must not see every country");
    // A near miss of a hidden country: its nearest known values are the rep's own.
    let target = hidden[0];
    let miss = format!("{}x", &target[..target.len() - 1]);
    let sql = format!(
        "SELECT InvoiceId, InvoiceDate FROM Invoice WHERE BillingCountry = '{miss}' AND Total > 0"
    );
    let engine = engine_on(&demo_copy(), REP_ACCESS, Some(Arc::new(Fixed(sql)))).await;
    let answer = engine
        .ask(Ask::new("x").principal(rep(3)))
        .await
        .expect("answers");
    assert_eq!(answer.row_count, 0);
    let why = answer
        .warnings
        .iter()
        .find(|w| w.starts_with("no rows"))
        .expect("explained");
    for h in &hidden {
        assert!(!why.contains(&format!("'{h}'")), "{h} leaked: {why}");
    }
    let values: Vec<&str> = answer
        .suggestions
        .iter()
        .filter_map(|s| s.strip_prefix("what about "))
        .collect();
    assert_eq!(values.len(), 1, "{:?}", answer.suggestions);
    assert!(
        seen.iter().any(|c| c == values[0]),
        "{values:?} is not the rep's"
    );
    // A date range under the filter is the rep's own range.
    let sql =
        "SELECT InvoiceId FROM Invoice WHERE strftime('%Y', InvoiceDate) = '1999' AND Total > 0";
    let engine = engine_on(&demo_copy(), REP_ACCESS, Some(Arc::new(Fixed(sql.into())))).await;
    let answer = engine
        .ask(Ask::new("x").principal(rep(3)))
        .await
        .expect("answers");
    let view = engine.view(&rep(3)).await.expect("view");
    let (_, range) = view
        .run("SELECT MIN(InvoiceDate), MAX(InvoiceDate) FROM Invoice")
        .await
        .expect("runs");
    let (lo, hi) = (text(&range.rows[0][0]), text(&range.rows[0][1]));
    let why = answer
        .warnings
        .iter()
        .find(|w| w.starts_with("no rows"))
        .expect("explained");
    let year = |t: &str| t[..4].to_string();
    assert!(
        why.contains(&year(&lo)) && why.contains(&year(&hi)),
        "{why}"
    );
}

#[tokio::test]
async fn fan_out_is_flagged_only_where_a_join_repeats_the_aggregated_rows() {
    for backend in Backend::available() {
        let engine = engine_on(&backend.chinook_url(), "", None).await;
        let catalog = engine.schema();
        let n = |p, s| backend.name(p, s).to_string();
        let (inv, line, id, total, price, qty, cust) = (
            n("Invoice", "invoice"),
            n("InvoiceLine", "invoice_line"),
            n("InvoiceId", "invoice_id"),
            n("Total", "total"),
            n("UnitPrice", "unit_price"),
            n("Quantity", "quantity"),
            n("CustomerId", "customer_id"),
        );
        let join = format!("FROM {inv} i JOIN {line} il ON il.{id} = i.{id}");
        let positive = format!("SELECT SUM(i.{total}) AS revenue {join}");
        let warnings = fanout::warnings(&positive, &catalog, None);
        assert_eq!(warnings.len(), 1, "{backend:?}: {warnings:?}");
        assert!(
            warnings[0].contains(&inv) && warnings[0].contains(&line),
            "{}",
            warnings[0]
        );
        let bare = format!("SELECT AVG({total}) FROM {inv} JOIN {line} USING ({id})");
        assert_eq!(fanout::warnings(&bare, &catalog, None).len(), 1, "{bare}");
        for negative in [
            format!("SELECT SUM(il.{price} * il.{qty}) AS revenue {join}"),
            format!("SELECT COUNT(DISTINCT i.{id}) {join}"),
            format!("SELECT COUNT(*) {join}"),
            format!("SELECT MAX(i.{total}) {join}"),
            format!("SELECT SUM(i.{total}) FROM {inv} i"),
            format!(
                "SELECT SUM(i.{total}) FROM {inv} i JOIN {c} c ON c.{cust} = i.{cust}",
                c = n("Customer", "customer")
            ),
        ] {
            let w = fanout::warnings(&negative, &catalog, None);
            assert!(w.is_empty(), "{backend:?}: {negative}: {w:?}");
        }
        // Through the engine: the warning comes with the answer.
        let engine = engine_on(
            &backend.chinook_url(),
            "",
            Some(Arc::new(Fixed(positive.clone()))),
        )
        .await;
        let answer = engine
            .ask(Ask::new("revenue of lines"))
            .await
            .expect("runs");
        assert!(
            answer.warnings.iter().any(|w| w.contains("more than once")),
            "{backend:?}: {:?}",
            answer.warnings
        );
    }
}

#[tokio::test]
async fn each_suggestion_asked_next_is_answered() {
    let engine = demo_engine().await;
    for (k, question) in [
        "Total sales by country",
        "How many invoices were issued in 2022?",
        "Top 5 genres by number of tracks",
        "revenue in Canada by year",
        "Which customers are in Germany?",
    ]
    .into_iter()
    .enumerate()
    {
        let first = engine
            .ask(Ask::new(question).session(format!("s{k}")))
            .await
            .expect("answers");
        assert!(first.suggestions.len() <= 3, "{:?}", first.suggestions);
        if k < 2 {
            assert!(
                first.suggestions.len() >= 2,
                "{question}: {:?}",
                first.suggestions
            );
        }
        for (j, s) in first.suggestions.iter().enumerate() {
            let session = format!("s{k}-{j}");
            engine
                .ask(Ask::new(question).session(&session))
                .await
                .expect("answers");
            let next = engine
                .ask(Ask::new(s.clone()).session(&session))
                .await
                .unwrap_or_else(|e| panic!("{question} → {s}: {e}"));
            assert_eq!(next.kind, AnswerKind::Answer);
            assert!(!next.sql.is_empty());
        }
    }
}

#[tokio::test]
async fn without_a_model_suggestions_come_from_the_catalog_on_each_database() {
    for backend in Backend::available() {
        let engine = engine_on(&backend.chinook_url(), "", None).await;
        let answer = engine
            .ask(Ask::new("Total sales by billing country").session("cat"))
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        assert!(
            !answer.suggestions.is_empty(),
            "{backend:?}: {}",
            answer.sql
        );
        for (j, s) in answer.suggestions.iter().enumerate() {
            let session = format!("cat-{j}");
            engine
                .ask(Ask::new("Total sales by billing country").session(&session))
                .await
                .expect("answers");
            engine
                .ask(Ask::new(s.clone()).session(&session))
                .await
                .unwrap_or_else(|e| panic!("{backend:?}: {s}: {e}"));
        }
    }
}

#[tokio::test]
async fn empty_results_explain_themselves_on_each_database() {
    for backend in Backend::available() {
        let n = |p, s| backend.name(p, s).to_string();
        let (inv, date, total, country) = (
            n("Invoice", "invoice"),
            n("InvoiceDate", "invoice_date"),
            n("Total", "total"),
            n("BillingCountry", "billing_country"),
        );
        let year = match backend {
            Backend::Sqlite => format!("CAST(strftime('%Y', {date}) AS INTEGER)"),
            _ => format!("EXTRACT(YEAR FROM {date})"),
        };
        let sql = format!(
            "SELECT {country}, SUM({total}) FROM {inv} WHERE {year} = 1999 AND {total} > 0 GROUP BY {country}"
        );
        let engine = engine_on(&backend.chinook_url(), "", Some(Arc::new(Fixed(sql)))).await;
        let answer = engine
            .ask(Ask::new("x"))
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        assert_eq!(answer.row_count, 0);
        let (_, range) = engine
            .source()
            .run(&format!("SELECT MIN({date}), MAX({date}) FROM {inv}"))
            .await
            .expect("runs");
        let (lo, hi) = (text(&range.rows[0][0]), text(&range.rows[0][1]));
        let why = answer
            .warnings
            .iter()
            .find(|w| w.starts_with("no rows"))
            .unwrap_or_else(|| panic!("{backend:?}: {:?}", answer.warnings));
        assert!(why.contains("1999"), "{why}");
        assert!(
            why.contains(&lo[..4]) && why.contains(&hi[..4]),
            "{backend:?}: {why}"
        );
        assert_eq!(
            answer.suggestions.first(),
            Some(&format!("what about {}", &lo[..4])),
            "{backend:?}"
        );
        // A condition that is never true is named, with no range of a column it lacks.
        let sql = format!("SELECT {country} FROM {inv} WHERE 1 = 0");
        let engine = engine_on(&backend.chinook_url(), "", Some(Arc::new(Fixed(sql)))).await;
        let answer = engine.ask(Ask::new("x")).await.expect("runs");
        assert_eq!(answer.row_count, 0);
        assert_eq!(
            answer.warnings,
            ["no rows: No rows match the condition 1 = 0; without it, rows come back."],
            "{backend:?}"
        );
        assert!(
            answer
                .suggestions
                .iter()
                .all(|s| !s.starts_with("what about"))
        );
    }
}

#[tokio::test]
async fn derived_statements_keep_hostile_literals_as_literals() {
    let url = demo_copy();
    for sql in [
        "SELECT InvoiceId FROM Invoice WHERE BillingCountry = 'x''; DROP TABLE Invoice; --' AND Total > 1",
        "SELECT InvoiceId FROM Invoice WHERE BillingCountry = '/* x */ Brazil' AND Total > 1",
        "SELECT InvoiceId FROM Invoice WHERE BillingCountry = 'Bra''zil'' OR ''1''=''1' AND Total > 1",
    ] {
        let engine = engine_on(&url, "", Some(Arc::new(Fixed(sql.into())))).await;
        let answer = engine.ask(Ask::new("x")).await.expect("answers");
        assert_eq!(answer.row_count, 0, "{sql}");
        let why = answer
            .warnings
            .iter()
            .find(|w| w.starts_with("no rows"))
            .unwrap_or_else(|| panic!("{sql}: {:?}", answer.warnings));
        assert!(why.contains("BillingCountry = '"), "{why}");
        let (_, left) = engine
            .source()
            .run("SELECT COUNT(*) FROM Invoice")
            .await
            .expect("runs");
        assert_eq!(left.rows[0][0], Value::Int(412));
    }
    // HAVING is one condition, dropped as a whole.
    let sql = "SELECT BillingCountry, SUM(Total) AS s FROM Invoice WHERE Total > 0 \
               GROUP BY BillingCountry HAVING SUM(Total) > 100000";
    let engine = engine_on(&url, "", Some(Arc::new(Fixed(sql.into())))).await;
    let answer = engine.ask(Ask::new("x")).await.expect("answers");
    assert!(
        answer
            .warnings
            .iter()
            .any(|w| w.contains("No rows match the condition SUM(Total) > 100000")),
        "{:?}",
        answer.warnings
    );
}
