//! Plain-text rendering of catalogs and results for the terminal.

use std::fmt::Write as _;

use conversational_bi::{
    Answer, Catalog,
    answer::AnswerKind,
    catalog::TableKind,
    exec::{QueryResult, Value},
};

/// Longest cell shown in a text table; longer values are cut with `…`.
const MAX_CELL: usize = 40;

/// The catalog as an indented listing.
pub fn render_catalog(catalog: &Catalog) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} database `{}`: {} tables and views, {} columns (schema fingerprint {})",
        catalog.dialect,
        catalog.database,
        catalog.tables.len(),
        catalog.column_count(),
        catalog.fingerprint
    );
    for table in &catalog.tables {
        let kind = match table.kind {
            TableKind::Table => "table",
            TableKind::View => "view",
        };
        let _ = write!(out, "\n{} ({kind})", table.qualified_name());
        if let Some(c) = &table.comment {
            let _ = write!(out, " -- {c}");
        }
        out.push('\n');
        let width = table
            .columns
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        for column in &table.columns {
            let mut notes = Vec::new();
            if table.primary_key.iter().any(|k| k == &column.name) {
                notes.push("primary key".to_string());
            }
            if !column.nullable {
                notes.push("not null".to_string());
            }
            for fk in &table.foreign_keys {
                if let Some(i) = fk.columns.iter().position(|c| c == &column.name) {
                    let target = fk.referenced_columns.get(i).map_or("?", String::as_str);
                    notes.push(format!("-> {}.{target}", fk.referenced_table));
                }
            }
            if let Some(c) = &column.comment {
                notes.push(format!("-- {c}"));
            }
            let _ = writeln!(
                out,
                "  {:<width$}  {}{}{}",
                column.name,
                column.data_type,
                if notes.is_empty() { "" } else { "  " },
                notes.join(", ")
            );
        }
    }
    out
}

/// The statement that ran and its result as an aligned table.
pub fn render_result(sql: &str, result: &QueryResult, max_rows: usize) -> String {
    let headers: Vec<String> = result.columns.iter().map(|c| c.name.clone()).collect();
    let cells: Vec<Vec<String>> = result
        .rows
        .iter()
        .map(|row| row.iter().map(cell).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{sql}\n");
    let line = |out: &mut String, values: &[String]| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}", w = *w))
            .collect();
        let _ = writeln!(out, "{}", padded.join(" | ").trim_end());
    };
    line(&mut out, &headers);
    let _ = writeln!(
        out,
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-")
    );
    for row in &cells {
        line(&mut out, row);
    }
    let n = result.rows.len();
    let _ = write!(out, "({n} row{}", if n == 1 { "" } else { "s" });
    if result.truncated {
        let _ = write!(out, "; cut at the row cap of {max_rows}");
    }
    let _ = writeln!(out, ", {:.1} ms)", result.elapsed_ms);
    out
}

/// One answer for the terminal: the question, a badge when a verified query answered, the
/// explanation, every warning, then either the clarification's numbered options or the SQL and
/// its result, and the suggested follow-ups.
pub fn render_answer(question: &str, answer: &Answer, max_rows: usize) -> String {
    let mut out = format!("\n? {question}\n");
    if answer.verified {
        out.push_str("[verified] ");
    }
    if !answer.explanation.is_empty() {
        let _ = writeln!(out, "{}", answer.explanation);
    } else if answer.verified {
        out.push('\n');
    }
    for warning in &answer.warnings {
        let tag = if answer.degraded && Some(warning) == answer.warnings.first() {
            "degraded"
        } else {
            "warning"
        };
        let _ = writeln!(out, "({tag}) {warning}");
    }
    if answer.attempts.len() > 1 {
        let _ = writeln!(out, "(corrected after {} tries)", answer.attempts.len());
    }
    if answer.kind == AnswerKind::Clarification
        && let Some(c) = &answer.clarification
    {
        let _ = writeln!(out, "{}", c.question);
        for (i, option) in c.options.iter().enumerate() {
            if option.detail.is_empty() {
                let _ = writeln!(out, "  {}. {}", i + 1, option.label);
            } else {
                let _ = writeln!(out, "  {}. {} ({})", i + 1, option.label, option.detail);
            }
        }
        out.push_str("Reply with one of them.\n");
        return out;
    }
    let result = QueryResult {
        columns: answer.columns.clone(),
        rows: answer.rows.clone(),
        truncated: answer.truncated,
        byte_cap_reached: false,
        elapsed_ms: answer.timings.get("execute").copied().unwrap_or_default(),
    };
    out.push_str(&render_result(&answer.sql, &result, max_rows));
    if !answer.suggestions.is_empty() {
        let quoted: Vec<String> = answer
            .suggestions
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect();
        let _ = writeln!(out, "Try next: {}", quoted.join(", "));
    }
    out
}

fn cell(v: &Value) -> String {
    let s = match v {
        Value::Null => "NULL".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Decimal(d) | Value::Text(d) => d.clone(),
        Value::Bytes(h) => format!("x'{h}'"),
    };
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() > MAX_CELL {
        format!("{}…", s.chars().take(MAX_CELL - 1).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use conversational_bi::exec::ResultColumn;

    use super::*;

    #[test]
    fn result_table_is_aligned_and_notes_truncation() {
        let result = QueryResult {
            columns: vec![
                ResultColumn {
                    name: "Name".into(),
                    data_type: "TEXT".into(),
                },
                ResultColumn {
                    name: "n".into(),
                    data_type: "INTEGER".into(),
                },
            ],
            rows: vec![
                vec![Value::Text("Iron Maiden".into()), Value::Int(213)],
                vec![Value::Null, Value::Int(7)],
            ],
            truncated: true,
            byte_cap_reached: false,
            elapsed_ms: 1.25,
        };
        let text = render_result("SELECT 1", &result, 2);
        assert!(text.contains("Name        | n\n"), "{text}");
        assert!(text.contains("Iron Maiden | 213\n"), "{text}");
        assert!(text.contains("NULL        | 7\n"), "{text}");
        assert!(
            text.contains("(2 rows; cut at the row cap of 2, 1.2 ms)") || text.contains("1.3 ms"),
            "{text}"
        );
    }

    fn answer() -> Answer {
        Answer {
            sql: "SELECT 1".into(),
            explanation: "one".into(),
            columns: vec![ResultColumn {
                name: "n".into(),
                data_type: "INTEGER".into(),
            }],
            rows: vec![vec![Value::Int(1)]],
            row_count: 1,
            truncated: false,
            cache_hit: false,
            similarity: None,
            generator: "verified".into(),
            degraded: false,
            attempts: vec![],
            timings: Default::default(),
            session_id: "s".into(),
            turn: 1,
            chart: None,
            warnings: vec!["SUM(Invoice.Total) may count each Invoice row more than once".into()],
            kind: AnswerKind::Answer,
            clarification: None,
            verified: true,
            suggestions: vec!["by month".into(), "top 5".into()],
            scope: vec![],
        }
    }

    #[test]
    fn answers_show_the_badge_warnings_and_suggestions() {
        let text = render_answer("q", &answer(), 10);
        assert!(text.contains("[verified] one\n"), "{text}");
        assert!(
            text.contains("(warning) SUM(Invoice.Total) may count"),
            "{text}"
        );
        assert!(
            text.contains("Try next: \"by month\", \"top 5\"\n"),
            "{text}"
        );
    }

    #[test]
    fn clarifications_list_their_options_and_run_nothing() {
        let mut a = answer();
        a.verified = false;
        a.sql.clear();
        a.kind = AnswerKind::Clarification;
        a.clarification = Some(conversational_bi::answer::Clarification {
            question: "Which date?".into(),
            options: vec![
                conversational_bi::answer::ClarificationOption {
                    label: "invoice date".into(),
                    detail: "Invoice.InvoiceDate".into(),
                },
                conversational_bi::answer::ClarificationOption {
                    label: "hire date".into(),
                    detail: String::new(),
                },
            ],
        });
        let text = render_answer("q", &a, 10);
        assert!(
            text.contains("Which date?\n  1. invoice date (Invoice.InvoiceDate)\n  2. hire date\n"),
            "{text}"
        );
        assert!(!text.contains("SELECT"), "{text}");
    }

    #[test]
    fn long_cells_are_cut() {
        let long = "x".repeat(100);
        assert_eq!(cell(&Value::Text(long)).chars().count(), MAX_CELL);
        assert_eq!(cell(&Value::Bytes("00ff".into())), "x'00ff'");
    }
}
