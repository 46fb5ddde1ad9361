//! Restricted data stays out of everything but the validator: with `allowed_tables` and
//! `denied_columns` set, the prompt, its samples and value hints, the value index, the rule
//! generator and the schema listing are built from the visible catalog only. The proofs compare
//! Chinook with a twin that differs only in what the policy hides: whatever the engine shows or
//! answers must be the same on both, so nothing it shows or answers can reveal hidden data.

use std::collections::BTreeSet;

use crate::{
    Ask, DataSource, Engine, ErrorKind,
    catalog::Catalog,
    config::Config,
    exec::Value,
    generate::{
        GenerationRequest,
        prompt::{self, PromptContext},
    },
    testdb,
    values::phrase_key,
};

/// Tables the policy leaves out.
const HIDDEN_TABLES: &[&str] = &["Invoice", "InvoiceLine", "Playlist", "PlaylistTrack"];

/// The policy of [`testdb::restricted_config`], with the stages that would get in the way of
/// many questions in a row (rate limit, cache) off.
fn config() -> Config {
    let mut config = testdb::restricted_config();
    config.production.rate_limiting.enabled = false;
    config.cache.enabled = false;
    config
}

/// The distinct text values of `table.column` on an unrestricted source.
async fn values(open: &DataSource, table: &str, column: &str) -> Vec<String> {
    let (_, result) = open
        .run(&format!(
            "SELECT DISTINCT \"{column}\" FROM \"{table}\" WHERE \"{column}\" IS NOT NULL"
        ))
        .await
        .expect("reads");
    result
        .rows
        .iter()
        .filter_map(|r| match r.first() {
            Some(Value::Text(v)) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

/// Every text value the policy hides and no visible column also holds.
async fn hidden_values(url: &str) -> BTreeSet<String> {
    let open = DataSource::connect(&Config::default(), Some(url))
        .await
        .expect("connects");
    let catalog = open.catalog().clone();
    let mut hidden = BTreeSet::new();
    let mut visible = BTreeSet::new();
    for table in &catalog.tables {
        for column in &table.columns {
            if !column.data_type.to_lowercase().contains("char") {
                continue;
            }
            let restricted = HIDDEN_TABLES.contains(&table.name.as_str())
                || testdb::DENIED_COLUMNS
                    .contains(&format!("{}.{}", table.name, column.name).as_str());
            let vals = values(&open, &table.name, &column.name).await;
            if restricted {
                hidden.extend(vals);
            } else {
                visible.extend(vals);
            }
        }
    }
    &hidden - &visible
}

fn assert_visible_only(catalog: &Catalog) {
    let names: Vec<&str> = catalog.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, testdb::ALLOWED_TABLES, "only the allowed tables");
    for table in &catalog.tables {
        for column in &table.columns {
            let name = format!("{}.{}", table.name, column.name);
            assert!(
                !testdb::DENIED_COLUMNS.contains(&name.as_str()),
                "{name} is denied"
            );
        }
        for fk in &table.foreign_keys {
            assert!(
                !HIDDEN_TABLES.contains(&fk.referenced_table.as_str()),
                "{}: {fk:?}",
                table.name
            );
        }
    }
}

#[tokio::test]
async fn the_visible_catalog_feeds_the_value_index_and_the_schema() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, _) = testdb::chinook_twins(dir.path()).await;
    let source = DataSource::connect(&config(), Some(&url))
        .await
        .expect("connects");
    assert_visible_only(source.visible_catalog());
    assert_visible_only(source.catalog());
    // The validator still judges against the whole catalog: a denied column is restricted,
    // a hidden table may not be read.
    for (sql, says) in [
        ("SELECT Title FROM Employee", "restricted"),
        ("SELECT Email FROM Customer", "restricted"),
        ("SELECT Total FROM Invoice", "may not be read"),
    ] {
        let e = source.validate(sql).expect_err(sql);
        assert!(e.to_string().contains(says), "{sql}: {e}");
    }
    let index = source.value_index().await.expect("builds");
    assert!(
        !index.lookup("germany").is_empty(),
        "visible values are read"
    );
    for hit in index.hits() {
        let name = format!("{}.{}", hit.column.table, hit.column.column);
        assert!(
            testdb::ALLOWED_TABLES.contains(&hit.column.table.as_str())
                && !testdb::DENIED_COLUMNS.contains(&name.as_str()),
            "the index read {name}: {:?}",
            hit.value
        );
    }
    for v in hidden_values(&url).await {
        assert!(index.lookup(&phrase_key(&v)).is_empty(), "{v:?} is hidden");
    }
    let engine = Engine::builder()
        .config(config())
        .database_url(&url)
        .build()
        .await
        .expect("engine");
    assert_visible_only(&engine.schema());
    let listed = serde_json::to_string(engine.schema().as_ref()).expect("json");
    for table in HIDDEN_TABLES {
        assert!(
            !listed.contains(&format!("\"{table}\"")),
            "{table} in {listed}"
        );
    }
}

/// The questions the privacy proofs ask: each names a hidden value in the ways users do.
fn questions(hidden: &BTreeSet<String>) -> Vec<String> {
    let mut out = vec![
        "How many IT Staff employees are there?".to_string(),
        "How many General Manager employees are there?".to_string(),
        "How many Zookeeper employees are there?".to_string(),
        "How many customers are in Germany?".to_string(),
        "Employees by title".to_string(),
        "List customers with their email".to_string(),
        "Revenue per invoice".to_string(),
    ];
    for v in hidden {
        out.push(format!("how many {v} employees"));
        out.push(format!("employees with title {v}"));
        out.push(format!("customers with email {v}"));
        out.push(format!("tracks in the playlist {v}"));
    }
    out
}

/// What a user learns from one answer.
fn outcome(answer: crate::Result<crate::Answer>) -> String {
    match answer {
        Ok(a) => format!("ok {} -> {:?}", a.sql, a.rows),
        Err(e) => format!("{:?}: {e}", e.kind()),
    }
}

#[tokio::test]
async fn hidden_values_are_answered_like_values_that_do_not_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, twin_url) = testdb::chinook_twins(dir.path()).await;
    let engine = |url: String| async move {
        Engine::builder()
            .config(config())
            .database_url(url)
            .build()
            .await
            .expect("engine")
    };
    let (real, twin) = (engine(url.clone()).await, engine(twin_url).await);
    let hidden = hidden_values(&url).await;
    assert!(hidden.contains("IT Staff") && hidden.contains("luisg@embraer.com.br"));
    for q in questions(&hidden) {
        let a = outcome(real.ask(Ask::new(&q)).await);
        let b = outcome(twin.ask(Ask::new(&q)).await);
        assert_eq!(a, b, "the answer to {q:?} depends on hidden data");
        assert!(!a.contains("restricted"), "{q:?}: {a}");
    }
    // A denied column's value and a word that names nothing are the same kind of unknown
    // (with `Employee.Title` readable, the first is a count of general managers).
    let staff = real
        .ask(Ask::new("How many General Manager employees are there?"))
        .await
        .expect_err("unknown");
    let zookeeper = real
        .ask(Ask::new("How many Zookeeper employees are there?"))
        .await
        .expect_err("unknown");
    assert_eq!(staff.kind(), ErrorKind::CannotAnswer);
    assert_eq!(zookeeper.kind(), ErrorKind::CannotAnswer);
    let shape = |e: &crate::Error| match e {
        crate::Error::CannotAnswer {
            message,
            unknown_words,
        } => {
            assert!(!unknown_words.is_empty(), "{message}");
            let list: Vec<String> = unknown_words.iter().map(|w| format!("\"{w}\"")).collect();
            message.replace(&list.join(", "), "<words>")
        }
        other => other.to_string(),
    };
    assert_eq!(shape(&staff), shape(&zookeeper));
}

#[tokio::test]
async fn prompts_show_nothing_the_policy_hides() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, twin_url) = testdb::chinook_twins(dir.path()).await;
    let hidden = hidden_values(&url).await;
    let mut config = config();
    config.llm.examples = vec![crate::config::FewShotExample {
        question: "How many tracks does each genre have?".into(),
        sql: "SELECT g.Name, count(*) AS tracks FROM Track t JOIN Genre g ON g.GenreId = t.GenreId GROUP BY g.Name".into(),
    }];
    let mut prompts = Vec::new();
    for url in [&url, &twin_url] {
        let source = DataSource::connect(&config, Some(url))
            .await
            .expect("connects");
        let context = PromptContext::from_source(&config, &source)
            .await
            .expect("context");
        let mut texts = Vec::new();
        for q in questions(&hidden) {
            let request = GenerationRequest {
                question: q.clone(),
                catalog: source.visible_catalog().clone(),
                history: vec![],
                feedback: vec![],
                max_rows: 1000,
                view: None,
            };
            let rendered = prompt::render_with(&request, &context, None);
            texts.push((q, rendered.messages[0].content.clone()));
        }
        prompts.push(texts);
    }
    assert_eq!(prompts[0], prompts[1], "the prompts depend on hidden data");
    let germany = &prompts[0]
        .iter()
        .find(|(q, _)| q.contains("Germany"))
        .expect("asked")
        .1;
    assert!(
        germany.contains("- 'Germany': Customer.Country"),
        "value hints are on: {germany}"
    );
    assert!(germany.contains("(e.g. '"), "samples are on: {germany}");
    for (q, system) in &prompts[0] {
        for v in &hidden {
            let quoted = format!("'{}'", v.replace('\'', "''"));
            assert!(!system.contains(&quoted), "{q:?}: {quoted} in\n{system}");
            if v.chars().count() >= 8 {
                assert!(!system.contains(v.as_str()), "{q:?}: {v} in\n{system}");
            }
        }
        let words: BTreeSet<&str> = system
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .collect();
        for table in HIDDEN_TABLES {
            assert!(!words.contains(table), "{q:?}: {table} in\n{system}");
        }
        for line in system.lines() {
            let denied = [("Customer(", "Email"), ("Employee(", "Title")];
            for (table, column) in denied {
                if line.starts_with(table) {
                    assert!(!line.contains(column), "{q:?}: {line}");
                }
            }
            assert!(
                !line.contains("Customer.Email") && !line.contains("Employee.Title"),
                "{q:?}: {line}"
            );
        }
    }
}
