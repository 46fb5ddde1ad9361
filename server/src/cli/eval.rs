//! `eval`: scores a generator on golden questions by execution accuracy, or, with
//! `--linking-only`, the prompt's schema linking (recall of the gold SQL's tables and columns
//! in the pruned schema, and the schema's size).
//!
//! Reads Spider-style JSON arrays (`db_id`, `question`, `query`, optional `difficulty` or
//! `hardness`), SParC-style interactions (`database_id`, `interaction: [{utterance, query}]`,
//! each one conversation) and CSV (`database,question,sql` with a header row). Databases are
//! SQLite files at `DIR/<db>/<db>.sqlite`. Gold and predicted SQL both run; a prediction is
//! correct by [`eval::rows_match`]: every gold column is matched by a predicted column and the
//! rows agree as multisets (in order when the gold SQL has a top-level ORDER BY). Extra
//! predicted columns are allowed: an answer that also shows the count it ranked by is still the
//! right answer.
//!
//! Besides the totals, the report breaks the scores down by the SQL constructions of each gold
//! query ([`eval::classify`]: negation, superlative, grouping, join, ...; `follow-up` for every
//! conversation turn after the first), sums up the follow-up turns, and lists the words that
//! abstentions most often did not understand. In JSON, each result also carries its
//! `constructions`, its `turn` (0-based within its conversation) and, for an abstention, the
//! `reason` and the `unknown_words`.
//!
//! With `--feedback`, the golden questions are the feedback store of `[feedback]`: each
//! thumbs-up answer (question and its SQL) and each correction (question and the corrected
//! SQL) of one tenant, scored the same way on the tenant's database.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    process::ExitCode,
    sync::Arc,
    time::Instant,
};

use clap::Args;
use conversational_bi::{
    Config, DataSource, Engine, Error, FeedbackFilter, FeedbackStatus,
    eval::{
        self, Breakdown, Construction, Outcome, Tally,
        linking::{self, LinkingOptions, LinkingReport, LinkingSummary},
    },
    generate::{self, GenerationRequest, RuleGenerator, SqlGenerator},
    session::Turn,
};
use serde_json::json;

/// Arguments of `eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Golden questions: Spider/SParC JSON or `database,question,sql` CSV.
    #[arg(long, value_name = "FILE", required_unless_present = "feedback")]
    questions: Option<PathBuf>,
    /// Folder holding `<db>/<db>.sqlite` for every database named in the questions.
    #[arg(long, value_name = "DIR", required_unless_present = "feedback")]
    db_dir: Option<PathBuf>,
    /// Replay the feedback store of `[feedback]` as the golden questions: every thumbs-up
    /// answer and every correction of the tenant (`--tenant`), on the tenant's database
    /// (`[database]`, or its `[tenants.<id>]`). Dismissed feedback is left out.
    #[arg(long, conflicts_with_all = ["questions", "db_dir", "linking_only"])]
    feedback: bool,
    /// The tenant whose feedback `--feedback` replays.
    #[arg(
        long,
        value_name = "ID",
        default_value = "default",
        requires = "feedback"
    )]
    tenant: String,
    /// Which generator to score: the offline rules or the configured LLM.
    #[arg(long, value_parser = ["rule", "llm"], default_value = "rule")]
    generator: String,
    /// Print one JSON object instead of a text report.
    #[arg(long)]
    json: bool,
    /// Score at most this many questions.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Measure only schema linking: for each question, the share of the gold SQL's tables and
    /// columns that the prompt's pruned schema shows, and the schema's size in tokens. No
    /// generator runs.
    #[arg(long)]
    linking_only: bool,
    /// The schema token budget for `--linking-only` (default: `[llm] max_schema_tokens`).
    #[arg(long, value_name = "TOKENS", requires = "linking_only")]
    max_schema_tokens: Option<usize>,
}

impl EvalArgs {
    /// Whether JSON output was asked for.
    pub fn json(&self) -> bool {
        self.json
    }
}

struct Database {
    source: DataSource,
    generator: Arc<dyn SqlGenerator>,
}

async fn open(config: &Config, dir: &Path, db: &str, which: &str) -> Result<Database, Error> {
    let path = linking::sqlite_path(dir, db)?;
    let url = format!("sqlite://{}", path.display());
    let source = DataSource::connect(config, Some(&url)).await?;
    let generator: Arc<dyn SqlGenerator> = if which == "rule" {
        Arc::new(RuleGenerator::from_source(&source).await?)
    } else {
        generate::from_config(config, &source).await?
    };
    Ok(Database { source, generator })
}

/// Runs `eval`.
pub async fn run(args: &EvalArgs, config: &Config) -> Result<ExitCode, Error> {
    if args.linking_only {
        return run_linking(args, config).await;
    }
    if args.feedback {
        return run_feedback(args, config).await;
    }
    let (Some(questions), Some(db_dir)) = (&args.questions, &args.db_dir) else {
        return Err(Error::invalid_input(
            "eval needs --questions FILE and --db-dir DIR, or --feedback",
        ));
    };
    let mut config = config.clone();
    config.database.max_rows = 100_000;
    // Score the configured model alone: a rule fallback would hide its failures.
    config.llm.fallback = conversational_bi::config::Fallback::None;
    let cases = eval::load_cases(questions)?;
    let mut dbs: HashMap<String, Option<Database>> = HashMap::new();
    let mut results = Vec::new();
    let mut by_difficulty: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut overall = Tally::default();
    let mut breakdown = Breakdown::default();
    let mut latencies = Vec::new();
    let limit = args.limit.unwrap_or(usize::MAX);
    'cases: for case in &cases {
        if !dbs.contains_key(&case.db) {
            // One database open at a time: golden sets span hundreds of them.
            dbs.clear();
            let db = match open(&config, db_dir, &case.db, &args.generator).await {
                Ok(d) => Some(d),
                Err(e) => {
                    eprintln!("skipping database {}: {e}", case.db);
                    None
                }
            };
            dbs.insert(case.db.clone(), db);
        }
        let Some(db) = dbs.get(&case.db).and_then(Option::as_ref) else {
            continue;
        };
        let mut history: Vec<Turn> = Vec::new();
        for (turn_index, turn) in case.turns.iter().enumerate() {
            let (question, gold) = (&turn.question, &turn.sql);
            if results.len() >= limit {
                break 'cases;
            }
            let Ok(gold_result) = db.source.executor().execute(gold).await else {
                continue; // not runnable: not scored
            };
            let started = Instant::now();
            let request = GenerationRequest {
                question: question.clone(),
                catalog: db.source.visible_catalog().clone(),
                history: history.clone(),
                feedback: Vec::new(),
                max_rows: config.database.max_rows,
                view: None,
            };
            let generated = db.generator.generate(&request).await;
            let mut abstention: Option<(String, Vec<String>)> = None;
            let (outcome, predicted, state) = match generated {
                Err(Error::CannotAnswer {
                    message,
                    unknown_words,
                }) => {
                    abstention = Some((message, unknown_words));
                    (Outcome::Abstained, None, None)
                }
                Err(_) => (Outcome::Error, None, None),
                Ok(g) => match db.source.run(&g.sql).await {
                    Ok((_, r)) => {
                        let ok = eval::rows_match(
                            &r.rows,
                            &gold_result.rows,
                            eval::has_top_level_order_by(gold),
                        );
                        (
                            if ok { Outcome::Correct } else { Outcome::Wrong },
                            Some(g.sql.clone()),
                            Some(g),
                        )
                    }
                    Err(_) => (Outcome::Error, Some(g.sql.clone()), None),
                },
            };
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            latencies.push(ms);
            overall.add(outcome);
            let mut constructions = eval::classify(gold);
            if turn_index > 0 {
                constructions.push(Construction::FollowUp);
            }
            breakdown.record(
                &constructions,
                outcome,
                abstention.as_ref().map_or(&[][..], |(_, w)| w.as_slice()),
            );
            let entry = by_difficulty.entry(case.difficulty.clone()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(outcome == Outcome::Correct);
            if let Some((message, _)) = &abstention {
                // As the engine does: the conversation keeps the question it did not answer.
                let mut t =
                    Turn::unanswered(question.clone(), message.clone(), db.generator.name());
                t.turn = history.len() as u64 + 1;
                history.push(t);
            }
            if let Some(g) = state {
                history.push(Turn {
                    turn: history.len() as u64 + 1,
                    question: question.clone(),
                    sql: g.sql,
                    explanation: g.explanation,
                    columns: Vec::new(),
                    row_count: 0,
                    generator: db.generator.name(),
                    at: String::new(),
                    state: g.state,
                    clarification: g.clarification,
                });
            }
            let mut result = json!({
                "db_id": case.db,
                "question": question,
                "gold_sql": gold,
                "predicted_sql": predicted,
                "outcome": outcome.name(),
                "ms": (ms * 1000.0).round() / 1000.0,
                "constructions": constructions.iter().map(|c| c.name()).collect::<Vec<_>>(),
                "turn": turn_index,
            });
            if let Some((message, words)) = abstention {
                result["reason"] = json!(message);
                result["unknown_words"] = json!(words);
            }
            results.push(result);
        }
    }
    let total = results.len();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if latencies.is_empty() {
            0.0
        } else {
            latencies[((latencies.len() - 1) as f64 * p).round() as usize]
        }
    };
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let by: serde_json::Map<String, serde_json::Value> = by_difficulty
        .iter()
        .map(|(k, (n, c))| {
            (
                k.clone(),
                json!({ "total": n, "correct": c, "execution_accuracy": ratio(*c, *n) }),
            )
        })
        .collect();
    let Tally {
        correct,
        abstained,
        wrong,
        errors,
        ..
    } = overall;
    let follow_ups = breakdown.follow_ups();
    let (abstentions, with_words) = breakdown.abstentions();
    if args.json {
        println!(
            "{}",
            json!({
                "total": total,
                "correct": correct,
                "execution_accuracy": ratio(correct, total),
                "abstained": abstained,
                "errors": errors,
                "wrong": wrong,
                "by_difficulty": by,
                "by_construction": breakdown.by_construction_json(),
                "follow_ups": {
                    "total": follow_ups.total,
                    "answered": follow_ups.answered(),
                    "correct": follow_ups.correct,
                    "wrong": follow_ups.wrong,
                    "wrong_per_answered": follow_ups.wrong_per_answered(),
                },
                "abstentions_with_unknown_words": with_words,
                "abstention_words": breakdown
                    .abstention_words(30)
                    .into_iter()
                    .map(|(w, n)| json!({ "word": w, "count": n }))
                    .collect::<Vec<_>>(),
                "latency_ms": { "p50": pct(0.5), "p95": pct(0.95) },
                "results": results,
            })
        );
    } else {
        let answered = total - abstained;
        println!("questions:           {total}");
        println!(
            "execution accuracy:  {:.1}% ({correct})",
            100.0 * ratio(correct, total)
        );
        println!(
            "abstained:           {:.1}% ({abstained})",
            100.0 * ratio(abstained, total)
        );
        println!(
            "wrong / total:       {:.1}% ({wrong})",
            100.0 * ratio(wrong, total)
        );
        println!(
            "wrong / answered:    {:.1}%",
            100.0 * ratio(wrong, answered)
        );
        println!("errors:              {errors}");
        for (k, (n, c)) in &by_difficulty {
            println!("  {k:<12} {:.1}% of {n}", 100.0 * ratio(*c, *n));
        }
        if follow_ups.total > 0 {
            println!(
                "follow-ups:          {} answered of {}, {} wrong ({:.1}% of answered)",
                follow_ups.answered(),
                follow_ups.total,
                follow_ups.wrong,
                100.0 * follow_ups.wrong_per_answered()
            );
        }
        print_constructions(&breakdown);
        if abstentions > 0 {
            let top: Vec<String> = breakdown
                .abstention_words(10)
                .into_iter()
                .map(|(w, n)| format!("{w} ({n})"))
                .collect();
            println!(
                "abstention reasons:  {with_words} of {abstentions} abstentions named unknown words{}{}",
                if top.is_empty() {
                    ""
                } else {
                    "; most frequent: "
                },
                top.join(", ")
            );
        }
        println!("latency p50 {:.2} ms, p95 {:.2} ms", pct(0.5), pct(0.95));
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the by-construction table: per construction, questions, correct, abstained, wrong
/// and wrong / answered.
fn print_constructions(breakdown: &Breakdown) {
    println!(
        "{:<22}{:>7}{:>9}{:>10}{:>7}{:>10}",
        "construction", "total", "correct", "abstained", "wrong", "wrong/ans"
    );
    for (c, t) in breakdown.by_construction() {
        println!(
            "  {:<20}{:>7}{:>9}{:>10}{:>7}{:>9.1}%",
            c.name(),
            t.total,
            t.correct,
            t.abstained,
            t.wrong,
            100.0 * t.wrong_per_answered()
        );
    }
}

/// Runs `eval --feedback`: the tenant's thumbs-up answers and corrections as golden
/// questions, scored by [`eval::rows_match`] on the tenant's database.
async fn run_feedback(args: &EvalArgs, config: &Config) -> Result<ExitCode, Error> {
    let mut config = config.clone();
    config.database.max_rows = 100_000;
    config.cache.enabled = false;
    config.llm.fallback = conversational_bi::config::Fallback::None;
    let engine = Engine::from_config(config.clone()).await?;
    let source = engine.source_for_tenant(&args.tenant).await?;
    let generator: Arc<dyn SqlGenerator> = if args.generator == "rule" {
        Arc::new(RuleGenerator::from_source(&source).await?)
    } else {
        generate::from_config(&config, &source).await?
    };
    let records = engine
        .list_feedback(
            &args.tenant,
            &FeedbackFilter {
                limit: Some(conversational_bi::feedback::MAX_LIST_LIMIT),
                ..FeedbackFilter::default()
            },
        )
        .await?;
    // Oldest first, each (question, SQL) once; dismissed feedback was set aside by an admin.
    let mut seen = std::collections::HashSet::new();
    let cases: Vec<(&conversational_bi::Feedback, &str)> = records
        .iter()
        .rev()
        .filter(|f| f.status != FeedbackStatus::Dismissed)
        .filter_map(|f| f.golden_sql().map(|gold| (f, gold)))
        .filter(|(f, gold)| seen.insert((f.question.clone(), gold.to_string())))
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    let (mut correct, mut wrong, mut abstained, mut errors, mut unscored) = (0, 0, 0, 0, 0);
    let mut results = Vec::new();
    for (record, gold) in &cases {
        let Ok((_, gold_result)) = source.run(gold).await else {
            unscored += 1; // the gold SQL no longer runs: not scored
            continue;
        };
        let request = GenerationRequest {
            question: record.question.clone(),
            catalog: source.visible_catalog().clone(),
            history: Vec::new(),
            feedback: Vec::new(),
            max_rows: config.database.max_rows,
            view: None,
        };
        let (outcome, predicted) = match generator.generate(&request).await {
            Err(Error::CannotAnswer { .. }) => ("abstained", None),
            Err(_) => ("error", None),
            Ok(g) => match source.run(&g.sql).await {
                Ok((_, r)) => {
                    let ok = eval::rows_match(
                        &r.rows,
                        &gold_result.rows,
                        eval::has_top_level_order_by(gold),
                    );
                    (if ok { "correct" } else { "wrong" }, Some(g.sql))
                }
                Err(_) => ("error", Some(g.sql)),
            },
        };
        match outcome {
            "correct" => correct += 1,
            "wrong" => wrong += 1,
            "abstained" => abstained += 1,
            _ => errors += 1,
        }
        results.push(json!({
            "feedback_id": record.id,
            "rating": record.rating,
            "corrected": record.corrected_sql.is_some(),
            "question": record.question,
            "gold_sql": gold,
            "predicted_sql": predicted,
            "outcome": outcome,
        }));
    }
    let total = results.len();
    let accuracy = if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    };
    if args.json {
        println!(
            "{}",
            json!({
                "tenant_id": args.tenant,
                "total": total,
                "correct": correct,
                "execution_accuracy": accuracy,
                "abstained": abstained,
                "errors": errors,
                "wrong": wrong,
                "unscored": unscored,
                "results": results,
            })
        );
    } else {
        println!("feedback of tenant:  {}", args.tenant);
        println!("questions:           {total}");
        println!("execution accuracy:  {:.1}% ({correct})", 100.0 * accuracy);
        println!("wrong:               {wrong}");
        println!("abstained:           {abstained}");
        println!("errors:              {errors}");
        if unscored > 0 {
            println!("unscored:            {unscored} (their SQL no longer runs)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `eval --linking-only`.
async fn run_linking(args: &EvalArgs, config: &Config) -> Result<ExitCode, Error> {
    let (Some(questions), Some(db_dir)) = (&args.questions, &args.db_dir) else {
        return Err(Error::invalid_input(
            "eval --linking-only needs --questions FILE and --db-dir DIR",
        ));
    };
    let cases = eval::load_cases(questions)?;
    let options = LinkingOptions {
        max_schema_tokens: args
            .max_schema_tokens
            .unwrap_or(config.llm.max_schema_tokens),
        privacy_mode: config.llm.privacy_mode,
        limit: args.limit,
        embedder: None,
    };
    if options.max_schema_tokens == 0 {
        return Err(Error::invalid_input(
            "--max-schema-tokens must be greater than 0",
        ));
    }
    let report = linking::evaluate(&cases, db_dir, config, &options).await;
    for (db, reason) in &report.skipped_databases {
        eprintln!("skipping database {db}: {reason}");
    }
    if args.json {
        println!("{}", linking_json(&report, &options));
    } else {
        print_linking(&report, &options);
    }
    Ok(ExitCode::SUCCESS)
}

fn linking_json(report: &LinkingReport, options: &LinkingOptions) -> serde_json::Value {
    json!({
        "max_schema_tokens": options.max_schema_tokens,
        "privacy_mode": options.privacy_mode,
        "all": report.all.to_json(),
        "pruned": report.pruned.to_json(),
        "unscored": report.unscored.iter().map(|(db, q, reason)| json!({"db_id": db, "question": q, "reason": reason})).collect::<Vec<_>>(),
        "skipped_databases": report.skipped_databases.iter().map(|(db, reason)| json!({"db_id": db, "reason": reason})).collect::<Vec<_>>(),
        "results": report.results,
    })
}

fn print_linking(report: &LinkingReport, options: &LinkingOptions) {
    let pct = |x: f64| 100.0 * x;
    let summary = |label: &str, s: &LinkingSummary| {
        println!("{label}");
        println!("  questions:          {}", s.questions);
        println!(
            "  recall:             {:.1}% of gold tables and columns (tables {:.1}%, columns {:.1}%)",
            pct(s.recall()),
            pct(s.table_recall()),
            pct(s.column_recall())
        );
        println!(
            "  complete:           {:.1}% of questions show every gold table and column",
            pct(s.complete_share())
        );
        println!(
            "  schema size:        {:.0} tokens on average, whole schema {:.0} ({:.1}%)",
            s.mean_tokens(),
            s.mean_full_tokens(),
            pct(s.size_ratio())
        );
    };
    println!(
        "schema linking, budget {} tokens{}",
        options.max_schema_tokens,
        if options.privacy_mode {
            ", privacy mode"
        } else {
            ""
        }
    );
    summary("all questions", &report.all);
    summary("questions whose schema was pruned", &report.pruned);
    if !report.unscored.is_empty() {
        println!(
            "unscored:             {} gold queries the validator refused",
            report.unscored.len()
        );
    }
    if !report.skipped_databases.is_empty() {
        println!("skipped databases:    {}", report.skipped_databases.len());
    }
}
