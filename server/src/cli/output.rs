//! Plain-text rendering of catalogs and results for the terminal.

use std::fmt::Write as _;

use conversational_bi::{
    Catalog,
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

    #[test]
    fn long_cells_are_cut() {
        let long = "x".repeat(100);
        assert_eq!(cell(&Value::Text(long)).chars().count(), MAX_CELL);
        assert_eq!(cell(&Value::Bytes("00ff".into())), "x'00ff'");
    }
}
