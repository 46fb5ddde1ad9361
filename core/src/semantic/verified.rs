//! Verified queries: a question with SQL someone has checked, with typed parameters
//! (`revenue in {country}` → `WHERE BillingCountry = :country`).

use sqlparser::tokenizer::Token;

use super::{
    check::{find_table, placeholder_literal, reason},
    model::{ParameterType, VerifiedQuery},
};
use crate::{catalog::Catalog, dialect::Dialect, sql::Validator};

/// The `{name}`s of a question, in order.
pub fn question_parameters(question: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = question;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            break;
        };
        out.push(after[..close].trim());
        rest = &after[close + 1..];
    }
    out
}

/// The `:name`s of a statement, in order (not `::` casts, not inside literals).
pub fn sql_parameters(dialect: Dialect, sql: &str) -> Option<Vec<String>> {
    let tokens = crate::sql::tokens_of(dialect, sql)?;
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if let (Token::Colon, Some(Token::Word(w))) = (t, tokens.get(i + 1))
            && w.quote_style.is_none()
            && !matches!(i.checked_sub(1).map(|p| &tokens[p]), Some(Token::Colon))
        {
            out.push(w.value.clone());
        }
    }
    Some(out)
}

/// `sql` with each `:name` replaced by the SQL literal `literal(name)` gives; `None` when it
/// does not tokenize or a name has no literal. The result must still pass the validator: it is
/// text put together from tokens.
pub fn bind(
    dialect: Dialect,
    sql: &str,
    literal: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let tokens = crate::sql::tokens_of(dialect, sql)?;
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    while i < tokens.len() {
        if let (Token::Colon, Some(Token::Word(w))) = (&tokens[i], tokens.get(i + 1)) {
            let after_colon = i > 0 && matches!(tokens[i - 1], Token::Colon);
            if w.quote_style.is_none() && !after_colon {
                out.push_str(&literal(&w.value)?);
                i += 2;
                continue;
            }
        }
        out.push_str(&tokens[i].to_string());
        i += 1;
    }
    Some(out)
}

/// `v`'s SQL with each declared parameter replaced by a literal of its type, to check it;
/// `None` when it does not tokenize or names an undeclared parameter.
pub(crate) fn with_placeholders(dialect: Dialect, v: &VerifiedQuery) -> Option<String> {
    bind(dialect, &v.sql, |n| {
        v.parameters
            .iter()
            .find(|p| p.name == n)
            .map(|p| placeholder_literal(p.kind).to_string())
    })
}

/// Checks one verified query against the catalog and the validator. The error is a key suffix
/// (`.sql`, `.parameters[0].column`) and a message.
pub(crate) fn check_one(
    v: &VerifiedQuery,
    catalog: &Catalog,
    validator: &Validator,
) -> Result<(), (String, String)> {
    if v.question.trim().is_empty() {
        return Err((
            ".question".into(),
            "a verified query needs its question".into(),
        ));
    }
    if v.sql.trim().is_empty() {
        return Err((".sql".into(), "a verified query needs its SQL".into()));
    }
    let dialect = catalog.dialect;
    for (i, p) in v.parameters.iter().enumerate() {
        if p.name.is_empty()
            || !p
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err((
                format!(".parameters[{i}].name"),
                format!(
                    "{:?} is not a parameter name: use letters, digits and _",
                    p.name
                ),
            ));
        }
        if let Some(column) = &p.column {
            let Some((table, col)) = column.rsplit_once('.') else {
                return Err((
                    format!(".parameters[{i}].column"),
                    format!("write the column as Table.Column, not {column:?}"),
                ));
            };
            let Some(t) = find_table(catalog, table) else {
                return Err((
                    format!(".parameters[{i}].column"),
                    format!("no table {table:?} in the database"),
                ));
            };
            if t.find_column(dialect, col, false).is_none() {
                return Err((
                    format!(".parameters[{i}].column"),
                    format!("no column {col:?} in {}", t.name),
                ));
            }
        } else if p.kind == ParameterType::Text {
            return Err((
                format!(".parameters[{i}].column"),
                format!(
                    "the text parameter {:?} needs the `column` whose values it takes",
                    p.name
                ),
            ));
        }
    }
    let declared = |n: &str| v.parameters.iter().any(|p| p.name == n);
    for question in std::iter::once(&v.question).chain(&v.paraphrases) {
        for name in question_parameters(question) {
            if !declared(name) {
                return Err((
                    ".parameters".into(),
                    format!(
                        "the question {question:?} names {{{name}}}, which is not among `parameters`"
                    ),
                ));
            }
        }
    }
    let Some(names) = sql_parameters(dialect, &v.sql) else {
        return Err((".sql".into(), "the SQL does not read as SQL".into()));
    };
    for name in &names {
        if !declared(name) {
            return Err((
                ".sql".into(),
                format!("the SQL names :{name}, which is not among `parameters`"),
            ));
        }
    }
    for (i, p) in v.parameters.iter().enumerate() {
        if !question_parameters(&v.question).contains(&p.name.as_str()) {
            return Err((
                format!(".parameters[{i}]"),
                format!("the question does not name {{{}}}", p.name),
            ));
        }
        if !names.contains(&p.name) {
            return Err((
                format!(".parameters[{i}]"),
                format!("the SQL does not use :{}", p.name),
            ));
        }
    }
    let bound = with_placeholders(dialect, v).ok_or_else(|| {
        (
            ".sql".to_string(),
            "the SQL does not read as SQL".to_string(),
        )
    })?;
    validator.validate(&bound).map_err(|e| {
        (
            ".sql".to_string(),
            format!("the SQL is refused: {}", reason(&e)),
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_from_question_and_sql() {
        assert_eq!(
            question_parameters("revenue in {country} in { year }"),
            ["country", "year"]
        );
        let sql = "SELECT x::int FROM t WHERE a = :country AND b = ':no' AND c = :year";
        assert_eq!(
            sql_parameters(Dialect::Postgres, sql).expect("tokens"),
            ["country", "year"]
        );
        let bound = bind(Dialect::Postgres, sql, |n| Some(format!("'{n}!'"))).expect("bound");
        assert_eq!(
            bound,
            "SELECT x::int FROM t WHERE a = 'country!' AND b = ':no' AND c = 'year!'"
        );
    }
}
