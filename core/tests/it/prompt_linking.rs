//! Schema linking of the LLM prompt on real schemas: recall of the gold SQL's tables and columns
//! in the pruned schema and the schema's size, on TPC-H and Sakila (question sets written for
//! this project, `core/tests/data/linking/`) and on a sample of the Spider training questions.

use std::path::{Path, PathBuf};

use conversational_bi::{
    Config,
    eval::{
        Case,
        linking::{LinkingOptions, LinkingReport, evaluate},
        load_cases,
    },
};

fn shared_data() -> PathBuf {
    std::env::var("CBI_SHARED_DIR")
        .map(|d| PathBuf::from(d).join("data"))
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

fn questions(name: &str) -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/linking")
        .join(format!("{name}.json"));
    load_cases(&path).unwrap_or_else(|e| panic!("{e}"))
}

async fn run(cases: &[Case], dir: &Path, budget: usize) -> LinkingReport {
    let options = LinkingOptions {
        max_schema_tokens: budget,
        privacy_mode: false,
        limit: None,
        embedder: None,
    };
    let report = evaluate(cases, dir, &Config::default(), &options).await;
    assert!(
        report.skipped_databases.is_empty(),
        "{:?} (the shared data lives in {})",
        report.skipped_databases,
        dir.display()
    );
    report
}

fn describe(report: &LinkingReport) -> String {
    let missing: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.complete())
        .map(|r| format!("{}: {:?}", r.question, r.missing))
        .collect();
    format!(
        "{:#}\nmissing:\n{}",
        report.all.to_json(),
        missing.join("\n")
    )
}

#[tokio::test]
async fn wide_schemas_keep_what_the_gold_sql_needs_in_a_fraction_of_the_tokens() {
    for name in ["tpch", "sakila"] {
        let cases = questions(name);
        assert!(cases.len() >= 30, "{name}");
        let report = run(&cases, &shared_data(), 600).await;
        let all = &report.all;
        assert_eq!(all.questions, cases.len(), "every gold query is scored");
        assert_eq!(
            report.pruned.questions, all.questions,
            "{name}: 600 tokens prune"
        );
        assert!(all.table_recall() >= 0.95, "{name}\n{}", describe(&report));
        assert!(all.recall() >= 0.93, "{name}\n{}", describe(&report));
        assert!(
            all.complete_share() >= 0.85,
            "{name}\n{}",
            describe(&report)
        );
        assert!(all.size_ratio() <= 0.65, "{name}\n{}", describe(&report));
        for r in &report.results {
            assert!(r.tokens <= 600, "{}: {} tokens", r.question, r.tokens);
        }

        // The default budget holds these schemas whole.
        let whole = run(&cases, &shared_data(), 4000).await;
        assert_eq!(whole.pruned.questions, 0, "{name}");
        assert_eq!(whole.all.recall(), 1.0, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spider_questions_keep_their_tables_and_columns_under_a_small_budget() {
    let path = shared_data().join("spider-train/train_queries_spiderman_mysql.csv");
    let cases: Vec<Case> = load_cases(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|c| c.db != "baseball_1" && c.db != "soccer_1")
        .enumerate()
        .filter(|(i, _)| i % 5 == 0)
        .map(|(_, c)| c)
        .collect();
    let report = run(&cases, &shared_data().join("spider-train/database"), 400).await;
    let pruned = &report.pruned;
    assert!(
        pruned.questions * 3 > report.all.questions,
        "a third or more of the questions are pruned at 400 tokens: {}",
        pruned.questions
    );
    assert!(pruned.table_recall() >= 0.97, "{}", describe(&report));
    assert!(pruned.recall() >= 0.95, "{}", describe(&report));
    assert!(pruned.size_ratio() <= 0.6, "{}", describe(&report));
    assert!(report.all.recall() >= 0.97, "{}", describe(&report));
}
