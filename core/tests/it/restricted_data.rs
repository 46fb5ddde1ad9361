//! Restricted data never reaches the model, on the three databases: with `allowed_tables` and
//! `denied_columns` set, what the model receives names no hidden table or column and holds none
//! of their values, the offline generator treats a denied column's values as words that name
//! nothing, and the schema the engine hands out leaves them out. The validator alone still
//! knows them (and says "restricted" for SQL that names them).

use std::collections::BTreeSet;

use conversational_bi::{
    Ask, Config, Engine, ErrorKind,
    config::{LlmProviderKind, Secret},
    exec::Value,
};

use testkit::{
    db::Backend,
    llm::{FakeOpenAi, sql_reply},
};

const KEY: &str = "sk-test-loopback";

/// Chinook tables the policy leaves out, as (PascalCase, snake_case).
const HIDDEN_TABLES: &[(&str, &str)] = &[
    ("Invoice", "invoice"),
    ("InvoiceLine", "invoice_line"),
    ("Playlist", "playlist"),
    ("PlaylistTrack", "playlist_track"),
];

/// Chinook tables the policy allows.
const ALLOWED_TABLES: &[(&str, &str)] = &[
    ("Album", "album"),
    ("Artist", "artist"),
    ("Customer", "customer"),
    ("Employee", "employee"),
    ("Genre", "genre"),
    ("MediaType", "media_type"),
    ("Track", "track"),
];

/// A name in PascalCase and in snake_case.
type Name = (&'static str, &'static str);

/// Denied columns, as (table, column) in PascalCase and snake_case.
const DENIED: &[(Name, Name)] = &[
    (("Employee", "Title"), ("employee", "title")),
    (("Customer", "Email"), ("customer", "email")),
];

fn policy(backend: Backend, mut config: Config) -> Config {
    config.database.allowed_tables = ALLOWED_TABLES
        .iter()
        .map(|&(p, s)| backend.name(p, s).to_string())
        .collect();
    config.database.denied_columns = DENIED
        .iter()
        .map(|&((pt, pc), (st, sc))| format!("{}.{}", backend.name(pt, st), backend.name(pc, sc)))
        .collect();
    config.production.rate_limiting.enabled = false;
    config.cache.enabled = false;
    config
}

async fn engine(backend: Backend, config: Config) -> Engine {
    Engine::builder()
        .config(config)
        .database_url(backend.chinook_url())
        .build()
        .await
        .unwrap_or_else(|e| panic!("engine on {backend:?}: {e}\n{}", testkit::db::SETUP_HINT))
}

/// The text values of the denied columns and hidden tables that no visible column also holds,
/// read without a policy.
async fn hidden_values(backend: Backend) -> BTreeSet<String> {
    let open = engine(backend, Config::default()).await;
    let catalog = open.schema();
    let hidden_table = |t: &str| HIDDEN_TABLES.iter().any(|&(p, s)| backend.name(p, s) == t);
    let denied = |t: &str, c: &str| {
        DENIED
            .iter()
            .any(|&((pt, pc), (st, sc))| backend.name(pt, st) == t && backend.name(pc, sc) == c)
    };
    let (mut hidden, mut visible) = (BTreeSet::new(), BTreeSet::new());
    for table in &catalog.tables {
        for column in &table.columns {
            let ty = column.data_type.to_lowercase();
            if !(ty.contains("char") || ty.contains("text")) {
                continue;
            }
            let (q, t) = match backend {
                Backend::Mysql => (format!("`{}`", column.name), format!("`{}`", table.name)),
                _ => (
                    format!("\"{}\"", column.name),
                    format!("\"{}\"", table.name),
                ),
            };
            let sql = format!("SELECT DISTINCT {q} FROM {t} WHERE {q} IS NOT NULL");
            let (_, result) = open.source().run(&sql).await.expect("reads");
            let values = result
                .rows
                .into_iter()
                .filter_map(|r| match r.into_iter().next() {
                    Some(Value::Text(v)) => Some(v),
                    _ => None,
                });
            if hidden_table(&table.name) || denied(&table.name, &column.name) {
                hidden.extend(values);
            } else {
                visible.extend(values);
            }
        }
    }
    &hidden - &visible
}

#[tokio::test]
async fn the_model_sees_no_restricted_table_column_or_value() {
    for backend in Backend::available() {
        let count = format!(
            "SELECT count(*) AS n FROM {}",
            backend.name("Customer", "customer")
        );
        let fake =
            FakeOpenAi::start(KEY, move |_| sql_reply(&count, "The number of customers.")).await;
        let mut config = Config::default();
        config.llm.provider = LlmProviderKind::Openai;
        config.llm.model = "gpt-4o-mini".into();
        config.llm.base_url = Some(fake.base_url.clone());
        config.llm.api_key = Some(Secret::new(KEY));
        let engine = engine(backend, policy(backend, config)).await;
        for q in [
            "How many IT Staff employees are there?",
            "How many customers have the email luisg@embraer.com.br?",
            "Which tracks are on the Grunge playlist?",
            "Revenue per invoice",
            "How many customers are in Germany?",
        ] {
            engine.ask(Ask::new(q)).await.expect("answered");
        }
        let hidden = hidden_values(backend).await;
        assert!(hidden.contains("IT Staff"), "{backend:?}: {hidden:?}");
        let prompts: Vec<String> = fake
            .requests()
            .iter()
            .map(|r| {
                r.messages()[0]["content"]
                    .as_str()
                    .expect("system")
                    .to_string()
            })
            .collect();
        assert_eq!(prompts.len(), 5, "{backend:?}");
        assert!(
            prompts[4].contains("'Germany': "),
            "{backend:?}: value hints are on: {}",
            prompts[4]
        );
        for system in &prompts {
            for v in &hidden {
                let quoted = format!("'{}'", v.replace('\'', "''"));
                assert!(
                    !system.contains(&quoted),
                    "{backend:?}: {quoted} in\n{system}"
                );
                if v.chars().count() >= 8 {
                    assert!(
                        !system.contains(v.as_str()),
                        "{backend:?}: {v} in\n{system}"
                    );
                }
            }
            let words: BTreeSet<&str> = system
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .collect();
            for &(p, s) in HIDDEN_TABLES {
                let table = backend.name(p, s);
                assert!(!words.contains(table), "{backend:?}: {table} in\n{system}");
            }
            for &((pt, pc), (st, sc)) in DENIED {
                let (table, column) = (backend.name(pt, st), backend.name(pc, sc));
                for line in system.lines() {
                    let listing = line.starts_with(&format!("{table}("))
                        || line.starts_with(&format!("public.{table}("));
                    let named: BTreeSet<&str> = line
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .collect();
                    assert!(
                        !(listing && named.contains(column)),
                        "{backend:?}: {table}.{column} listed: {line}"
                    );
                    assert!(
                        !line.contains(&format!("{table}.{column}")),
                        "{backend:?}: {line}"
                    );
                }
            }
        }
        // The schema handed out leaves them out too; the validator still knows them.
        let schema = engine.schema();
        let tables: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        let allowed: Vec<&str> = ALLOWED_TABLES
            .iter()
            .map(|&(p, s)| backend.name(p, s))
            .collect();
        let mut sorted = allowed.clone();
        sorted.sort_unstable();
        assert_eq!(tables, sorted, "{backend:?}");
        let sql = format!(
            "SELECT {} FROM {}",
            backend.name("Email", "email"),
            backend.name("Customer", "customer")
        );
        let refused = engine.source().validate(&sql).expect_err("restricted");
        assert!(
            refused.to_string().contains("restricted"),
            "{backend:?}: {refused}"
        );
    }
}

#[tokio::test]
async fn a_denied_value_is_as_unknown_to_the_rule_generator_as_a_word_that_names_nothing() {
    for backend in Backend::available() {
        let engine = engine(backend, policy(backend, Config::default())).await;
        let ask = |q: &'static str| {
            let engine = engine.clone();
            async move { engine.ask(Ask::new(q)).await.expect_err("cannot answer") }
        };
        let manager = ask("How many General Manager employees are there?").await;
        let zookeeper = ask("How many Zookeeper employees are there?").await;
        for e in [&manager, &zookeeper] {
            assert_eq!(e.kind(), ErrorKind::CannotAnswer, "{backend:?}: {e}");
            assert!(!e.to_string().contains("restricted"), "{backend:?}: {e}");
        }
        let shape = |e: &conversational_bi::Error| match e {
            conversational_bi::Error::CannotAnswer {
                message,
                unknown_words,
            } => {
                let list: Vec<String> = unknown_words.iter().map(|w| format!("\"{w}\"")).collect();
                message.replace(&list.join(", "), "<words>")
            }
            other => other.to_string(),
        };
        assert_eq!(shape(&manager), shape(&zookeeper), "{backend:?}");
    }
}
