//! Data permissions end to end on the demo database: roles, row filters, masks, union of
//! roles, placeholders, and what each principal sees.

use conversational_bi::{
    Config, DataSource, ErrorKind, Principal,
    config::{ConfigSources, Interface, Secret},
    exec::Value,
};

const ACCESS: &str = r#"
[access.roles.sales_rep]
row_filters = { Customer = "SupportRepId = {user.employee_id}", Invoice = "CustomerId IN (SELECT CustomerId FROM Customer WHERE SupportRepId = {user.employee_id})" }
columns = { "Customer.Email" = "hash", "Customer.Phone" = "null", "Customer.Fax" = "text:(hidden)", "Employee.BirthDate" = "deny" }

[access.roles.eu_analyst]
tables = ["Customer", "Invoice"]
row_filters = { Customer = "Country IN ({user.countries})" }
columns = { "Customer.Email" = "null" }

[access.roles.hr]
"#;

fn config(extra: &str) -> Config {
    let mut config = Config::from_sources(
        ConfigSources::new(Interface::Embedded).toml(format!("{ACCESS}\n{extra}")),
    )
    .expect("config");
    config.access.mask_key = Some(Secret::new("test-key"));
    config
}

async fn demo(config: &Config) -> DataSource {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chinook.sqlite");
    std::fs::write(&path, conversational_bi::demo::CHINOOK_SQLITE).expect("copy");
    let url = format!("sqlite://{}", path.display());
    let source = DataSource::connect(config, Some(&url))
        .await
        .expect("connects");
    std::mem::forget(dir);
    source
}

fn rep(id: i64) -> Principal {
    Principal::user(format!("rep{id}"))
        .role("sales_rep")
        .attribute("employee_id", id)
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("not an integer: {other:?}"),
    }
}

#[tokio::test]
async fn a_sales_rep_reads_only_their_customers_and_masked_contacts() {
    let source = demo(&config("")).await;
    for (id, expected) in [(3, 21), (4, 20), (5, 18)] {
        let view = source.view(&rep(id)).await.expect("view");
        let (validated, result) = view
            .run("SELECT count(*) FROM Customer")
            .await
            .expect("runs");
        assert_eq!(validated.sql, "SELECT count(*) FROM Customer LIMIT 1000");
        assert_eq!(int(&result.rows[0][0]), expected, "rep {id}");
        let (_, result) = view
            .run("SELECT c.Email, c.Phone, c.Fax FROM Customer c WHERE c.Email LIKE '%@%'")
            .await
            .expect("runs");
        assert!(result.rows.is_empty(), "hashed emails hold no @");
        let (_, result) = view
            .run("SELECT Email, Phone, Fax, SupportRepId FROM Customer")
            .await
            .expect("runs");
        for row in &result.rows {
            assert_eq!(int(&row[3]), id);
            assert!(matches!(&row[0], Value::Text(h) if h.len() == 32 && !h.contains('@')));
            assert_eq!(row[1], Value::Null);
            assert_eq!(row[2], Value::Text("(hidden)".into()));
        }
        // Invoices through the joins of another table, in a CTE and a subquery.
        let (_, result) = view
            .run(
                "WITH inv AS (SELECT * FROM Invoice) SELECT count(*) FROM InvoiceLine il \
                 JOIN inv ON inv.InvoiceId = il.InvoiceId \
                 WHERE EXISTS (SELECT 1 FROM Customer c WHERE c.CustomerId = inv.CustomerId)",
            )
            .await
            .expect("runs");
        assert!(int(&result.rows[0][0]) > 0);
    }
}

#[tokio::test]
async fn a_cte_named_like_the_table_cannot_stand_in_for_it() {
    let source = demo(&config("")).await;
    let view = source.view(&rep(3)).await.expect("view");
    let (_, result) = view
        .run(
            "WITH Customer AS (SELECT CustomerId, 3 AS SupportRepId FROM main.Invoice) \
             SELECT count(*) FROM Invoice WHERE CustomerId IN (SELECT CustomerId FROM Customer)",
        )
        .await
        .expect("runs");
    let (_, truth) = source
        .run(
            "SELECT count(*) FROM Invoice WHERE CustomerId IN \
             (SELECT CustomerId FROM Customer WHERE SupportRepId = 3)",
        )
        .await
        .expect("runs");
    assert_eq!(result.rows, truth.rows);
}

#[tokio::test]
async fn denied_columns_are_refused_and_not_in_the_schema() {
    let source = demo(&config("")).await;
    let view = source.view(&rep(3)).await.expect("view");
    let e = view
        .run("SELECT BirthDate FROM Employee")
        .await
        .expect_err("denied");
    assert_eq!(e.kind(), ErrorKind::SqlRejected);
    let employee = view
        .catalog()
        .tables
        .iter()
        .find(|t| t.name == "Employee")
        .expect("Employee");
    assert!(employee.columns.iter().all(|c| c.name != "BirthDate"));
}

#[tokio::test]
async fn roles_combine_as_a_union_row_by_row() {
    let source = demo(&config("")).await;
    let both = rep(3)
        .role("eu_analyst")
        .attribute("countries", serde_json::json!(["France", "Germany"]));
    let view = source.view(&both).await.expect("view");
    let (_, result) = view
        .run("SELECT CustomerId, SupportRepId, Country, Email FROM Customer")
        .await
        .expect("runs");
    let (_, truth) = source
        .run(
            "SELECT count(*) FROM Customer WHERE SupportRepId = 3 OR Country IN ('France', 'Germany')",
        )
        .await
        .expect("runs");
    assert_eq!(result.rows.len() as i64, int(&truth.rows[0][0]));
    for row in &result.rows {
        let own = int(&row[1]) == 3;
        match (&row[3], own) {
            (Value::Text(h), true) => assert_eq!(h.len(), 32, "hashed for the rep's rows"),
            (Value::Null, false) => {}
            other => panic!("wrong cell form {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_missing_attribute_fails_closed_and_no_role_sees_nothing() {
    let source = demo(&config("")).await;
    let view = source
        .view(&Principal::user("x").role("sales_rep"))
        .await
        .expect("view");
    let (_, result) = view
        .run("SELECT count(*) FROM Customer")
        .await
        .expect("runs");
    assert_eq!(int(&result.rows[0][0]), 0);
    let e = source
        .view(&Principal::user("nobody"))
        .await
        .expect_err("no role");
    assert!(e.to_string().contains("no data role"), "{e}");
    let hr = source
        .view(&Principal::user("h").role("hr"))
        .await
        .expect("view");
    let (_, result) = hr.run("SELECT count(*) FROM Customer").await.expect("runs");
    assert_eq!(int(&result.rows[0][0]), 59);
}

#[tokio::test]
async fn hostile_attribute_values_stay_literals() {
    let source = demo(&config("")).await;
    for value in ["3 OR 1=1", "' OR '1'='1", "3'; --", "x\\' OR 1=1 --"] {
        let p = Principal::user("m")
            .role("eu_analyst")
            .attribute("countries", value);
        let view = source.view(&p).await.expect("view");
        let (_, result) = view
            .run("SELECT count(*) FROM Customer")
            .await
            .expect("runs");
        assert_eq!(int(&result.rows[0][0]), 0, "{value:?}");
    }
    // A value no literal can carry is refused with what to do, never pasted.
    let p = Principal::user("m")
        .role("eu_analyst")
        .attribute("countries", "\u{0}");
    let e = source.view(&p).await.expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
}

#[tokio::test]
async fn a_typo_in_a_row_filter_stops_with_key_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("conversational-bi.toml");
    std::fs::write(
        &file,
        "[llm]\nprovider = \"rule\"\n\n[access.roles.sales_rep]\nrow_filters = { Customer = \"SupportRep = {user.employee_id}\" }\n",
    )
    .expect("write");
    let config =
        Config::from_sources(ConfigSources::new(Interface::Embedded).file(&file)).expect("parses");
    let e = DataSource::connect(&config, None)
        .await
        .expect_err("refused");
    match &e {
        conversational_bi::Error::Config {
            key, file: f, line, ..
        } => {
            assert_eq!(
                key.as_deref(),
                Some("access.roles.sales_rep.row_filters.Customer")
            );
            assert_eq!(f.as_deref(), Some(file.as_path()));
            assert_eq!(*line, Some(5));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("SupportRep"), "{e}");
}

async fn engine(extra: &str) -> conversational_bi::Engine {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("chinook.sqlite");
    std::fs::write(&path, conversational_bi::demo::CHINOOK_SQLITE).expect("copy");
    let url = format!("sqlite://{}", path.display());
    std::mem::forget(dir);
    conversational_bi::Engine::builder()
        .config(config(extra))
        .database_url(url)
        .build()
        .await
        .expect("engine")
}

fn answer_count(answer: &conversational_bi::Answer) -> i64 {
    int(&answer.rows[0][0])
}

#[tokio::test]
async fn asks_answer_from_the_askers_rows_and_the_cache_never_carries_them_across() {
    let engine = engine("[cache]\nenabled = true\n").await;
    let ask = |id: i64| {
        conversational_bi::Ask::new("How many customers are there?")
            .principal(rep(id).tenant("acme"))
    };
    let first = engine.ask(ask(3)).await.expect("rep 3");
    assert_eq!(answer_count(&first), 21);
    assert!(
        !first.sql.contains("SupportRepId"),
        "the answer shows the SQL as generated: {}",
        first.sql
    );
    let second = engine.ask(ask(4)).await.expect("rep 4");
    assert!(second.cache_hit, "the SQL before policies is shared");
    assert_eq!(
        answer_count(&second),
        20,
        "but it runs under the asker's policy"
    );
    let hr = engine
        .ask(
            conversational_bi::Ask::new("How many customers are there?")
                .principal(Principal::user("h").role("hr").tenant("acme")),
        )
        .await
        .expect("hr");
    assert_eq!(answer_count(&hr), 59);
}

#[tokio::test]
async fn a_value_only_in_hidden_rows_is_not_an_oracle() {
    let engine = engine("").await;
    // Portugal's customers are all employee 4's.
    let ask = |id: i64| {
        conversational_bi::Ask::new("How many customers are in Portugal?").principal(rep(id))
    };
    let four = engine.ask(ask(4)).await.expect("rep 4 knows Portugal");
    assert_eq!(answer_count(&four), 2);
    let three = engine.ask(ask(3)).await.expect_err("rep 3 does not");
    assert_eq!(three.kind(), ErrorKind::CannotAnswer, "{three}");
    // The schema each principal sees.
    let schema = engine.schema_for(&rep(3)).await.expect("schema");
    let employee = schema
        .tables
        .iter()
        .find(|t| t.name == "Employee")
        .expect("Employee");
    assert!(employee.columns.iter().all(|c| c.name != "BirthDate"));
    let hr = engine
        .schema_for(&Principal::user("h").role("hr"))
        .await
        .expect("schema");
    let employee = hr
        .tables
        .iter()
        .find(|t| t.name == "Employee")
        .expect("Employee");
    assert!(employee.columns.iter().any(|c| c.name == "BirthDate"));
}
