//! The common case in one parse: the row cap is written into the canonical text by reading its
//! tokens, and the text the database will receive is itself parsed and checked, so that the
//! tree the validator judges is the statement sent, by construction. That text must render back
//! to itself, and its tokens must be the input's canonical tokens but for the cap, so that the
//! rendering changed nothing the user wrote (the general path checks the same on trees).
//!
//! Anything this path cannot place or line up returns `None`, and the general path of
//! [`super::Validator`] (parse, check, splice, round trip) decides instead: a row limit other
//! than a final `LIMIT n` (`OFFSET`, `FETCH`, `LIMIT ALL`, MySQL's `LIMIT a, b`, a negative
//! SQLite limit), comments (MySQL reads optimizer hints from them), SQLite double-quoted names
//! that may be strings, a text that does not render back to itself, a statement that is refused
//! (so that the general path words the refusal).

use sqlparser::{
    keywords::Keyword,
    tokenizer::{Location, Token, TokenWithSpan, Whitespace},
};

use super::{LimitAction, ValidatedSql, lex, limit, parse, render, resolve};
use crate::dialect::Dialect;

/// Where the cap goes, read from the tokens: the action and, when the limit is written, the
/// splice that writes `n` rows.
struct TokenCap {
    action: LimitAction,
    /// The index of the count token to replace; `None` appends a `LIMIT` clause.
    count: Option<usize>,
    /// The count the statement's own `LIMIT` keeps.
    kept: Option<u64>,
}

impl TokenCap {
    fn splice(&self, end: usize, n: u64) -> Option<render::Splice> {
        match (self.action, self.count) {
            (LimitAction::Kept, _) => None,
            (_, Some(at)) => Some(render::Splice {
                range: at..at + 1,
                text: n.to_string(),
            }),
            (_, None) => Some(render::Splice {
                range: end..end,
                text: format!("LIMIT {n}"),
            }),
        }
    }
}

/// The cap of a statement whose only top-level row limit, if any, is a final `LIMIT n`.
fn token_cap(tokens: &[TokenWithSpan], end: usize, max: u64) -> Option<TokenCap> {
    let mut depth = 0i32;
    let mut limit_at = None;
    for (i, t) in tokens[..end].iter().enumerate() {
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::Word(w) if depth == 0 && w.quote_style.is_none() => match w.keyword {
                Keyword::LIMIT if limit_at.is_none() => limit_at = Some(i),
                Keyword::LIMIT | Keyword::OFFSET | Keyword::FETCH | Keyword::TOP => return None,
                _ => {}
            },
            _ => {}
        }
    }
    let Some(at) = limit_at else {
        return Some(TokenCap {
            action: LimitAction::Added,
            count: None,
            kept: None,
        });
    };
    let mut rest = (at + 1..end).filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)));
    let count = rest.next()?;
    if rest.next().is_some() {
        return None;
    }
    let Token::Number(n, _) = &tokens[count].token else {
        return None;
    };
    let n: u64 = n.parse().ok()?;
    Some(if n > max {
        TokenCap {
            action: LimitAction::Clamped,
            count: Some(count),
            kept: None,
        }
    } else {
        TokenCap {
            action: LimitAction::Kept,
            count: None,
            kept: Some(n),
        }
    })
}

/// The indexes of the written tokens (neither whitespace nor end of input) before `end`.
fn written(tokens: &[TokenWithSpan], end: usize) -> Vec<usize> {
    (0..end.min(tokens.len()))
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_) | Token::EOF))
        .collect()
}

/// Whether `sent` (the tokens of the rendered text) are `tokens` again, but for the row cap
/// the splice wrote; and the SQLite double-quote marks (indexes into `tokens`) moved onto the
/// same tokens of `sent`. `None` when the two do not line up.
fn line_up(
    tokens: &[TokenWithSpan],
    end: usize,
    sent: &[TokenWithSpan],
    sent_end: usize,
    cap: &TokenCap,
    marks: &[Location],
) -> Option<Vec<Location>> {
    let (a, b) = (written(tokens, end), written(sent, sent_end));
    let appended = if cap.action == LimitAction::Added {
        2
    } else {
        0
    };
    if b.len() != a.len() + appended {
        return None;
    }
    let same = a
        .iter()
        .zip(&b)
        .all(|(&i, &j)| Some(i) == cap.count || tokens[i].token == sent[j].token);
    if !same {
        return None;
    }
    marks
        .iter()
        .map(|m| {
            let ordinal = a.binary_search(&lex::indexed(*m)?).ok()?;
            Some(Location::new(0, b[ordinal] as u64 + 1))
        })
        .collect()
}

/// Validates `tokens` (canonical, indexed, written out as `layout`) by parsing the text that
/// will be sent; `None` sends the statement to the general path.
pub(crate) fn check<'a>(
    dialect: Dialect,
    policy: &resolve::Policy<'a>,
    max_rows: usize,
    tokens: &[TokenWithSpan],
    layout: &render::Layout,
    double_quoted: &[Location],
) -> Option<(ValidatedSql, super::Plan<'a>)> {
    // Comments are not sent, but the parser reads MySQL's optimizer hints from them, which
    // the general path refuses.
    if tokens.iter().any(|t| {
        matches!(
            t.token,
            Token::Whitespace(
                Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)
            )
        )
    }) {
        return None;
    }
    let max = max_rows as u64;
    let cap = token_cap(tokens, layout.end, max)?;
    let (shown, executed) = match (cap.splice(layout.end, max), cap.splice(layout.end, max + 1)) {
        (Some(shown), Some(executed)) => (layout.spliced(&shown), layout.spliced(&executed)),
        _ => (layout.text.clone(), layout.text.clone()),
    };
    let mut sent = lex::tokenize(dialect, &executed).ok()?;
    lex::index_spans(&mut sent);
    let sent_layout = render::Layout::new(dialect, &sent);
    if sent_layout.text != executed {
        return None;
    }
    let marks = line_up(
        tokens,
        layout.end,
        &sent,
        sent_layout.end,
        &cap,
        double_quoted,
    )?;
    let query = parse::parse_tokens(dialect, sent).ok()?;
    let reads = resolve::check_query(policy, &query, &marks).ok()?;
    if !reads.implicit_strings.is_empty() {
        return None;
    }
    // The tree must carry the cap the tokens were read for.
    let planned = limit::plan(&query, &sent_layout, max_rows).ok()?;
    let expected = match cap.action {
        LimitAction::Kept => (LimitAction::Kept, cap.kept?),
        _ => (LimitAction::Clamped, max + 1),
    };
    if planned.action != expected.0 || limit::literal_count(&query)? != expected.1 {
        return None;
    }
    let validated = ValidatedSql {
        sql: shown,
        exec_sql: executed,
        limit_action: cap.action,
        tables: reads.tables,
        columns: reads.columns,
        named_columns: reads.named,
    };
    // The tree was parsed from the text that is sent: a policy rewrite splices that text.
    let plan = super::Plan {
        query,
        layout: sent_layout,
        cap: None,
        refs: reads.refs,
        outer_tables: reads.outer_tables,
    };
    Some((validated, plan))
}
