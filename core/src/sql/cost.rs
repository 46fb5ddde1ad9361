//! Functions whose arguments set how much they build: sizes, format widths and generated
//! series must be literal and small.
//!
//! - value-building functions (`lpad`, `rpad`, `repeat`, `space`, `randomblob`, `zeroblob`):
//!   the size argument must be a literal of at most [`MAX_BUILT_VALUE_LEN`];
//! - `printf`/`format`: the format must be a literal string whose widths and precisions are
//!   literal (no `*`) and at most [`MAX_BUILT_VALUE_LEN`] (SQLite's `%.Nc` repeats a character N
//!   times);
//! - `generate_series`: literal bounds and step (numbers, or dates with an interval step) giving
//!   at most [`MAX_SERIES_ROWS`] rows.
//!
//! A size the validator cannot read before the query runs (`lpad('x', 100000000 + 0)`, a column)
//! is refused: the database would build it first and be stopped only by the statement timeout.

use sqlparser::ast::{
    CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    ObjectName, UnaryOperator, Value,
};

use super::{
    RejectRule, Rejection,
    functions::{MAX_BUILT_VALUE_LEN, SIZE_ARGUMENT_FUNCTIONS},
};
use crate::dialect::Dialect;

/// The most rows a `generate_series` may produce.
pub const MAX_SERIES_ROWS: f64 = 1_000_000.0;

/// Checks the arguments of a call of `name` that set the size of what it builds.
pub(crate) fn check_call(
    dialect: Dialect,
    name: &ObjectName,
    args: &[FunctionArg],
) -> Result<(), Rejection> {
    let [sqlparser::ast::ObjectNamePart::Identifier(ident)] = name.0.as_slice() else {
        return Ok(());
    };
    let name = ident.value.to_ascii_lowercase();
    let args: Vec<Option<&Expr>> = args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect();
    if let Some(&(_, position)) = SIZE_ARGUMENT_FUNCTIONS.iter().find(|(n, _)| *n == name) {
        return check_size(&name, args.get(position).copied().flatten());
    }
    match (dialect, name.as_str()) {
        (Dialect::Sqlite, "printf" | "format") => {
            check_format(&name, args.first().copied().flatten(), Dialect::Sqlite)
        }
        (Dialect::Postgres, "format") => {
            check_format(&name, args.first().copied().flatten(), Dialect::Postgres)
        }
        (Dialect::Postgres, "generate_series") => check_series(&args),
        _ => Ok(()),
    }
}

/// [`check_call`] for a function call expression.
pub(crate) fn check_function(dialect: Dialect, f: &Function) -> Result<(), Rejection> {
    match &f.args {
        FunctionArguments::List(list) => check_call(dialect, &f.name, &list.args),
        _ => check_call(dialect, &f.name, &[]),
    }
}

fn check_size(name: &str, size: Option<&Expr>) -> Result<(), Rejection> {
    match size.and_then(literal_number) {
        Some(n) if n <= MAX_BUILT_VALUE_LEN as f64 => Ok(()),
        Some(n) => Err(Rejection::new(
            RejectRule::OversizedValue,
            format!(
                "`{name}` would build a value of {n} characters or bytes; the limit is {MAX_BUILT_VALUE_LEN}, \
                 use a smaller size"
            ),
        )),
        None => Err(Rejection::new(
            RejectRule::OversizedValue,
            format!(
                "the size given to `{name}` is not a literal number, so the value it builds cannot be bounded; \
                 write the size as a number of at most {MAX_BUILT_VALUE_LEN}"
            ),
        )),
    }
}

/// A format string of SQLite's `printf` (`%[flags][width][.precision]type`) or PostgreSQL's
/// `format` (`%[n$][flags][width]type`).
fn check_format(name: &str, format: Option<&Expr>, dialect: Dialect) -> Result<(), Rejection> {
    let Some(text) = format.and_then(literal_string) else {
        return Err(Rejection::new(
            RejectRule::OversizedValue,
            format!(
                "the format of `{name}` must be a literal string (its widths set how much it builds)"
            ),
        ));
    };
    let bad = |what: String| {
        Err(Rejection::new(
            RejectRule::OversizedValue,
            format!(
                "the format string of `{name}` {what}; widths and precisions must be literal numbers of at most {MAX_BUILT_VALUE_LEN}"
            ),
        ))
    };
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if i < b.len() && b[i] == b'%' {
            i += 1;
            continue;
        }
        // PostgreSQL's argument position `n$`.
        if dialect == Dialect::Postgres {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if !(i < b.len() && b[i] == b'$') {
                i = start;
            } else {
                i += 1;
            }
        }
        while i < b.len() && b"-+ 0#,!".contains(&b[i]) {
            i += 1;
        }
        for part in ["width", "precision"] {
            if part == "precision" {
                if i < b.len() && b[i] == b'.' && dialect == Dialect::Sqlite {
                    i += 1;
                } else {
                    break;
                }
            }
            if i < b.len() && b[i] == b'*' {
                return bad(format!("takes its {part} from an argument (`*`)"));
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &text[start..i];
            if !digits.is_empty()
                && digits
                    .parse::<u64>()
                    .map_or(true, |n| n > MAX_BUILT_VALUE_LEN as u64)
            {
                return bad(format!("asks for a {part} of {digits}"));
            }
        }
    }
    Ok(())
}

/// `generate_series(start, stop[, step])` with literal numbers, or literal dates/timestamps and
/// a literal interval step.
fn check_series(args: &[Option<&Expr>]) -> Result<(), Rejection> {
    let refuse = |why: String| {
        Err(Rejection::new(
            RejectRule::OversizedValue,
            format!(
                "`generate_series` {why}; write literal bounds and step that give at most {} rows",
                MAX_SERIES_ROWS as u64
            ),
        ))
    };
    let (Some(Some(start)), Some(Some(stop))) = (args.first(), args.get(1)) else {
        return refuse("needs a start and a stop".into());
    };
    let step = args.get(2).copied().flatten();
    let rows = match (literal_number(start), literal_number(stop)) {
        (Some(a), Some(b)) => {
            let step = match step {
                None => 1.0,
                Some(s) => match literal_number(s) {
                    Some(s) => s,
                    None => return refuse("has a step that is not a literal number".into()),
                },
            };
            if step == 0.0 {
                return refuse("has a step of 0".into());
            }
            ((b - a) / step).floor() + 1.0
        }
        _ => match (literal_instant(start), literal_instant(stop)) {
            (Some(a), Some(b)) => {
                let Some(step) = step.and_then(literal_interval_secs) else {
                    return refuse(
                        "over dates needs a literal interval step such as INTERVAL '1 day'".into(),
                    );
                };
                if step <= 0.0 {
                    return refuse("has a step that is not positive".into());
                }
                ((b - a) / step).floor() + 1.0
            }
            _ => return refuse("has bounds that are not literal numbers or dates".into()),
        },
    };
    if rows > MAX_SERIES_ROWS {
        return refuse(format!("would produce {rows} rows"));
    }
    Ok(())
}

fn literal_number(e: &Expr) -> Option<f64> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        Expr::Nested(x)
        | Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr: x,
        } => literal_number(x),
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr: x,
        } => literal_number(x).map(|n| -n),
        Expr::Cast { expr, .. } => literal_number(expr),
        _ => None,
    }
}

fn literal_string(e: &Expr) -> Option<&str> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Some(s),
            _ => None,
        },
        Expr::Nested(x) => literal_string(x),
        Expr::Cast {
            expr,
            kind: CastKind::Cast | CastKind::DoubleColon,
            ..
        } => literal_string(expr),
        _ => None,
    }
}

/// A literal date or timestamp (`'2024-01-01'`, `DATE '2024-01-01'`, `'...'::timestamp`), in
/// seconds.
fn literal_instant(e: &Expr) -> Option<f64> {
    let text = match e {
        Expr::TypedString(t) => match &t.value.value {
            Value::SingleQuotedString(s) => s.as_str(),
            _ => return None,
        },
        _ => literal_string(e)?,
    };
    let text = text.trim();
    let parsed = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Some(parsed.and_utc().timestamp() as f64)
}

/// A literal interval (`INTERVAL '1 day'`, `'2 hours'::interval`, `INTERVAL '1' MONTH`), in
/// seconds (months as 28 days, years as 365, so that the row count is never underestimated).
fn literal_interval_secs(e: &Expr) -> Option<f64> {
    let (text, unit) = match e {
        Expr::Interval(i) => (
            literal_string(&i.value)?.to_string(),
            i.leading_field.as_ref().map(|f| f.to_string()),
        ),
        Expr::Cast {
            data_type: DataType::Interval { .. },
            ..
        } => (literal_string(e)?.to_string(), None),
        _ => return None,
    };
    let mut words = text.split_whitespace();
    let amount: f64 = words.next()?.parse().ok()?;
    let unit = match unit {
        Some(u) => u,
        None => words.next()?.to_string(),
    };
    let unit = unit.to_ascii_lowercase();
    let seconds = match unit.trim_end_matches('s') {
        "second" | "sec" => 1.0,
        "minute" | "min" => 60.0,
        "hour" => 3600.0,
        "day" => 86_400.0,
        "week" => 7.0 * 86_400.0,
        "month" | "mon" => 28.0 * 86_400.0,
        "quarter" => 89.0 * 86_400.0,
        "year" => 365.0 * 86_400.0,
        _ => return None,
    };
    Some(amount * seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse::parse_single_query;

    /// The verdict on the first call of the select list or the first table function of FROM.
    fn verdict(d: Dialect, sql: &str) -> Result<(), Rejection> {
        let q = parse_single_query(d, sql).expect("parses");
        let sqlparser::ast::SetExpr::Select(s) = *q.body else {
            panic!("a select")
        };
        if let Some(sqlparser::ast::SelectItem::UnnamedExpr(Expr::Function(f))) =
            s.projection.first()
        {
            return check_function(d, f);
        }
        match &s.from.first().expect("a FROM").relation {
            sqlparser::ast::TableFactor::Table {
                name,
                args: Some(args),
                ..
            } => check_call(d, name, &args.args),
            other => panic!("no function in {other}"),
        }
    }

    #[test]
    fn sizes_must_be_small_literals() {
        assert!(verdict(Dialect::Postgres, "SELECT lpad('x', 10)").is_ok());
        for sql in [
            "SELECT lpad('x', 100000000 + 0)",
            "SELECT lpad('x', 20000)",
            "SELECT rpad('x', (SELECT 5))",
        ] {
            assert_eq!(
                verdict(Dialect::Postgres, sql).expect_err(sql).rule,
                RejectRule::OversizedValue
            );
        }
        assert!(verdict(Dialect::Sqlite, "SELECT zeroblob(length('abc'))").is_err());
    }

    #[test]
    fn format_widths_must_be_small_literals() {
        for ok in [
            "SELECT printf('%d items, %.2f%%', 3, 1.5)",
            "SELECT printf('%-10s|', 'a')",
        ] {
            assert!(verdict(Dialect::Sqlite, ok).is_ok(), "{ok}");
        }
        assert!(
            verdict(
                Dialect::Postgres,
                "SELECT format('%s and %1$s, %-5I', 'a', 'b')"
            )
            .is_ok()
        );
        for bad in [
            "SELECT printf('%.*c', 60000000, 'x')",
            "SELECT printf('%*d', 60000000, 1)",
            "SELECT printf('%.60000000c', 'x')",
            "SELECT format('%50000s', 'x')",
            "SELECT printf(lower('%d'), 1)",
        ] {
            assert!(verdict(Dialect::Sqlite, bad).is_err(), "{bad}");
        }
        for bad in [
            "SELECT format('%500000000s', 'x')",
            "SELECT format('%*s', 9, 'x')",
        ] {
            assert!(verdict(Dialect::Postgres, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn series_need_literal_small_bounds() {
        for ok in [
            "SELECT * FROM generate_series(1, 100)",
            "SELECT * FROM generate_series(10, 1, -1)",
            "SELECT * FROM generate_series(DATE '2024-01-01', DATE '2024-12-31', INTERVAL '1 day')",
            "SELECT * FROM generate_series('2024-01-01'::date, '2024-12-01'::date, '1 month'::interval)",
        ] {
            assert!(verdict(Dialect::Postgres, ok).is_ok(), "{ok}");
        }
        for bad in [
            "SELECT * FROM generate_series(1, 100000000000)",
            "SELECT * FROM generate_series(1, 10, 0)",
            "SELECT * FROM generate_series(1, 10 * 10)",
            "SELECT * FROM generate_series(DATE '2000-01-01', DATE '2024-01-01', INTERVAL '1 second')",
            "SELECT * FROM generate_series(DATE '2000-01-01', DATE '2024-01-01')",
        ] {
            assert!(verdict(Dialect::Postgres, bad).is_err(), "{bad}");
        }
    }
}
