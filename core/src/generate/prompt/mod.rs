//! The prompt of the LLM generator, as a pure function of the request.
//!
//! Layout: one system message with the rules of the dialect, the read-only and row-limit rules,
//! the answer format and the schema; then the conversation so far as user/assistant pairs (each
//! earlier question with the SQL that answered it, so that follow-ups such as "only 2024" can
//! patch that SQL); then the question; then, on a retry, each failed try and why it failed.

use std::fmt::Write as _;

use super::GenerationRequest;
use crate::{
    catalog::Catalog,
    dialect::Dialect,
    llm::{ChatMessage, Role},
};

/// Renders the chat messages for `request`.
pub fn render(request: &GenerationRequest) -> Vec<ChatMessage> {
    let mut messages = vec![ChatMessage::new(
        Role::System,
        system_message(&request.catalog, request.max_rows),
    )];
    for turn in &request.history {
        messages.push(ChatMessage::new(Role::User, turn.question.clone()));
        messages.push(ChatMessage::new(
            Role::Assistant,
            answer_json(&turn.sql, &turn.explanation),
        ));
    }
    messages.push(ChatMessage::new(Role::User, request.question.clone()));
    for attempt in &request.feedback {
        messages.push(ChatMessage::new(
            Role::Assistant,
            answer_json(&attempt.sql, ""),
        ));
        let error = attempt.error.as_deref().unwrap_or("the query failed");
        messages.push(ChatMessage::new(
            Role::User,
            format!(
                "That SQL failed: {error}\nWrite a corrected query for the same question. Answer with the JSON object only."
            ),
        ));
    }
    messages
}

fn answer_json(sql: &str, explanation: &str) -> String {
    #[derive(serde::Serialize)]
    struct Reply<'a> {
        sql: &'a str,
        explanation: &'a str,
    }
    serde_json::to_string(&Reply { sql, explanation }).unwrap_or_default()
}

fn system_message(catalog: &Catalog, max_rows: usize) -> String {
    let dialect = match catalog.dialect {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL/MariaDB",
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "You translate business questions into one {dialect} SQL query over the database described below."
    );
    s.push_str("\nRules:\n");
    s.push_str("- Write exactly one read-only query: SELECT or WITH ... SELECT. Never modify data or schema, never use several statements.\n");
    s.push_str("- Use only the tables and columns listed below, spelled exactly as listed; join along the foreign keys shown.\n");
    let _ = writeln!(
        s,
        "- At most {max_rows} rows can be returned; use ORDER BY with LIMIT for \"top\" questions."
    );
    s.push_str("- Use only standard aggregate, window, string, math, date/time, conditional and cast functions.\n");
    s.push_str("- Give result columns short, readable aliases.\n");
    s.push_str(match catalog.dialect {
        Dialect::Sqlite => {
            "- SQLite dates are text: use strftime('%Y', col) for the year and strftime('%Y-%m', col) for the month.\n"
        }
        Dialect::Postgres => {
            "- PostgreSQL: use EXTRACT(YEAR FROM col) or date_trunc('month', col); quote mixed-case identifiers with double quotes.\n"
        }
        Dialect::Mysql => "- MySQL: use YEAR(col) and DATE_FORMAT(col, '%Y-%m'); quote identifiers with backticks when needed.\n",
    });
    s.push_str(
        "- A follow-up question refines the previous query: keep what it does not change.\n",
    );
    s.push_str(
        "\nAnswer with one JSON object and nothing else: {\"sql\": \"<the query>\", \"explanation\": \"<one sentence saying what the query returns>\"}\n",
    );
    let _ = write!(s, "\nSchema ({dialect}):\n{}", render_schema(catalog));
    s.truncate(s.trim_end().len());
    s
}

/// The compact schema listing used in prompts: one line per table with typed columns, keys and
/// comments.
pub fn render_schema(catalog: &Catalog) -> String {
    let mut s = String::new();
    for t in &catalog.tables {
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                let mut col = format!("{} {}", c.name, c.data_type);
                if t.primary_key.len() == 1 && t.primary_key[0] == c.name {
                    col.push_str(" PRIMARY KEY");
                }
                for fk in &t.foreign_keys {
                    if fk.columns.len() == 1 && fk.columns[0] == c.name {
                        let _ = write!(
                            col,
                            " REFERENCES {}({})",
                            fk.referenced_table,
                            fk.referenced_columns.join(", ")
                        );
                    }
                }
                if let Some(comment) = &c.comment {
                    let _ = write!(col, " -- {comment}");
                }
                col
            })
            .collect();
        let kind = if t.kind == crate::catalog::TableKind::View {
            "VIEW "
        } else {
            ""
        };
        let _ = write!(s, "{kind}{}({})", t.qualified_name(), cols.join(", "));
        if t.primary_key.len() > 1 {
            let _ = write!(s, " PRIMARY KEY({})", t.primary_key.join(", "));
        }
        for fk in t.foreign_keys.iter().filter(|fk| fk.columns.len() > 1) {
            let _ = write!(
                s,
                " FOREIGN KEY({}) REFERENCES {}({})",
                fk.columns.join(", "),
                fk.referenced_table,
                fk.referenced_columns.join(", ")
            );
        }
        if let Some(c) = &t.comment {
            let _ = write!(s, " -- {c}");
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        answer::Attempt,
        catalog::{Column, ForeignKey, Table, TableKind},
        session::Turn,
    };

    fn catalog() -> Catalog {
        let col = |n: &str, t: &str| Column {
            name: n.into(),
            data_type: t.into(),
            nullable: false,
            comment: None,
        };
        Catalog::new(
            Dialect::Sqlite,
            "shop",
            vec![
                Table {
                    schema: None,
                    name: "Customer".into(),
                    kind: TableKind::Table,
                    columns: vec![col("CustomerId", "INTEGER"), col("Country", "NVARCHAR(40)")],
                    primary_key: vec!["CustomerId".into()],
                    foreign_keys: vec![],
                    comment: Some("people who buy".into()),
                },
                Table {
                    schema: None,
                    name: "Invoice".into(),
                    kind: TableKind::Table,
                    columns: vec![
                        col("InvoiceId", "INTEGER"),
                        col("CustomerId", "INTEGER"),
                        col("Total", "NUMERIC(10,2)"),
                    ],
                    primary_key: vec!["InvoiceId".into()],
                    foreign_keys: vec![ForeignKey {
                        columns: vec!["CustomerId".into()],
                        referenced_schema: None,
                        referenced_table: "Customer".into(),
                        referenced_columns: vec!["CustomerId".into()],
                    }],
                    comment: None,
                },
            ],
        )
    }

    fn request() -> GenerationRequest {
        GenerationRequest {
            question: "only 2024".into(),
            catalog: Arc::new(catalog()),
            history: vec![Turn {
                turn: 1,
                question: "revenue by country".into(),
                sql: "SELECT c.Country, sum(i.Total) AS revenue FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.Country".into(),
                explanation: "Revenue per country.".into(),
                columns: vec!["Country".into(), "revenue".into()],
                row_count: 24,
                generator: "openai:gpt-4".into(),
                at: "2026-01-01T00:00:00Z".into(),
                state: None,
            }],
            feedback: vec![Attempt {
                sql: "SELECT Country, sum(Totl) FROM Invoice".into(),
                error: Some("no column `Totl` in `Invoice`; did you mean `Total`?".into()),
            }],
            max_rows: 1000,
        }
    }

    #[test]
    fn prompt_snapshot() {
        let rendered: Vec<String> = render(&request())
            .iter()
            .map(|m| format!("[{:?}]\n{}", m.role, m.content))
            .collect();
        insta::assert_snapshot!(rendered.join("\n\n"));
    }

    #[test]
    fn history_carries_earlier_sql_and_feedback_carries_the_error() {
        let messages = render(&request());
        assert_eq!(messages.len(), 6);
        assert!(messages[2].content.contains("GROUP BY c.Country"));
        assert_eq!(messages[3].content, "only 2024");
        assert!(messages[5].content.contains("did you mean `Total`"));
    }
}
