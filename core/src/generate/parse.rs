//! Reading SQL and an explanation out of a model's reply.

use crate::error::{Error, Result};

/// Extracts `(sql, explanation)` from a model's reply: a JSON object with `sql` and
/// `explanation` (bare or in a fenced block), a fenced SQL block, or bare SQL.
pub fn parse_completion(text: &str) -> Result<(String, String)> {
    let trimmed = text.trim();
    for candidate in [
        Some(trimmed),
        fenced(trimmed, "json"),
        fenced(trimmed, ""),
        first_object(trimmed),
    ]
    .into_iter()
    .flatten()
    {
        if let Ok(serde_json::Value::Object(map)) =
            serde_json::from_str::<serde_json::Value>(candidate)
        {
            let sql = map
                .get("sql")
                .and_then(|v| v.as_str())
                .map(str::trim)
                .unwrap_or_default();
            if sql.is_empty() {
                return Err(no_sql(text));
            }
            let explanation = map
                .get("explanation")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .trim();
            return Ok((sql.to_string(), explanation.to_string()));
        }
    }
    let sql = fenced(trimmed, "sql")
        .or_else(|| fenced(trimmed, ""))
        .unwrap_or(trimmed)
        .trim();
    let starts_like_sql = sql.split_whitespace().next().is_some_and(|w| {
        ["select", "with", "values", "("]
            .iter()
            .any(|k| w.to_ascii_lowercase().starts_with(k))
    });
    if starts_like_sql {
        return Ok((sql.to_string(), String::new()));
    }
    Err(no_sql(text))
}

fn no_sql(text: &str) -> Error {
    let preview: String = text.chars().take(200).collect();
    Error::Provider {
        provider: "model".into(),
        status: None,
        message: format!("the model's reply contains no SQL: {preview:?}"),
        request_id: None,
        retryable: false,
        retry_after: None,
    }
}

/// The body of the first fenced block whose info string is `lang` (any block when empty).
fn fenced<'a>(text: &'a str, lang: &str) -> Option<&'a str> {
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let line_end = after.find('\n')?;
        let info = after[..line_end].trim();
        let body = &after[line_end + 1..];
        let end = body.find("```")?;
        if lang.is_empty() || info.eq_ignore_ascii_case(lang) {
            return Some(body[..end].trim());
        }
        rest = &body[end + 3..];
    }
    None
}

fn first_object(text: &str) -> Option<&str> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    (end > start).then(|| &text[start..=end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_fenced_and_bare_replies() {
        let cases = [
            (
                r#"{"sql": "SELECT 1", "explanation": "one"}"#,
                "SELECT 1",
                "one",
            ),
            (
                "```json\n{\"sql\": \"SELECT 2\", \"explanation\": \"two\"}\n```",
                "SELECT 2",
                "two",
            ),
            (
                "Here you go:\n```sql\nSELECT 3\n```\nThis counts.",
                "SELECT 3",
                "",
            ),
            ("SELECT 4 FROM t", "SELECT 4 FROM t", ""),
            (
                "Sure! {\"sql\": \"WITH x AS (SELECT 1) SELECT * FROM x\"}",
                "WITH x AS (SELECT 1) SELECT * FROM x",
                "",
            ),
        ];
        for (text, sql, explanation) in cases {
            let (s, e) = parse_completion(text).expect(text);
            assert_eq!((s.as_str(), e.as_str()), (sql, explanation), "{text}");
        }
    }

    #[test]
    fn refuses_replies_without_sql() {
        for text in ["I cannot help with that.", r#"{"explanation": "no"}"#, ""] {
            let e = parse_completion(text).expect_err(text);
            assert!(e.to_string().contains("no SQL"), "{e}");
        }
    }
}
