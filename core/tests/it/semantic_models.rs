//! The shipped semantic models (models/*.yaml) and the dbt example project
//! (examples/dbt-chinook) checked against their databases: every model binds, every verified
//! query (with a real value for each parameter) passes the validator and returns rows, and each
//! kind of mistake stops the source with the file, the line and the key.

use std::path::{Path, PathBuf};

use conversational_bi::{
    Config, DataSource, Dialect,
    exec::Value,
    semantic::{Aggregation, ParameterType, Semantic},
};
use testkit::{db, services};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn config(models: &[PathBuf]) -> Config {
    let list: Vec<String> = models
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    let toml = format!("[semantic]\nmodel = [{}]\n", list.join(", "));
    let mut config = Config::from_toml_str(&toml, None).expect("parses");
    config.resolve(None).expect("valid");
    config
}

async fn connect(models: &[PathBuf], url: &str) -> conversational_bi::Result<DataSource> {
    DataSource::connect(&config(models), Some(url)).await
}

fn sqlite(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    }
}

fn literal(value: &Value) -> String {
    match value {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Decimal(d) => d.clone(),
        Value::Text(t) => format!("'{}'", t.replace('\'', "''")),
        other => panic!("unexpected parameter value {other:?}"),
    }
}

/// Runs every verified query of `source`'s model with a real value of each parameter's column;
/// returns how many ran.
async fn run_verified(source: &DataSource, label: &str) -> usize {
    let semantic: &Semantic = source.semantic().expect("the model is loaded");
    let dialect = source.catalog().dialect;
    let mut ran = 0;
    for v in &semantic.model().verified_queries {
        let mut values = Vec::new();
        for p in &v.parameters {
            let column = p.column.as_deref().unwrap_or_else(|| {
                panic!(
                    "{label}: parameter {} of {:?} names no column",
                    p.name, v.question
                )
            });
            let (table, col) = column.rsplit_once('.').expect("Table.Column");
            let probe = format!(
                "SELECT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY {c} LIMIT 1",
                c = quote(dialect, col),
                t = quote(dialect, table)
            );
            let checked = source.validate(&probe).expect("the probe passes");
            let rows = source
                .executor()
                .execute(&checked.exec_sql)
                .await
                .expect("the probe runs");
            let value = rows.rows[0][0].clone();
            assert!(
                p.kind != ParameterType::Text || matches!(value, Value::Text(_)),
                "{label}: {column} is not text: {value:?}"
            );
            values.push((p.name.clone(), literal(&value)));
        }
        let sql = conversational_bi::semantic::verified::bind(dialect, &v.sql, |name| {
            values
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, l)| l.clone())
        })
        .unwrap_or_else(|| panic!("{label}: {:?} binds", v.question));
        let checked = source
            .validate(&sql)
            .unwrap_or_else(|e| panic!("{label}: {:?} is refused: {e}", v.question));
        let result = source
            .executor()
            .execute(&checked.exec_sql)
            .await
            .unwrap_or_else(|e| panic!("{label}: {:?} fails: {e}", v.question));
        assert!(
            !result.rows.is_empty(),
            "{label}: {:?} returns no rows with {values:?}",
            v.question
        );
        ran += 1;
    }
    ran
}

async fn check_shipped(model: &str, url: &str, label: &str) {
    let path = if Path::new(model).is_absolute() {
        PathBuf::from(model)
    } else {
        repo(model)
    };
    let source = connect(std::slice::from_ref(&path), url)
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let semantic = source.semantic().expect("loaded");
    let written = conversational_bi::semantic::parse(
        &std::fs::read_to_string(&path).expect("reads"),
        Some(&path),
    )
    .expect("parses");
    assert_eq!(
        semantic.model().tables.len(),
        written.tables.len(),
        "{label}: every table binds"
    );
    assert!(
        semantic
            .model()
            .verified_queries
            .iter()
            .any(|v| !v.parameters.is_empty()),
        "{label}: a parameterized verified query"
    );
    let ran = run_verified(&source, label).await;
    assert_eq!(ran, written.verified_queries.len());
}

#[tokio::test]
async fn chinook_model_checks_on_the_demo_database() {
    check_shipped(
        "models/chinook.yaml",
        &sqlite(&db::chinook_sqlite()),
        "chinook/sqlite",
    )
    .await;
}

#[tokio::test]
async fn chinook_model_checks_on_mariadb() {
    if !services::require_database(Dialect::Mysql) {
        return;
    }
    // The shipped file is written in SQL both dialects read (SUBSTR of the date for its year).
    check_shipped("models/chinook.yaml", &db::mysql_url(), "chinook/mariadb").await;
}

#[tokio::test]
async fn northwind_model_checks_on_sqlite() {
    check_shipped(
        "models/northwind.yaml",
        &format!("sqlite://{}/data/northwind/northwind.sqlite", shared()),
        "northwind/sqlite",
    )
    .await;
}

#[tokio::test]
async fn sakila_model_checks_on_sqlite() {
    check_shipped(
        "models/sakila.yaml",
        &format!("sqlite://{}/data/sakila/sakila.sqlite", shared()),
        "sakila/sqlite",
    )
    .await;
}

#[tokio::test]
async fn sakila_model_checks_on_postgres() {
    if !services::require_database(Dialect::Postgres) {
        return;
    }
    check_shipped(
        "models/sakila.yaml",
        &db::pg_sakila_url(),
        "sakila/postgres",
    )
    .await;
}

/// The shared data folder (`$CBI_SHARED_DIR`, default `<repo>/../shared`), as
/// scripts/load-test-data.sh reads it.
fn shared() -> String {
    std::env::var("CBI_SHARED_DIR")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| repo("../shared").display().to_string())
}

// ---- the dbt example project ----------------------------------------------------------------

fn dbt_files() -> Vec<PathBuf> {
    vec![
        repo("examples/dbt-chinook/models/marts/metrics.yml"),
        repo("examples/dbt-chinook/models/marts/sales.yml"),
    ]
}

async fn scalar(source: &DataSource, sql: &str) -> f64 {
    let checked = source
        .validate(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let result = source
        .executor()
        .execute(&checked.exec_sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    match &result.rows[0][0] {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Decimal(d) => d.parse().expect("a number"),
        other => panic!("{sql}: {other:?}"),
    }
}

#[tokio::test]
async fn the_dbt_project_imports_and_checks_on_the_demo_database() {
    // The metrics file comes first: its metrics use the measures of the other file.
    let source = connect(&dbt_files(), &sqlite(&db::chinook_sqlite()))
        .await
        .expect("the dbt project checks");
    let semantic = source.semantic().expect("loaded");
    let model = semantic.model();
    let names: Vec<&str> = model.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["invoices", "invoice_lines", "customers", "tracks"],
        "one table per semantic model"
    );
    let invoices = &model.tables[0];
    assert_eq!(invoices.physical(), "Invoice");
    let date = &invoices.time_dimensions[0];
    assert_eq!(
        (date.name.as_str(), date.expr.as_str(), date.primary),
        ("invoice_date", "InvoiceDate", true)
    );
    assert_eq!(invoices.dimensions[0].synonyms, ["Billing country"]);
    let measure = |t: &str, m: &str| {
        let ti = model
            .tables
            .iter()
            .position(|x| x.name == t)
            .expect("table");
        let mi = model.tables[ti]
            .measures
            .iter()
            .position(|x| x.name == m)
            .unwrap_or_else(|| panic!("no measure {m} on {t}"));
        (
            model.tables[ti].measures[mi].clone(),
            semantic.sql(conversational_bi::semantic::Item::Measure(ti, mi)),
        )
    };
    // A simple metric publishes its measure under the metric's name, label and description.
    let (revenue, revenue_sql) = measure("invoices", "revenue");
    assert_eq!(revenue.aggregation, Aggregation::Sum);
    assert_eq!(revenue.synonyms, ["Sales"]);
    assert_eq!(revenue.description, "Money billed, in US dollars.");
    assert!(
        !invoices.measures.iter().any(|m| m.name == "invoice_total"),
        "{:?}",
        invoices.measures
    );
    // Relationships from foreign entities.
    let rel: Vec<(&str, &str, &str, &str)> = model
        .relationships
        .iter()
        .map(|r| {
            (
                r.left_table.as_str(),
                r.right_table.as_str(),
                r.columns[0].left.as_str(),
                r.columns[0].right.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rel,
        [
            ("invoices", "customers", "CustomerId", "CustomerId"),
            ("invoice_lines", "invoices", "InvoiceId", "InvoiceId"),
            ("invoice_lines", "tracks", "TrackId", "TrackId"),
        ]
    );

    // The measures compute what the data says.
    let total = scalar(&source, "SELECT SUM(Total) FROM Invoice").await;
    let count = scalar(&source, "SELECT COUNT(*) FROM Invoice").await;
    let usa = scalar(
        &source,
        "SELECT SUM(Total) FROM Invoice WHERE BillingCountry = 'USA'",
    )
    .await;
    let of = |sql: String| format!("SELECT {sql} FROM Invoice");
    assert!((scalar(&source, &of(revenue_sql)).await - total).abs() < 1e-6);
    let (_, usa_sql) = measure("invoices", "usa_revenue");
    assert!((scalar(&source, &of(usa_sql)).await - usa).abs() < 1e-6);
    let (aov, aov_sql) = measure("invoices", "average_order_value");
    assert_eq!(aov.aggregation, Aggregation::None);
    assert!((scalar(&source, &of(aov_sql)).await - total / count).abs() < 1e-6);
    let (_, outside_sql) = measure("invoices", "revenue_outside_usa");
    assert!((scalar(&source, &of(outside_sql)).await - (total - usa)).abs() < 1e-6);
    let large = scalar(&source, "SELECT COUNT(*) FROM Invoice WHERE Total >= 10").await;
    let (_, share_sql) = measure("invoices", "large_invoice_share");
    assert!((scalar(&source, &of(share_sql)).await - large / count).abs() < 1e-9);
    let videos = scalar(&source, "SELECT COUNT(*) FROM Track WHERE MediaTypeId = 3").await;
    let (_, videos_sql) = measure("tracks", "video_tracks");
    assert_eq!(
        scalar(&source, &format!("SELECT {videos_sql} FROM Track")).await,
        videos
    );
}

// ---- mistakes -------------------------------------------------------------------------------

const GOOD: &str = "\
name: shop
tables:
  - name: invoices
    table: Invoice
    measures:
      - name: revenue
        expr: Total
    filters:
      - name: big
        expr: Total > 10
verified_queries:
  - question: revenue by country
    sql: SELECT BillingCountry, SUM(Total) FROM Invoice GROUP BY BillingCountry
";

async fn mistake(text: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shop.yaml");
    std::fs::write(&path, text).expect("writes");
    let error = connect(&[path], &sqlite(&db::chinook_sqlite()))
        .await
        .expect_err("the model is refused");
    assert_eq!(error.kind(), conversational_bi::ErrorKind::Config);
    error.to_string()
}

#[tokio::test]
async fn the_good_model_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shop.yaml");
    std::fs::write(&path, GOOD).expect("writes");
    connect(&[path], &sqlite(&db::chinook_sqlite()))
        .await
        .expect("the model loads");
}

#[tokio::test]
async fn an_unknown_table_names_file_line_and_key() {
    let e = mistake(&GOOD.replace("table: Invoice", "table: Invoices")).await;
    assert!(e.contains("shop.yaml:4:"), "{e}");
    assert!(e.contains("tables[0].table"), "{e}");
    assert!(e.contains("Invoices"), "{e}");
}

#[tokio::test]
async fn an_unknown_column_in_a_measure_names_file_line_and_key() {
    let e = mistake(&GOOD.replace("expr: Total\n", "expr: Totl\n")).await;
    assert!(e.contains("shop.yaml:7:"), "{e}");
    assert!(e.contains("tables[0].measures[0].expr"), "{e}");
    assert!(e.contains("Totl"), "{e}");
}

#[tokio::test]
async fn a_refused_expression_names_file_line_and_key() {
    let e = mistake(&GOOD.replace("expr: Total > 10", "expr: load_extension('x') IS NULL")).await;
    assert!(e.contains("shop.yaml:10:"), "{e}");
    assert!(e.contains("tables[0].filters[0].expr"), "{e}");
    assert!(e.contains("refused"), "{e}");
    let e = mistake(&GOOD.replace(
        "expr: Total\n",
        "expr: (SELECT COUNT(*) FROM Invoice); DELETE FROM Invoice\n",
    ))
    .await;
    assert!(e.contains("shop.yaml:7:"), "{e}");
    assert!(e.contains("tables[0].measures[0].expr"), "{e}");
}

#[tokio::test]
async fn a_refused_verified_query_names_file_line_and_key() {
    let e = mistake(&GOOD.replace(
        "sql: SELECT BillingCountry, SUM(Total) FROM Invoice GROUP BY BillingCountry",
        "sql: DELETE FROM Invoice",
    ))
    .await;
    assert!(e.contains("shop.yaml:13:"), "{e}");
    assert!(e.contains("verified_queries[0].sql"), "{e}");
}

#[tokio::test]
async fn a_dbt_mistake_found_against_the_database_names_the_dbt_file_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sales.yml");
    let text = std::fs::read_to_string(repo("examples/dbt-chinook/models/marts/sales.yml"))
        .expect("reads")
        .replace("expr: UnitPrice * Quantity\n", "expr: UnitPrice * Qty\n");
    std::fs::write(&path, &text).expect("writes");
    let e = connect(&[path], &sqlite(&db::chinook_sqlite()))
        .await
        .expect_err("refused")
        .to_string();
    let line = text
        .lines()
        .position(|l| l.contains("name: line_revenue"))
        .expect("line")
        + 1;
    assert!(e.contains(&format!("sales.yml:{line}:")), "{e}");
    assert!(e.contains("semantic_models[1].measures[0]"), "{e}");
    assert!(e.contains("Qty"), "{e}");
}

// ---- the model in the LLM's prompt ----------------------------------------------------------

const KEY: &str = "sk-test-loopback";

async fn prompt_of(
    question: &str,
    extra: &str,
    principal: Option<conversational_bi::Principal>,
) -> String {
    use testkit::llm::{FakeOpenAi, sql_reply};
    let fake = FakeOpenAi::start(KEY, |_| sql_reply("SELECT Name FROM Genre", "Genres.")).await;
    let toml = format!(
        "[llm]\nprovider = \"openai\"\nbase_url = \"{}\"\nmax_schema_tokens = 600\n\n[semantic]\nmodel = {:?}\n{extra}",
        fake.base_url,
        repo("models/chinook.yaml").display().to_string()
    );
    let mut config = Config::from_toml_str(&toml, None).expect("parses");
    config.resolve(None).expect("valid");
    config.llm.api_key = Some(conversational_bi::config::Secret::new(KEY));
    let engine = conversational_bi::Engine::builder()
        .config(config)
        .database_url(sqlite(&db::chinook_sqlite()))
        .build()
        .await
        .expect("engine");
    let mut ask = conversational_bi::Ask::new(question);
    if let Some(p) = principal {
        ask = ask.principal(p);
    }
    engine.ask(ask).await.expect("answers");
    let request = &fake.requests()[0];
    request.messages()[0]["content"]
        .as_str()
        .expect("system")
        .to_string()
}

#[tokio::test]
async fn the_model_reaches_the_llm_prompt() {
    // Not a verified query's question (that would be answered without the model).
    let system = prompt_of("revenue of large invoices by country", "", None).await;
    assert!(
        system.contains("- revenue (Invoice): SUM(Total); format currency"),
        "{system}"
    );
    assert!(
        system.contains("Question: revenue by country\nSQL: SELECT BillingCountry"),
        "{system}"
    );
    assert!(!system.contains("average track length"), "{system}");
}

#[tokio::test]
async fn a_table_the_asker_may_not_read_brings_none_of_its_items() {
    // The role reads four tables, not Invoice: the prompt carries none of Invoice's measures,
    // dimensions or verified queries.
    let system = prompt_of(
        "revenue by country",
        "\n[access.roles.catalogue]\ntables = [\"Customer\", \"InvoiceLine\", \"Track\", \"Genre\"]\n",
        Some(conversational_bi::Principal::user("c").role("catalogue")),
    )
    .await;
    assert!(!system.contains("Invoice "), "{system}");
    assert!(!system.contains("(Invoice)"), "{system}");
    assert!(!system.contains("FROM Invoice\n"), "{system}");
    assert!(
        system.contains("(InvoiceLine): SUM(UnitPrice * Quantity)"),
        "{system}"
    );
}

#[tokio::test]
async fn tables_left_out_by_allowed_tables_leave_the_model_too() {
    // The model describes Employee; `[database] allowed_tables` leaves it out: the engine
    // starts, and nothing of the model names it.
    let path = repo("models/chinook.yaml");
    let toml = format!(
        "[semantic]\nmodel = {:?}\n[database]\nallowed_tables = [\"Invoice\", \"InvoiceLine\", \"Customer\", \"Track\", \"Genre\", \"Artist\", \"Album\"]\n",
        path.display().to_string()
    );
    let mut config = Config::from_toml_str(&toml, None).expect("parses");
    config.resolve(None).expect("valid");
    let source = DataSource::connect(&config, Some(&sqlite(&db::chinook_sqlite())))
        .await
        .expect("connects");
    let semantic = source.semantic().expect("the model is loaded");
    let names: Vec<&str> = semantic
        .model()
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert!(!names.contains(&"employees"), "{names:?}");
    assert!(names.contains(&"invoices"), "{names:?}");
    assert!(
        semantic.terms().lookup("hire date").is_empty(),
        "an item of a table left out is still known"
    );
}
