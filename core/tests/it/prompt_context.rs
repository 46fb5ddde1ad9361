//! The prompt's context through the engine: few-shot examples from the configuration file and
//! the builder, checked when the engine starts; value hints and sample values in what the
//! model receives, and none of them (nor result rows) in privacy mode; schema ranking by the
//! provider's embeddings when an embedding model is configured.

use conversational_bi::{
    Ask, Config, Engine, ErrorKind,
    config::{FewShotExample, LlmProviderKind, Secret},
    exec::Value,
};

use testkit::llm::{FakeOpenAi, Reply, sql_reply};

const KEY: &str = "sk-test-loopback";

fn chinook() -> String {
    format!(
        "sqlite://{}/../examples/chinook/chinook.sqlite",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn config(fake: &FakeOpenAi, privacy: bool) -> Config {
    let toml = format!(
        r#"
[llm]
provider = "openai"
base_url = "{}"
privacy_mode = {privacy}
max_schema_tokens = 500

[[llm.examples]]
question = "How many customers does each country have?"
sql = "SELECT Country, count(*) AS customers FROM Customer GROUP BY Country"

[[llm.examples]]
question = "List all media types"
sql = "SELECT Name FROM MediaType"
"#,
        fake.base_url
    );
    let mut config = Config::from_toml_str(&toml, None).expect("parses");
    config.resolve(None).expect("valid");
    config.llm.api_key = Some(Secret::new(KEY));
    config
}

async fn fake() -> FakeOpenAi {
    FakeOpenAi::start(KEY, |r| {
        if r.last_user().contains("Germany") {
            sql_reply(
                "SELECT FirstName, LastName FROM Customer WHERE Country = 'Germany'",
                "German customers.",
            )
        } else {
            sql_reply(
                "SELECT FirstName, LastName, City FROM Customer WHERE Country = 'Germany'",
                "Their cities.",
            )
        }
    })
    .await
}

#[tokio::test]
async fn examples_hints_and_samples_reach_the_model() {
    let fake = fake().await;
    let engine = Engine::builder()
        .config(config(&fake, false))
        .database_url(chinook())
        .examples([FewShotExample::new(
            "Which customers live in France?",
            "SELECT FirstName, LastName FROM Customer WHERE Country = 'France'",
        )])
        .build()
        .await
        .expect("engine");
    engine
        .ask(Ask::new("Which customers live in Germany?"))
        .await
        .expect("answers");
    let request = &fake.requests()[0];
    let system = request.messages()[0]["content"]
        .as_str()
        .expect("system")
        .to_string();
    assert!(
        system.contains("- 'Germany': Customer.Country"),
        "value hint: {system}"
    );
    assert!(
        system.contains("Question: Which customers live in France?\nSQL: SELECT FirstName"),
        "the builder's example is the most similar: {system}"
    );
    assert!(
        !system.contains("List all media types"),
        "dissimilar examples stay out: {system}"
    );
    assert!(
        system.contains("Country NVARCHAR(40) (e.g. "),
        "sample values: {system}"
    );
}

#[tokio::test]
async fn privacy_mode_sends_no_values_and_no_result_rows() {
    let fake = fake().await;
    let engine = Engine::builder()
        .config(config(&fake, true))
        .database_url(chinook())
        .build()
        .await
        .expect("engine");
    let first = engine
        .ask(Ask::new("Which customers live in Germany?"))
        .await
        .expect("answers");
    assert!(!first.rows.is_empty());
    engine
        .ask(Ask::new("and their cities?").session(&first.session_id))
        .await
        .expect("answers");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let rows: Vec<String> = first
        .rows
        .iter()
        .flatten()
        .filter_map(|v| match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    for r in &requests {
        let sent = r.transcript();
        assert!(!sent.contains("(e.g."), "no sample values: {sent}");
        assert!(!sent.contains("Values the question names"), "{sent}");
        assert!(!sent.contains("'Germany':"), "{sent}");
        for value in &rows {
            assert!(
                !sent.contains(value.as_str()),
                "result value {value:?} was sent: {sent}"
            );
        }
    }
    assert!(
        requests[0]
            .transcript()
            .contains("Question: How many customers does each country have?"),
        "examples are the user's own text and are still sent"
    );
}

#[tokio::test]
async fn an_example_the_validator_refuses_stops_the_engine_with_its_name() {
    let mut config = Config::default();
    config.llm.examples = vec![
        FewShotExample::new("How many artists?", "SELECT count(*) FROM Artist"),
        FewShotExample::new("Top albums", "SELECT Titel FROM Album"),
    ];
    let e = Engine::builder()
        .config(config)
        .database_url(chinook())
        .build()
        .await
        .expect_err("refused at start, whatever the provider");
    assert_eq!(e.kind(), ErrorKind::Config);
    let message = e.to_string();
    assert!(message.contains("example 2"), "{message}");
    assert!(message.contains("\"Top albums\""), "{message}");
    assert!(message.contains("did you mean `Title`"), "{message}");

    let e = Engine::builder()
        .database_url(chinook())
        .examples([FewShotExample::new("Wipe", "DELETE FROM Album")])
        .build()
        .await
        .expect_err("a write is no example");
    assert_eq!(e.kind(), ErrorKind::Config);

    let mut config = Config::default();
    config.llm.provider = LlmProviderKind::Rule;
    Engine::builder()
        .config(config)
        .database_url(chinook())
        .examples([FewShotExample::new(
            "How many artists?",
            "SELECT count(*) FROM Artist",
        )])
        .build()
        .await
        .expect("valid examples pass");
}

/// A provider whose embeddings put `media type` texts and the question "Which formats do we
/// sell?" on one axis and everything else on another.
async fn embedding_fake() -> FakeOpenAi {
    FakeOpenAi::start(KEY, |r| {
        if r.is_embed() {
            let vectors = r
                .embed_inputs()
                .iter()
                .map(|t| {
                    let t = t.to_lowercase();
                    if t.contains("media type") || t.contains("formats") {
                        vec![1.0, 0.0, 0.0]
                    } else {
                        vec![0.0, 1.0, 0.0]
                    }
                })
                .collect();
            Reply::Embeddings(vectors)
        } else {
            sql_reply("SELECT Name FROM MediaType", "The media types.")
        }
    })
    .await
}

fn embedding_config(fake: &FakeOpenAi, embedding_model: Option<&str>) -> Config {
    let model = embedding_model
        .map(|m| format!("embedding_model = \"{m}\""))
        .unwrap_or_default();
    let toml = format!(
        "[llm]\nprovider = \"openai\"\nbase_url = \"{}\"\nmax_schema_tokens = 120\n{model}\n\n[cache]\nenabled = false\n",
        fake.base_url
    );
    let mut config = Config::from_toml_str(&toml, None).expect("parses");
    config.resolve(None).expect("valid");
    config.llm.api_key = Some(Secret::new(KEY));
    config
}

#[tokio::test]
async fn a_configured_embedding_model_ranks_the_schema_by_meaning() {
    let question = "Which formats do we sell?";
    let fake = embedding_fake().await;
    let engine = Engine::builder()
        .config(embedding_config(&fake, Some("text-embedding-3-small")))
        .database_url(chinook())
        .build()
        .await
        .expect("engine");
    engine.ask(Ask::new(question)).await.expect("answers");
    engine.ask(Ask::new(question)).await.expect("answers");
    let requests = fake.requests();
    let embeds: Vec<_> = requests.iter().filter(|r| r.is_embed()).collect();
    assert!(
        embeds
            .iter()
            .all(|r| r.body["model"] == "text-embedding-3-small"),
        "the configured model"
    );
    let texts: Vec<String> = embeds.iter().flat_map(|r| r.embed_inputs()).collect();
    assert!(
        texts.iter().any(|t| t.starts_with("media type:")),
        "the schema is embedded: {texts:?}"
    );
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.starts_with("media type:"))
            .count(),
        1,
        "the schema is embedded once, not per question"
    );
    assert_eq!(
        texts.iter().filter(|t| *t == question).count(),
        2,
        "each question is embedded"
    );
    let chats: Vec<_> = requests.iter().filter(|r| !r.is_embed()).collect();
    assert_eq!(chats.len(), 2);
    let system = chats[0].messages()[0]["content"]
        .as_str()
        .expect("system")
        .to_string();
    assert!(
        system.contains("\nMediaType("),
        "the table nearest in meaning is listed: {system}"
    );

    // Without an embedding model the same question is ranked by words alone: no embeddings
    // call, and the table that shares no word with it is left out of the small budget.
    let fake = embedding_fake().await;
    let engine = Engine::builder()
        .config(embedding_config(&fake, None))
        .database_url(chinook())
        .build()
        .await
        .expect("engine");
    engine.ask(Ask::new(question)).await.expect("answers");
    let requests = fake.requests();
    assert!(requests.iter().all(|r| !r.is_embed()));
    let system = requests[0].messages()[0]["content"]
        .as_str()
        .expect("system")
        .to_string();
    assert!(!system.contains("\nMediaType("), "{system}");
}

#[tokio::test]
async fn the_cache_and_schema_ranking_share_one_embeddings_call_per_question() {
    let question = "Which formats do we sell?";
    let fake = embedding_fake().await;
    let mut config = embedding_config(&fake, None);
    config.cache.enabled = true;
    config.cache.embedder = conversational_bi::config::EmbedderKind::Provider;
    let engine = Engine::builder()
        .config(config)
        .database_url(chinook())
        .build()
        .await
        .expect("engine");
    let answer = engine.ask(Ask::new(question)).await.expect("answers");
    assert!(!answer.cache_hit);
    let requests = fake.requests();
    let texts: Vec<String> = requests
        .iter()
        .filter(|r| r.is_embed())
        .flat_map(|r| r.embed_inputs())
        .collect();
    assert_eq!(
        texts.iter().filter(|t| *t == question).count(),
        1,
        "the cache's lookup and the prompt's ranking embed the question once: {texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.starts_with("media type:")),
        "the schema is ranked with the provider's embeddings: {texts:?}"
    );
    let system = requests
        .iter()
        .find(|r| !r.is_embed())
        .expect("a chat request")
        .messages()[0]["content"]
        .as_str()
        .expect("system")
        .to_string();
    assert!(system.contains("\nMediaType("), "{system}");
}
