//! Ranking of tables and columns: names, synonyms, stems, glued words, values, the
//! conversation and embeddings.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;

use super::{Sample, turn};
use crate::{
    embed::Embedder,
    error::{Error, Result},
    generate::prompt::{PromptContext, link_schema},
};

fn top(db: &Sample, linked: &crate::generate::prompt::LinkedSchema, n: usize) -> Vec<String> {
    linked
        .relevance
        .table_order()
        .into_iter()
        .take(n)
        .map(|t| db.catalog.tables[t].name.clone())
        .collect()
}

#[tokio::test]
async fn tables_named_by_the_question_rank_first() {
    let db = Sample::open("chinook").await;
    let ctx = db.context(4000);
    for (question, expected) in [
        ("Which genres have the most tracks?", ["Genre", "Track"]),
        (
            "How many songs are in each playlist?",
            ["Playlist", "PlaylistTrack"],
        ),
        (
            "List the clients and their invoices",
            ["Customer", "Invoice"],
        ),
        (
            "Which employees support customers?",
            ["Employee", "Customer"],
        ),
    ] {
        let linked = link_schema(&db.ask(question), &ctx, None);
        let mut got = top(&db, &linked, 2);
        got.sort();
        let mut want = expected.map(str::to_string).to_vec();
        want.sort();
        assert_eq!(got, want, "{question}");
    }
}

#[tokio::test]
async fn columns_are_found_by_stems_glued_words_and_concepts() {
    let db = Sample::open("tpch").await;
    let ctx = db.context(4000);
    let linked = link_schema(
        &db.ask("How many line items were shipped by mail, by ship mode?"),
        &ctx,
        None,
    );
    let t = db.table("lineitem");
    let score = |c: &str| {
        let ci = db.catalog.tables[t]
            .columns
            .iter()
            .position(|x| x.name == c)
            .expect("column");
        linked.relevance.columns[t][ci]
    };
    assert_eq!(top(&db, &linked, 1), ["lineitem"]);
    assert!(score("l_shipmode") > score("l_discount"));
    assert!(score("l_shipdate") > 0.0, "\"shipped\" meets `shipdate`");
    assert_eq!(score("l_tax"), 0.0);

    let linked = link_schema(&db.ask("What is the revenue per nation?"), &ctx, None);
    let order = top(&db, &linked, 8);
    assert_eq!(order[0], "nation");
    let lineitem = db.table("lineitem");
    let price = db.catalog.tables[lineitem]
        .columns
        .iter()
        .position(|c| c.name == "l_extendedprice")
        .expect("column");
    assert!(
        linked.relevance.columns[lineitem][price] > 0.0,
        "revenue is money: prices count"
    );
}

#[tokio::test]
async fn a_value_named_in_the_question_points_to_its_column() {
    let db = Sample::open("chinook").await;
    let ctx = db.context(4000);
    let linked = link_schema(&db.ask("How many people live in Germany?"), &ctx, None);
    let hint = linked
        .hints
        .iter()
        .find(|h| h.value == "Germany")
        .expect("Germany is a known value");
    let names: Vec<String> = hint
        .columns
        .iter()
        .map(|&(t, c)| {
            format!(
                "{}.{}",
                db.catalog.tables[t].name, db.catalog.tables[t].columns[c].name
            )
        })
        .collect();
    assert!(names.contains(&"Customer.Country".to_string()), "{names:?}");
    let top3 = top(&db, &linked, 3);
    assert!(top3.contains(&"Customer".to_string()), "{top3:?}");
}

#[tokio::test]
async fn a_follow_up_keeps_the_tables_of_the_earlier_sql() {
    let db = Sample::open("chinook").await;
    let ctx = db.context(300);
    let mut request = db.ask("only 2024");
    let alone = link_schema(&request, &ctx, None);
    request.history = vec![turn(
        "revenue by country",
        "SELECT c.Country, sum(i.Total) FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.Country",
    )];
    let linked = link_schema(&request, &ctx, None);
    let mut top2 = top(&db, &linked, 2);
    top2.sort();
    assert_eq!(top2, ["Customer", "Invoice"]);
    assert!(linked.selection.pruned);
    for t in ["Customer", "Invoice"] {
        assert!(db.shown(&linked).contains(&t.to_string()), "{t}");
    }
    let country = db
        .shown_columns(&linked, "Customer")
        .expect("Customer shown");
    assert!(country.contains(&"Country".to_string()), "{country:?}");
    assert_ne!(
        top(&db, &alone, 2),
        top(&db, &linked, 2),
        "without the history the follow-up names no table"
    );
}

/// A deterministic embedder for tests: texts are bags of words; words of one concept (a small
/// fixed vocabulary the lexical ranking does not know) share a dimension, other words are
/// hashed into their own dimensions.
#[derive(Debug, Default)]
pub(crate) struct ConceptEmbedder {
    pub calls: AtomicUsize,
    pub texts: AtomicUsize,
}

const CONCEPTS: &[&[&str]] = &[
    &[
        "purchase",
        "purchases",
        "invoice",
        "invoices",
        "bought",
        "billing",
    ],
    &["tune", "tunes", "track", "tracks", "song"],
    &["staff", "employee", "employees", "clerk"],
];
const HASHED: usize = 32;

#[async_trait]
impl Embedder for ConceptEmbedder {
    fn name(&self) -> String {
        "test-concepts".into()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        Ok(texts
            .iter()
            .map(|text| {
                let mut v = vec![0.0f32; CONCEPTS.len() + HASHED];
                for word in text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.len() > 2)
                {
                    let word = word.to_lowercase();
                    match CONCEPTS.iter().position(|c| c.contains(&word.as_str())) {
                        Some(i) => v[i] += 1.0,
                        None => {
                            let h = word.bytes().fold(2166136261u32, |h, b| {
                                (h ^ u32::from(b)).wrapping_mul(16777619)
                            });
                            v[CONCEPTS.len() + h as usize % HASHED] += 0.3;
                        }
                    }
                }
                v
            })
            .collect())
    }
}

#[derive(Debug)]
struct BrokenEmbedder;

#[async_trait]
impl Embedder for BrokenEmbedder {
    fn name(&self) -> String {
        "broken".into()
    }

    async fn embed(&self, _texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Err(Error::internal("the embedding service is down"))
    }
}

#[tokio::test]
async fn embeddings_find_what_no_word_names_and_are_computed_once_per_schema() {
    let db = Sample::open("chinook").await;
    let question = "Show the purchases of each month";
    let lexical = link_schema(&db.ask(question), &db.context(120), None);
    let invoice = db.table("Invoice");
    assert!(
        lexical.relevance.tables[invoice] < 0.3,
        "no word of the question names Invoice: {}",
        lexical.relevance.tables[invoice]
    );

    let embedder = Arc::new(ConceptEmbedder::default());
    let ctx = db
        .context(120)
        .embedder(Some(embedder.clone() as Arc<dyn Embedder>));
    let request = db.ask(question);
    let embeddings = ctx.embeddings(&request).await.expect("embeddings");
    let linked = link_schema(&request, &ctx, Some(&embeddings));
    let top2 = top(&db, &linked, 2);
    assert!(top2.contains(&"Invoice".to_string()), "{top2:?}");
    assert!(db.shown(&linked).contains(&"Invoice".to_string()));
    assert!(!db.shown(&lexical).contains(&"Invoice".to_string()));

    let schema_texts = db.catalog.tables.len() + db.catalog.column_count();
    assert_eq!(embedder.texts.load(Ordering::SeqCst), schema_texts + 1);
    ctx.embeddings(&db.ask("tunes per genre"))
        .await
        .expect("embeddings");
    assert_eq!(
        embedder.texts.load(Ordering::SeqCst),
        schema_texts + 2,
        "the schema is embedded once; later questions embed only themselves"
    );
}

#[tokio::test]
async fn a_failing_embedder_leaves_the_lexical_ranking() {
    let db = Sample::open("chinook").await;
    let ctx: PromptContext = db.context(4000).embedder(Some(Arc::new(BrokenEmbedder)));
    let request = db.ask("Which genres have the most tracks?");
    assert!(ctx.embeddings(&request).await.is_none());
    let linked = link_schema(&request, &ctx, None);
    assert_eq!(
        linked.relevance,
        link_schema(&request, &db.context(4000), None).relevance
    );
}
