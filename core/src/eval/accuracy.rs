//! Execution accuracy: whether the rows of a predicted query answer a gold query
//! ([`rows_match`]).

use crate::exec::Value;

/// A value as it is compared: numbers brought to one form, every kind kept apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    /// A cell a ragged row does not have.
    Missing,
    Null,
    Number(String),
    Text(String),
    Bytes(String),
}

/// A finite number rounded to four decimals (negative zero is zero); NaN and infinities as
/// Rust prints them.
fn number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let s = format!("{f:.4}");
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => s,
    }
}

/// Integers beyond 2^53 keep every digit (an `f64` would round them).
fn integer(i: i64) -> String {
    const EXACT: u64 = 1 << 53;
    if i.unsigned_abs() <= EXACT {
        number(i as f64)
    } else {
        format!("{i}.0000")
    }
}

fn key(v: &Value) -> Key {
    match v {
        Value::Null => Key::Null,
        Value::Bool(b) => Key::Number(number(f64::from(u8::from(*b)))),
        Value::Int(i) => Key::Number(integer(*i)),
        Value::Float(f) => Key::Number(number(*f)),
        Value::Decimal(d) => Key::Number(d.parse::<f64>().map_or_else(|_| d.clone(), number)),
        Value::Text(s) => Key::Text(s.clone()),
        Value::Bytes(s) => Key::Bytes(s.clone()),
    }
}

fn keys(rows: &[Vec<Value>], width: usize) -> Vec<Vec<Key>> {
    rows.iter()
        .map(|r| {
            (0..width)
                .map(|i| r.get(i).map_or(Key::Missing, key))
                .collect()
        })
        .collect()
}

fn column(rows: &[Vec<Key>], i: usize) -> Vec<&Key> {
    let mut values: Vec<&Key> = rows.iter().map(|r| &r[i]).collect();
    values.sort();
    values
}

/// Whether the `predicted` rows answer the `gold` rows; `ordered` when the gold query orders
/// its result (usually [`has_top_level_order_by`] of the gold SQL).
///
/// The one definition of execution accuracy, used by `heliosdb-conversational-bi eval` and by
/// the rule generator's tests, so that a test verdict and a CLI score cannot disagree. It
/// follows the field's execution accuracy (Spider, BIRD), with the allowance a business answer
/// needs:
///
/// - **Rows** are compared as multisets, in order only when `ordered`; the same number of rows
///   is always required (duplicates count).
/// - **Columns**: every gold column must be matched by a distinct predicted column, in any
///   position, one assignment for all rows; extra predicted columns are allowed (an answer that
///   also shows the count it ranked by is still the right answer). When several predicted
///   columns could stand for a gold column, every assignment is tried.
/// - **Values**: numbers compare by value across types, rounded to four decimals (`1`, `1.0`
///   and the decimal `1.00` are equal; so are `0.33333` and `0.3333`); a boolean is the number
///   1 or 0 (MariaDB and SQLite have no boolean type); NULL equals only NULL; text and binary
///   values compare exactly and never equal a number or NULL (the text `'1'` is not the
///   number 1, the text `'null'` is not NULL).
/// - Two empty results match (there is nothing to compare columns on).
///
/// ```
/// use conversational_bi::{eval, exec::Value};
///
/// let gold = vec![vec![Value::Text("Rock".into())], vec![Value::Text("Jazz".into())]];
/// let predicted = vec![
///     vec![Value::Text("Jazz".into()), Value::Int(130)],
///     vec![Value::Text("Rock".into()), Value::Int(1297)],
/// ];
/// assert!(eval::rows_match(&predicted, &gold, false));
/// assert!(!eval::rows_match(&predicted, &gold, true));
/// ```
pub fn rows_match(predicted: &[Vec<Value>], gold: &[Vec<Value>], ordered: bool) -> bool {
    if predicted.len() != gold.len() {
        return false;
    }
    let (Some(gold_first), Some(predicted_first)) = (gold.first(), predicted.first()) else {
        return true;
    };
    let gold = keys(gold, gold_first.len());
    let predicted = keys(predicted, predicted_first.len());
    let predicted_columns: Vec<Vec<&Key>> = (0..predicted_first.len())
        .map(|i| column(&predicted, i))
        .collect();
    // The predicted columns holding the same multiset of values as each gold column.
    let candidates: Vec<Vec<usize>> = (0..gold_first.len())
        .map(|gi| {
            let values = column(&gold, gi);
            (0..predicted_columns.len())
                .filter(|&pi| predicted_columns[pi] == values)
                .collect()
        })
        .collect();
    if candidates.iter().any(Vec::is_empty) {
        return false;
    }
    let search = Search {
        gold: &gold,
        predicted: &predicted,
        candidates: &candidates,
        ordered,
    };
    search.assign(&mut Vec::with_capacity(candidates.len()))
}

/// The search for a column assignment under which the rows agree.
struct Search<'a> {
    gold: &'a [Vec<Key>],
    predicted: &'a [Vec<Key>],
    candidates: &'a [Vec<usize>],
    ordered: bool,
}

impl Search<'_> {
    /// Extends `chosen` (predicted columns for the first gold columns) to every gold column,
    /// checking the rows on the columns chosen so far at each step.
    fn assign(&self, chosen: &mut Vec<usize>) -> bool {
        let Some(options) = self.candidates.get(chosen.len()) else {
            return true;
        };
        for &pi in options {
            if chosen.contains(&pi) {
                continue;
            }
            chosen.push(pi);
            if self.rows_agree(chosen) && self.assign(chosen) {
                return true;
            }
            chosen.pop();
        }
        false
    }

    /// Whether the rows agree on the first `chosen.len()` gold columns.
    fn rows_agree(&self, chosen: &[usize]) -> bool {
        let mut gold: Vec<&[Key]> = self.gold.iter().map(|r| &r[..chosen.len()]).collect();
        let mut predicted: Vec<Vec<&Key>> = self
            .predicted
            .iter()
            .map(|r| chosen.iter().map(|&i| &r[i]).collect())
            .collect();
        if !self.ordered {
            gold.sort();
            predicted.sort();
        }
        gold.iter()
            .zip(&predicted)
            .all(|(g, p)| g.iter().eq(p.iter().copied()))
    }
}

/// Whether `sql` orders its result: an `ORDER BY` outside parentheses, quoted text and
/// comments (an ORDER BY inside a subquery, a CTE or a window does not order the result).
pub fn has_top_level_order_by(sql: &str) -> bool {
    let mut depth = 0usize;
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            if depth == 0 {
                word.push(c.to_ascii_uppercase());
            }
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '\'' | '"' | '`' => {
                // Quoted text and identifiers, a doubled quote escaping itself.
                while let Some(q) = chars.next() {
                    if q == c && chars.next_if_eq(&c).is_none() {
                        break;
                    }
                }
                words.push(String::new());
            }
            '-' if chars.next_if_eq(&'-').is_some() => {
                chars.by_ref().take_while(|&n| n != '\n').for_each(drop);
            }
            '/' if chars.next_if_eq(&'*').is_some() => {
                let mut last = ' ';
                for n in chars.by_ref() {
                    if last == '*' && n == '/' {
                        break;
                    }
                    last = n;
                }
            }
            _ => {}
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words.windows(2).any(|w| w[0] == "ORDER" && w[1] == "BY")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn order_by_counts_only_at_top_level() {
        assert!(has_top_level_order_by("SELECT a FROM t ORDER BY a"));
        assert!(has_top_level_order_by(
            "select a from t\norder\n  by a desc"
        ));
        assert!(has_top_level_order_by(
            "WITH x AS (SELECT a FROM t ORDER BY a) SELECT a FROM x ORDER BY 1"
        ));
        assert!(!has_top_level_order_by(
            "SELECT a FROM (SELECT a FROM t ORDER BY a)"
        ));
        assert!(!has_top_level_order_by(
            "SELECT rank() OVER (ORDER BY a) FROM t"
        ));
        assert!(!has_top_level_order_by(
            "SELECT a FROM t WHERE b = 'ORDER BY a' -- ORDER BY b\n/* ORDER BY c */"
        ));
        assert!(!has_top_level_order_by("SELECT \"order\" \"by\" FROM t"));
        assert!(!has_top_level_order_by("SELECT a FROM t LIMIT 3"));
        // A word merely containing ORDER does not count (the tests' copy matched substrings).
        assert!(!has_top_level_order_by("SELECT reorder BY FROM t"));
    }

    #[test]
    fn extra_predicted_columns_are_allowed() {
        let g = vec![vec![text("a")], vec![text("b")]];
        let p = vec![vec![text("b"), int(2)], vec![text("a"), int(1)]];
        assert!(rows_match(&p, &g, false));
        assert!(!rows_match(&p, &g, true));
        assert!(!rows_match(&p[..1], &g, false));
        // A gold column the prediction lacks.
        assert!(!rows_match(&g, &p, false));
    }

    #[test]
    fn numbers_compare_by_value_across_types() {
        let g = vec![vec![int(1), Value::Decimal("2.50".into())]];
        let p = vec![vec![Value::Float(1.0), Value::Float(2.5)]];
        assert!(rows_match(&p, &g, false));
        let p = vec![vec![
            Value::Decimal("1.00000".into()),
            Value::Decimal("2.5".into()),
        ]];
        assert!(rows_match(&p, &g, false));
        // Rounded to four decimals.
        assert!(rows_match(
            &[vec![Value::Float(1.0 / 3.0)]],
            &[vec![Value::Decimal("0.3333".into())]],
            false
        ));
        assert!(!rows_match(
            &[vec![Value::Float(0.334)]],
            &[vec![Value::Decimal("0.3333".into())]],
            false
        ));
        // Negative zero is zero; booleans are 1 and 0.
        assert!(rows_match(
            &[vec![Value::Float(-0.0)]],
            &[vec![int(0)]],
            false
        ));
        assert!(rows_match(
            &[vec![Value::Bool(true)], vec![Value::Bool(false)]],
            &[vec![int(0)], vec![int(1)]],
            false
        ));
        // Large integers keep every digit.
        assert!(!rows_match(
            &[vec![int(9_007_199_254_740_993)]],
            &[vec![int(9_007_199_254_740_992)]],
            false
        ));
    }

    #[test]
    fn kinds_stay_apart() {
        // The CLI's copy keyed NULL as "null", text as itself and numbers as "1.0000": these
        // pairs were equal there.
        assert!(!rows_match(
            &[vec![text("null")]],
            &[vec![Value::Null]],
            false
        ));
        assert!(!rows_match(&[vec![text("1.0000")]], &[vec![int(1)]], false));
        assert!(!rows_match(&[vec![text("1")]], &[vec![int(1)]], false));
        assert!(!rows_match(
            &[vec![text("true")]],
            &[vec![Value::Bool(true)]],
            false
        ));
        assert!(!rows_match(
            &[vec![Value::Bytes("ab".into())]],
            &[vec![text("ab")]],
            false
        ));
        assert!(rows_match(
            &[vec![Value::Null], vec![int(1)]],
            &[vec![int(1)], vec![Value::Null]],
            false
        ));
    }

    #[test]
    fn cells_are_compared_whole() {
        // The tests' copy joined a row's cells with '|': these rows were equal there.
        let g = vec![vec![text("a|b"), text("c")]];
        let p = vec![vec![text("a"), text("b|c")]];
        assert!(!rows_match(&p, &g, false));
    }

    #[test]
    fn every_column_assignment_is_tried() {
        // Both predicted columns hold {1, 2}; only the second lines up with the gold rows.
        // Both copies took the first column with the right values and failed.
        let g = vec![vec![int(1), text("x")], vec![int(2), text("y")]];
        let p = vec![
            vec![int(2), int(1), text("x")],
            vec![int(1), int(2), text("y")],
        ];
        assert!(rows_match(&p, &g, false));
        assert!(rows_match(&p, &g, true));
        // No assignment fits.
        let p = vec![vec![int(2), text("x")], vec![int(1), text("y")]];
        assert!(!rows_match(&p, &g, false));
    }

    #[test]
    fn order_uses_one_column_assignment_for_every_row() {
        // The rows are a reordering of the gold rows. Row by row, each gold row is in its
        // predicted row, the first two with the columns swapped and the third without: the
        // tests' copy matched each row on an assignment of its own and accepted this order.
        let g = vec![
            vec![int(1), int(2)],
            vec![int(2), int(1)],
            vec![int(1), int(2)],
        ];
        let p = vec![
            vec![int(2), int(1)],
            vec![int(1), int(2)],
            vec![int(1), int(2)],
        ];
        assert!(rows_match(&p, &g, false));
        assert!(!rows_match(&p, &g, true));
        // Swapped consistently in every row, the order holds.
        let p = vec![
            vec![int(2), int(1)],
            vec![int(1), int(2)],
            vec![int(2), int(1)],
        ];
        assert!(rows_match(&p, &g, true));
    }

    #[test]
    fn empty_results_match_and_counts_must_agree() {
        assert!(rows_match(&[], &[], true));
        assert!(!rows_match(&[vec![int(1)]], &[], false));
        assert!(!rows_match(
            &[vec![int(1)], vec![int(1)]],
            &[vec![int(1)]],
            false
        ));
        // Duplicates count.
        assert!(!rows_match(
            &[vec![int(1)], vec![int(1)]],
            &[vec![int(1)], vec![int(2)]],
            false
        ));
    }
}
