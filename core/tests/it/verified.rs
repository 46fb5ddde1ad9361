//! Verified queries answer the questions they were written for: their question or a
//! paraphrase with a value in each parameter, matched as the semantic cache's slot guard
//! decides, bound by the project's quoting and validated under the asker's permissions; on the
//! demo database and the PostgreSQL and MariaDB copies of Chinook (each with its own model).

use conversational_bi::{
    Ask, Principal,
    exec::Value,
    insight::{bind_verified, match_verified},
};
use testkit::db::Backend;

use crate::insight::{demo_copy, demo_engine, engine_on};

fn sum(rows: &[Vec<Value>], col: usize) -> f64 {
    rows.iter()
        .map(|r| match &r[col] {
            Value::Float(f) => *f,
            Value::Int(i) => *i as f64,
            Value::Decimal(d) | Value::Text(d) => d.parse().unwrap_or(0.0),
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn a_verified_question_with_a_known_value_is_answered_by_its_sql() {
    let engine = demo_engine().await;
    let (_, truth) = engine
        .source()
        .run(
            "SELECT strftime('%Y', InvoiceDate), SUM(Total) FROM Invoice \
             WHERE BillingCountry = 'Canada' GROUP BY 1 ORDER BY 1",
        )
        .await
        .expect("runs");
    for question in [
        "revenue in Canada by year",
        "Revenue in canada by year?",
        "yearly sales in Canada",
        "show me sales in Canada per year",
    ] {
        let answer = engine.ask(Ask::new(question)).await.expect("answers");
        assert!(answer.verified, "{question}: {}", answer.generator);
        assert_eq!(answer.generator, "verified");
        assert!(answer.sql.contains("'Canada'"), "{}", answer.sql);
        assert_eq!(answer.rows.len(), truth.rows.len(), "{question}");
        assert!((sum(&answer.rows, 1) - sum(&truth.rows, 1)).abs() < 1e-6);
        assert!(
            answer.explanation.contains("verified"),
            "{}",
            answer.explanation
        );
        assert_eq!(
            serde_json::to_value(&answer).expect("json")["verified"],
            true
        );
    }
    for question in [
        "revenue in Atlantis by year",
        "revenue in Canada by month",
        "revenue in Canada by year for rock tracks",
        "number of invoices in Canada by year",
        "revenue by country in 2023",
        "top 5 countries by revenue",
        "revenue by country for Rock tracks",
        "revenue not in Canada by year",
    ] {
        if let Ok(answer) = engine.ask(Ask::new(question)).await {
            assert!(!answer.verified, "{question}: {}", answer.sql);
        }
    }
}

#[tokio::test]
async fn follow_ups_after_a_verified_answer_keep_working() {
    let engine = demo_engine().await;
    let first = engine
        .ask(Ask::new("revenue in Canada by year").session("v"))
        .await
        .expect("answers");
    assert!(first.verified);
    let next = engine
        .ask(Ask::new("what about France?").session("v"))
        .await
        .expect("answers");
    assert!(!next.verified);
    assert!(
        next.sql.contains("'France'") && !next.sql.contains("'Canada'"),
        "{}",
        next.sql
    );
    assert!(next.row_count > 0);
}

#[tokio::test]
async fn hostile_values_never_change_the_statement() {
    let engine = demo_engine().await;
    let view = engine.view(&Principal::default()).await.expect("view");
    let semantic = view.semantic().expect("model");
    let query = semantic
        .model()
        .verified_queries
        .iter()
        .find(|q| !q.parameters.is_empty())
        .expect("a parameterized query")
        .clone();
    let dialect = view.catalog().dialect;
    let base = bind_verified(
        &view,
        dialect,
        &query,
        &[("country".into(), "Canada".into())],
    )
    .expect("binds");
    for hostile in [
        "'; DROP TABLE Invoice; --",
        "x' OR '1'='1",
        "Canada' UNION SELECT 1, 2 --",
        "a/* c */b",
        "-- c",
        "back\\slash'",
        "ünïcødé ’ 'quote",
        ":country",
    ] {
        let validated = bind_verified(
            &view,
            dialect,
            &query,
            &[("country".into(), hostile.into())],
        )
        .unwrap_or_else(|| panic!("{hostile:?} binds as a literal"));
        assert_eq!(validated.tables, base.tables, "{hostile:?}");
        assert_eq!(validated.named_columns, base.named_columns, "{hostile:?}");
        let (_, result) = view.run(&validated.sql).await.expect("runs");
        assert!(
            result.rows.is_empty(),
            "{hostile:?} matched rows: {}",
            validated.sql
        );
    }
    assert!(
        bind_verified(&view, dialect, &query, &[("country".into(), "a\0b".into())]).is_none(),
        "a NUL is refused"
    );
    // Through matching: hostile words are not a value, so nothing verified answers.
    for question in [
        "revenue in '; DROP TABLE Invoice; -- by year",
        "revenue in Canada' OR '1'='1 by year",
        "revenue in \"Canada' --\" by year",
    ] {
        let found = match_verified(question, &semantic.model().verified_queries, &view).await;
        assert!(found.is_none(), "{question}");
    }
    let (_, left) = view
        .run("SELECT COUNT(*) FROM Invoice")
        .await
        .expect("runs");
    assert!(matches!(left.rows[0][0], Value::Int(n) if n > 0));
}

const REP_ACCESS: &str = r#"
[access.roles.sales_rep]
row_filters = { Customer = "SupportRepId = {user.employee_id}", Invoice = "CustomerId IN (SELECT CustomerId FROM Customer WHERE SupportRepId = {user.employee_id})" }
"#;

#[tokio::test]
async fn a_verified_answer_applies_the_askers_row_filter_and_knows_only_their_values() {
    let toml = format!(
        "{REP_ACCESS}\n[semantic]\nmodel = {:?}\n",
        crate::insight::demo_model()
    );
    let engine = engine_on(&demo_copy(), &toml, None).await;
    let rep = Principal::user("rep3")
        .role("sales_rep")
        .attribute("employee_id", 3);
    let view = engine.view(&rep).await.expect("view");
    let seen: Vec<String> = view
        .run("SELECT DISTINCT BillingCountry FROM Invoice")
        .await
        .expect("runs")
        .1
        .rows
        .iter()
        .filter_map(|r| match &r[0] {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    let (_, all) = engine
        .source()
        .run("SELECT DISTINCT BillingCountry FROM Invoice")
        .await
        .expect("runs");
    let hidden = all
        .rows
        .iter()
        .filter_map(|r| match &r[0] {
            Value::Text(t) if !seen.contains(t) => Some(t.clone()),
            _ => None,
        })
        .next()
        .expect("a country rep 3 does not see");
    let visible = &seen[0];
    let answer = engine
        .ask(Ask::new(format!("revenue in {visible} by year")).principal(rep.clone()))
        .await
        .expect("answers");
    assert!(answer.verified);
    let (_, truth) = view
        .run(&format!(
            "SELECT SUM(Total) FROM Invoice WHERE BillingCountry = '{}'",
            visible.replace('\'', "''")
        ))
        .await
        .expect("runs");
    assert!((sum(&answer.rows, 1) - sum(&truth.rows, 0)).abs() < 1e-6);
    // A country whose invoices the rep cannot see is not a value to them.
    let candidates = &view.semantic().expect("model").model().verified_queries;
    let found = match_verified(&format!("revenue in {hidden} by year"), candidates, &view).await;
    assert!(found.is_none(), "{hidden} is hidden from rep 3");
}

/// A model of Chinook for `backend` with one verified query by country and year.
fn model(backend: Backend) -> String {
    let n = |p, s| backend.name(p, s);
    let year = match backend {
        Backend::Sqlite => format!("strftime('%Y', {})", n("InvoiceDate", "invoice_date")),
        _ => format!("EXTRACT(YEAR FROM {})", n("InvoiceDate", "invoice_date")),
    };
    format!(
        r#"name: chinook-{backend:?}
tables:
  - name: invoices
    table: {inv}
    dimensions:
      - name: billing country
        expr: {country}
        synonyms: [country]
    measures:
      - name: revenue
        expr: {total}
        aggregation: sum
        synonyms: [sales]
verified_queries:
  - question: "revenue in {{country}} by year"
    paraphrases: ["sales in {{country}} per year"]
    sql: |
      SELECT {year} AS yr, SUM({total}) AS revenue
      FROM {inv}
      WHERE {country} = :country
      GROUP BY {year}
      ORDER BY yr
    parameters:
      - name: country
        type: text
        column: {inv}.{country}
  - question: "invoices over {{amount}}"
    sql: SELECT COUNT(*) AS n FROM {inv} WHERE {total} > :amount
    parameters:
      - name: amount
        type: number
"#,
        inv = n("Invoice", "invoice"),
        country = n("BillingCountry", "billing_country"),
        total = n("Total", "total"),
    )
}

#[tokio::test]
async fn verified_queries_answer_on_each_database() {
    for backend in Backend::available() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("model.yaml");
        std::fs::write(&path, model(backend)).expect("write");
        let toml = format!("[semantic]\nmodel = {:?}\n", path.display().to_string());
        let engine = engine_on(&backend.chinook_url(), &toml, None).await;
        let answer = engine
            .ask(Ask::new("sales in Germany per year"))
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        assert!(answer.verified, "{backend:?}: {}", answer.sql);
        assert!(answer.sql.contains("'Germany'"), "{}", answer.sql);
        assert!(!answer.rows.is_empty());
        let answer = engine
            .ask(Ask::new("invoices over 20"))
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        assert!(answer.verified, "{backend:?}: {}", answer.sql);
        assert!(answer.sql.contains("> 20"), "{}", answer.sql);
        let view = engine.view(&Principal::default()).await.expect("view");
        let candidates = &view.semantic().expect("model").model().verified_queries;
        for miss in ["sales in Atlantis per year", "invoices over lots"] {
            assert!(
                match_verified(miss, candidates, &view).await.is_none(),
                "{backend:?}: {miss}"
            );
        }
    }
}
