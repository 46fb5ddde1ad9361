//! The statement generator: seeded, reproducible, grammar-based with random mutations.
//!
//! Statement `i` of a run with seed `s` depends only on `(s, i)` ([`Rng::for_statement`]), so a
//! failing statement is reproduced from the two numbers the report prints. The first indices of
//! every run are the audit's proofs ([`super::proofs`]) verbatim; the rest are drawn from four
//! origins:
//!
//! | origin | share | what |
//! | --- | --- | --- |
//! | grammar | 45% | well-formed queries over the fixture: CTEs (recursive too), set operations, joins with ON / USING / NATURAL, self-joins, derived tables with and without column lists and with unnamed expression columns, scalar, correlated, EXISTS and IN subqueries, table functions, whole-row references, schema-qualified names; identifiers and literals in every spelling of the dialect, comments between tokens |
//! | mutant | 30% | a grammar statement with one to three mutations: a comment form of another dialect, an opener/closer pair around a payload, a backslash before a quote, a doubled or dropped quote, a literal respelled |
//! | breakout | 15% | templates that put a payload between an opener and a closer that tokenizers disagree about |
//! | proof | 10% | an audit proof with the same mutations |
//!
//! The grammar itself is in [`super::grammar`] (queries, FROM items, scopes) and
//! [`super::expressions`]; literals, identifiers and comments in [`super::lexical`].
//!
//! Restricted columns and tables outside the allowed ones appear on purpose, at a low rate (a
//! higher one in the "hostile" half of the grammar statements): the validator must refuse them
//! wherever they stand, and the database reports it when it does not.

use conversational_bi::Dialect;

use super::{
    fixture::{self, TableDef},
    grammar,
    lexical::{self, Rng},
    proofs,
};

/// Where a statement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// An audit proof, verbatim or mutated.
    Proof,
    /// The grammar.
    Grammar,
    /// A mutated grammar statement.
    Mutant,
    /// A breakout template.
    Breakout,
}

impl Origin {
    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proof => "proof",
            Self::Grammar => "grammar",
            Self::Mutant => "mutant",
            Self::Breakout => "breakout",
        }
    }
}

/// One generated statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The SQL text given to the validator.
    pub sql: String,
    /// Where it comes from.
    pub origin: Origin,
}

/// Generates statements for one dialect over the fixture.
#[derive(Debug, Clone)]
pub struct Generator {
    pub(super) dialect: Dialect,
    pub(super) tables: Vec<TableDef>,
    proofs: Vec<String>,
    /// Whether to leave out the statement shapes of [`fixture::KNOWN_CRASHES`], so that a run
    /// against a shared server cannot take it down.
    pub(super) avoid_known_crashes: bool,
}

impl Generator {
    /// A generator for `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            tables: fixture::tables(dialect),
            proofs: proofs::proofs(dialect),
            avoid_known_crashes: true,
        }
    }

    /// A generator that also produces the shapes known to crash a server, for runs against a
    /// private server that may go down (`examples/differential.rs --hunt-crashes`).
    #[allow(dead_code)]
    pub fn hunting_crashes(dialect: Dialect) -> Self {
        Self {
            avoid_known_crashes: false,
            ..Self::new(dialect)
        }
    }

    /// Statement `index` of the run seeded with `seed`.
    pub fn statement(&self, seed: u64, index: u64) -> Statement {
        if let Some(p) = self.proofs.get(index as usize) {
            return Statement {
                sql: p.clone(),
                origin: Origin::Proof,
            };
        }
        let mut rng = Rng::for_statement(seed, index);
        let roll = rng.below(100);
        let (sql, origin) = match roll {
            0..=44 => (self.grammar(&mut rng).render(&mut rng), Origin::Grammar),
            45..=74 => {
                let toks = self.grammar(&mut rng);
                (self.mutate(&mut rng, toks), Origin::Mutant)
            }
            75..=89 => (proofs::breakout(&mut rng, self.dialect), Origin::Breakout),
            _ => {
                let p = rng.pick(&self.proofs).clone();
                let toks = Toks {
                    dialect: self.dialect,
                    items: p.split(' ').map(str::to_string).collect(),
                    odd: 0.0,
                };
                (self.mutate(&mut rng, toks), Origin::Proof)
            }
        };
        Statement { sql, origin }
    }

    fn grammar(&self, rng: &mut Rng) -> Toks {
        grammar::statement(self, rng)
    }

    /// One to three mutations of `toks`, rendered.
    fn mutate(&self, rng: &mut Rng, mut toks: Toks) -> String {
        let d = self.dialect;
        for _ in 0..1 + rng.below(3) {
            let n = toks.items.len();
            let at = rng.below(n + 1);
            match rng.below(7) {
                0 => toks.items.insert(at, lexical::odd_separator(rng)),
                1 => {
                    let (open, close) = lexical::breakout_pair(rng, d);
                    let payload = proofs::payload_item(rng, d);
                    let end = at + rng.below(n - at + 1);
                    toks.items.insert(end, close);
                    toks.items.insert(at, format!("{open} , {payload}"));
                }
                2 => {
                    if let Some(i) = (0..n).map(|k| (k + at) % n.max(1)).find(|&k| {
                        toks.items
                            .get(k)
                            .is_some_and(|t| t.starts_with(['\'', '"', '`', '[', '$', 'E', 'U']))
                    }) {
                        let c = lexical::content(rng, d);
                        toks.items[i] = match rng.below(3) {
                            0 => format!("'{c}'"),
                            1 => format!("\"{c}\""),
                            _ => lexical::literal(rng, d, &c),
                        };
                    }
                }
                3 => {
                    let s = toks.items.join(" ");
                    toks.items = vec![quote_surgery(rng, &s)];
                }
                4 if n > 1 => {
                    toks.items.remove(at.min(n - 1));
                }
                5 => {
                    let item = proofs::payload_item(rng, d);
                    toks.items.insert(at, format!(", {item}"));
                }
                _ => {
                    let sep = lexical::separator(rng, d);
                    toks.items.insert(at, sep);
                }
            }
        }
        toks.render(rng)
    }
}

/// Edits one quote character of `s`: a backslash before it, doubled, or dropped.
fn quote_surgery(rng: &mut Rng, s: &str) -> String {
    let spots: Vec<usize> = s
        .char_indices()
        .filter(|(_, c)| matches!(c, '\'' | '"' | '`' | ']' | '$' | '\\'))
        .map(|(i, _)| i)
        .collect();
    if spots.is_empty() {
        return s.to_string();
    }
    let i = *rng.pick(&spots);
    let c = s[i..].chars().next().unwrap_or('\'');
    let (a, b) = s.split_at(i);
    match rng.below(4) {
        0 => format!("{a}\\{b}"),
        1 => format!("{a}{c}{b}"),
        2 => format!("{a}{}", &b[c.len_utf8()..]),
        _ => format!("{a}\\\\{b}"),
    }
}

/// Tokens of a statement, joined by spaces or, at a rate of `odd`, by comments and other
/// separators of the dialect.
#[derive(Debug, Clone)]
pub struct Toks {
    pub(super) dialect: Dialect,
    pub(super) items: Vec<String>,
    pub(super) odd: f64,
}

impl Toks {
    fn render(&self, rng: &mut Rng) -> String {
        let mut s = String::new();
        for (i, t) in self.items.iter().enumerate() {
            if i > 0 {
                if self.odd > 0.0 && rng.chance(self.odd) {
                    s.push_str(&lexical::separator(rng, self.dialect));
                } else {
                    s.push(' ');
                }
            }
            s.push_str(t);
        }
        if self.odd > 0.0 && rng.chance(0.2) {
            s.push_str(&lexical::separator(rng, self.dialect));
        }
        s
    }
}
