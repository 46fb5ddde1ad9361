//! What a statement reads, as the validator and as a database report it, and the comparison.
//!
//! Names are compared in one normal form: a table is `namespace.name` (`main.customers` on
//! SQLite, `public.customers` on PostgreSQL, `cbi_diff.customers` on MariaDB), a column is
//! (table, column); SQLite and MariaDB names are lowercased (they compare column names without
//! regard to case), PostgreSQL names are exact.
//!
//! **The rule**: every table and column the database reports reading on the statement the
//! validator accepted (`ValidatedSql::exec_sql`) must be among those the validator reports
//! (`ValidatedSql::tables`, `ValidatedSql::columns`); the validator may list more. A read of a
//! restricted column, of a table outside the allowed ones, or a call of a function off the
//! allow-list is a policy breach; a read of an allowed column the validator did not list breaks
//! its contract. Both are security findings. The same database run on the original input must
//! report the same reads as on `exec_sql`; a difference is a fidelity finding.

use std::collections::{BTreeMap, BTreeSet};

use conversational_bi::{Dialect, sql::ValidatedSql};

use super::fixture;

/// What one statement reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// Tables, as `namespace.name`.
    pub tables: BTreeSet<String>,
    /// Columns, as (table, column).
    pub columns: BTreeSet<(String, String)>,
    /// Functions called (SQLite only), lowercased.
    pub functions: BTreeSet<String>,
    /// Columns read of which the oracle knows only that it is one of a group (MariaDB's note
    /// names a column by an alias two tables of the statement share in different scopes).
    /// A group is explained when the validator lists any one of its columns.
    pub one_of: BTreeSet<BTreeSet<(String, String)>>,
}

impl Reads {
    /// The columns to compare with `validated`: the known ones, and every column of a group
    /// the validator explains by none of its members.
    fn columns_against(&self, validated: &Reads) -> BTreeSet<(String, String)> {
        let mut out = self.columns.clone();
        for group in &self.one_of {
            if group.is_disjoint(&validated.columns) {
                out.extend(group.iter().cloned());
            }
        }
        out
    }
}

/// What a database says about one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The database compiled the statement; these are its reads.
    Compiled {
        /// The reads.
        reads: Reads,
        /// More than one statement in the text (SQLite reports the unread tail).
        several: bool,
        /// The refusal of the role whose grants equal the policy (PostgreSQL, MariaDB), if any.
        grants_refused: Option<String>,
        /// The oracle could not read all of the reads (a MariaDB note it cannot lex): the reads
        /// are not compared, the grants still are.
        partial: bool,
    },
    /// The database refused to compile it (syntax, types, names, privileges of the full role).
    Refused(String),
    /// The connection broke while the database handled the statement (the server crashed or
    /// went away).
    Lost(String),
}

/// The normal form of names on one dialect.
#[derive(Debug, Clone, Copy)]
pub struct Names(pub Dialect);

impl Names {
    /// A table key.
    pub fn table(self, namespace: Option<&str>, name: &str) -> String {
        let ns = namespace.unwrap_or(fixture::own_namespace(self.0));
        match self.0 {
            Dialect::Postgres => format!("{ns}.{name}"),
            _ => format!("{}.{}", ns.to_lowercase(), name.to_lowercase()),
        }
    }

    /// A column name.
    pub fn column(self, name: &str) -> String {
        match self.0 {
            Dialect::Postgres => name.to_string(),
            _ => name.to_lowercase(),
        }
    }

    /// The validator's reads in normal form.
    pub fn validated(self, v: &ValidatedSql) -> Reads {
        let key = |q: &str| match (self.0, q.split_once('.')) {
            (Dialect::Postgres, Some((ns, t))) => self.table(Some(ns), t),
            _ => self.table(None, q),
        };
        Reads {
            tables: v.tables.iter().map(|t| key(t)).collect(),
            columns: v
                .columns
                .iter()
                .map(|(t, c)| (key(t), self.column(c)))
                .collect(),
            functions: BTreeSet::new(),
            one_of: BTreeSet::new(),
        }
    }
}

/// The fixture's policy in normal form.
#[derive(Debug, Clone)]
pub struct Policy {
    names: Names,
    allowed: BTreeSet<String>,
    denied: BTreeSet<(String, String)>,
    /// Every column of every fixture table.
    pub columns: BTreeMap<String, Vec<String>>,
}

impl Policy {
    /// The fixture's policy on `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        let names = Names(dialect);
        let tables = fixture::tables(dialect);
        let allowed = tables
            .iter()
            .filter(|t| t.allowed)
            .map(|t| names.table(t.namespace, t.name))
            .collect();
        let denied = fixture::DENIED
            .iter()
            .map(|(t, c)| (names.table(None, t), names.column(c)))
            .collect();
        let columns = tables
            .iter()
            .map(|t| {
                (
                    names.table(t.namespace, t.name),
                    t.columns.iter().map(|(c, _)| names.column(c)).collect(),
                )
            })
            .collect();
        Self {
            names,
            allowed,
            denied,
            columns,
        }
    }

    /// The normal form of names.
    pub fn names(&self) -> Names {
        self.names
    }
}

/// A kind of disagreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Security: the database reads a restricted column.
    DeniedColumn,
    /// Security: the database reads a table outside the allowed ones (another table, another
    /// schema or database, a system catalog).
    TableNotAllowed,
    /// Security: the database calls a function off the allow-list (SQLite).
    FunctionNotAllowed,
    /// Security: the role whose grants equal the policy may not run the statement.
    GrantsRefuse,
    /// Security (contract): an allowed table read but not listed in `tables`.
    UnlistedTable,
    /// Security (contract): an allowed column read but not listed in `columns`.
    UnlistedColumn,
    /// Fidelity: the database reads the input and `exec_sql` differently.
    InputReadsDiffer,
    /// Fidelity: the input compiles, `exec_sql` does not.
    RenderBreaks,
    /// Fidelity: `exec_sql` compiles, the input does not.
    RenderRepairs,
    /// Fidelity: the database sees more than one statement in the input or in `exec_sql`.
    SeveralStatements,
    /// The validator panicked.
    ValidatorPanic,
    /// Security (availability): the database server went away while handling `exec_sql`.
    DatabaseLost,
}

impl Class {
    /// A stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeniedColumn => "denied_column_read",
            Self::TableNotAllowed => "table_not_allowed_read",
            Self::FunctionNotAllowed => "function_not_allowed_called",
            Self::GrantsRefuse => "grants_refuse",
            Self::UnlistedTable => "unlisted_table",
            Self::UnlistedColumn => "unlisted_column",
            Self::InputReadsDiffer => "input_reads_differ",
            Self::RenderBreaks => "render_breaks_statement",
            Self::RenderRepairs => "render_repairs_statement",
            Self::SeveralStatements => "several_statements",
            Self::ValidatorPanic => "validator_panic",
            Self::DatabaseLost => "database_lost",
        }
    }

    /// Whether a finding of this class is a security failure (else a fidelity finding).
    pub fn is_security(self) -> bool {
        !matches!(
            self,
            Self::InputReadsDiffer
                | Self::RenderBreaks
                | Self::RenderRepairs
                | Self::SeveralStatements
        )
    }
}

/// One disagreement on one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Its kind.
    pub class: Class,
    /// Why the statement reads what it does, as far as the test can tell: `rendering` when the
    /// database also reads the input differently from `exec_sql` (the validator judged another
    /// statement than the one that runs), `resolution` otherwise (the validator resolved names
    /// differently from the database), `star` for an unlisted column of a statement with `*`,
    /// `t.*`, a whole-row reference, NATURAL or USING (see [`STAR_COLUMNS_NOTE`]).
    pub mechanism: &'static str,
    /// What was read or how the outcomes differ.
    pub detail: String,
}

/// `ValidatedSql::columns` lists every catalog column a statement may read, including through
/// `*`, `t.*`, whole-row references and NATURAL / USING joins; findings on statements that
/// read through those forms are grouped under mechanism `star`.
pub const STAR_COLUMNS_NOTE: &str = "ValidatedSql::columns must list the columns read through *, t.*, whole-row references and NATURAL/USING too";

/// Whether `sql` reads through a form today's `columns` under-reports (see
/// [`STAR_COLUMNS_NOTE`]); a textual approximation used only to group findings.
fn reads_through_star(sql: &str) -> bool {
    let lower = sql.to_lowercase();
    let star = lower.match_indices('*').any(|(i, _)| {
        let before = lower[..i].trim_end();
        !before.ends_with('(') || before.ends_with('.')
    });
    star || ["natural", "using", "to_json", "json_build_object", "table "]
        .iter()
        .any(|w| lower.contains(w))
}

/// Compares the database's reads of `exec_sql` with the validator's; then the database's reads
/// of the input with those of `exec_sql`.
pub fn compare(
    policy: &Policy,
    dialect: Dialect,
    validated: &Reads,
    exec_sql: &str,
    on_exec: &Observation,
    on_input: &Observation,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let rendering = match (on_exec, on_input) {
        (
            Observation::Compiled {
                reads: a,
                several: sa,
                partial: pa,
                ..
            },
            Observation::Compiled {
                reads: b,
                several: sb,
                partial: pb,
                ..
            },
        ) => (a != b && !pa && !pb) || sa != sb,
        (Observation::Refused(_), Observation::Refused(_)) => false,
        (Observation::Lost(_), _) | (_, Observation::Lost(_)) => false,
        _ => true,
    };
    let mechanism = if rendering { "rendering" } else { "resolution" };
    if let Observation::Compiled {
        reads,
        several,
        grants_refused,
        partial,
    } = on_exec
    {
        let empty = Reads::default();
        let reads = if *partial { &empty } else { reads };
        for t in reads.tables.difference(&validated.tables) {
            let class = if policy.allowed.contains(t) {
                Class::UnlistedTable
            } else {
                Class::TableNotAllowed
            };
            out.push(Finding {
                class,
                mechanism,
                detail: format!("reads table {t}"),
            });
        }
        for (t, c) in reads
            .columns_against(validated)
            .difference(&validated.columns)
        {
            let key = (t.clone(), c.clone());
            let (class, mech) = if policy.denied.contains(&key) {
                (Class::DeniedColumn, mechanism)
            } else if !policy.allowed.contains(t) {
                (Class::TableNotAllowed, mechanism)
            } else if !rendering && reads_through_star(exec_sql) {
                (Class::UnlistedColumn, "star")
            } else {
                (Class::UnlistedColumn, mechanism)
            };
            out.push(Finding {
                class,
                mechanism: mech,
                detail: format!("reads column {t}.{c}"),
            });
        }
        for f in &reads.functions {
            if !conversational_bi::sql::is_function_allowed(dialect, f) {
                out.push(Finding {
                    class: Class::FunctionNotAllowed,
                    mechanism,
                    detail: format!("calls {f}()"),
                });
            }
        }
        if let Some(why) = grants_refused {
            out.push(Finding {
                class: Class::GrantsRefuse,
                mechanism,
                detail: why.clone(),
            });
        }
        if *several {
            out.push(Finding {
                class: Class::SeveralStatements,
                mechanism: "rendering",
                detail: "exec_sql holds more than one statement".into(),
            });
        }
    }
    for (obs, on) in [(on_exec, "exec_sql"), (on_input, "input")] {
        if let Observation::Lost(e) = obs {
            out.push(Finding {
                class: Class::DatabaseLost,
                mechanism: on,
                detail: format!("the connection broke on the {on}: {}", first_line(e)),
            });
            break;
        }
    }
    match (on_input, on_exec) {
        (
            Observation::Compiled {
                reads: a,
                several: sa,
                partial: pa,
                ..
            },
            Observation::Compiled {
                reads: b,
                partial: pb,
                ..
            },
        ) => {
            if a != b && !pa && !pb {
                out.push(Finding {
                    class: Class::InputReadsDiffer,
                    mechanism: "rendering",
                    detail: diff(a, b),
                });
            }
            if *sa {
                out.push(Finding {
                    class: Class::SeveralStatements,
                    mechanism: "rendering",
                    detail: "the input holds more than one statement".into(),
                });
            }
        }
        (Observation::Compiled { .. }, Observation::Refused(e)) => out.push(Finding {
            class: Class::RenderBreaks,
            mechanism: "rendering",
            detail: format!("exec_sql is refused: {}", first_line(e)),
        }),
        (Observation::Refused(e), Observation::Compiled { .. }) => out.push(Finding {
            class: Class::RenderRepairs,
            mechanism: "rendering",
            detail: format!("the input is refused: {}", first_line(e)),
        }),
        (Observation::Refused(_), Observation::Refused(_))
        | (Observation::Lost(_), _)
        | (_, Observation::Lost(_)) => {}
    }
    out
}

fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or(s);
    match line.char_indices().nth(160) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

/// What the input reads beyond `exec_sql` (`+`) and what it does not read (`-`).
fn diff(input: &Reads, exec: &Reads) -> String {
    let mut parts = Vec::new();
    for t in input.tables.symmetric_difference(&exec.tables) {
        let sign = if input.tables.contains(t) { '+' } else { '-' };
        parts.push(format!("{sign}{t}"));
    }
    for (t, c) in input.columns.symmetric_difference(&exec.columns) {
        let sign = if input.columns.contains(&(t.clone(), c.clone())) {
            '+'
        } else {
            '-'
        };
        parts.push(format!("{sign}{t}.{c}"));
    }
    for f in input.functions.symmetric_difference(&exec.functions) {
        let sign = if input.functions.contains(f) {
            '+'
        } else {
            '-'
        };
        parts.push(format!("{sign}{f}()"));
    }
    format!("the input reads {}", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(tables: &[&str], columns: &[(&str, &str)]) -> Reads {
        Reads {
            tables: tables.iter().map(|t| t.to_string()).collect(),
            columns: columns
                .iter()
                .map(|(t, c)| (t.to_string(), c.to_string()))
                .collect(),
            functions: BTreeSet::new(),
            one_of: BTreeSet::new(),
        }
    }

    fn compiled(r: Reads) -> Observation {
        Observation::Compiled {
            reads: r,
            several: false,
            grants_refused: None,
            partial: false,
        }
    }

    fn classes(findings: &[Finding]) -> Vec<(Class, &'static str)> {
        findings.iter().map(|f| (f.class, f.mechanism)).collect()
    }

    #[test]
    fn database_reads_must_be_among_the_validators() {
        let policy = Policy::new(Dialect::Sqlite);
        let validated = reads(
            &["main.customers"],
            &[("main.customers", "id"), ("main.customers", "email")],
        );
        let same = compiled(reads(&["main.customers"], &[("main.customers", "email")]));
        let none = compare(
            &policy,
            Dialect::Sqlite,
            &validated,
            "SELECT email FROM customers",
            &same,
            &same,
        );
        assert!(none.is_empty(), "{none:?}");

        let denied = compiled(reads(
            &["main.customers", "main.secrets"],
            &[("main.customers", "ssn"), ("main.customers", "full_name")],
        ));
        let found = compare(
            &policy,
            Dialect::Sqlite,
            &validated,
            "SELECT x",
            &denied,
            &denied,
        );
        assert_eq!(
            classes(&found),
            [
                (Class::TableNotAllowed, "resolution"),
                (Class::UnlistedColumn, "resolution"),
                (Class::DeniedColumn, "resolution"),
            ]
        );
    }

    #[test]
    fn input_read_differently_is_rendering() {
        let policy = Policy::new(Dialect::Postgres);
        let validated = reads(&[], &[]);
        let exec = compiled(reads(&["public.customers"], &[("public.customers", "ssn")]));
        let input = compiled(Reads::default());
        let found = compare(
            &policy,
            Dialect::Postgres,
            &validated,
            "SELECT 'x\\'",
            &exec,
            &input,
        );
        assert_eq!(
            classes(&found),
            [
                (Class::UnlistedTable, "rendering"),
                (Class::DeniedColumn, "rendering"),
                (Class::InputReadsDiffer, "rendering"),
            ]
        );
        let broken = compare(
            &policy,
            Dialect::Postgres,
            &validated,
            "SELECT 1",
            &Observation::Refused("syntax error".into()),
            &input,
        );
        assert_eq!(classes(&broken), [(Class::RenderBreaks, "rendering")]);
    }

    #[test]
    fn partial_reads_are_not_compared_grants_are() {
        let policy = Policy::new(Dialect::Mysql);
        let partial = Observation::Compiled {
            reads: reads(&["cbi_diff.secrets"], &[]),
            several: false,
            grants_refused: Some("denied".into()),
            partial: true,
        };
        let found = compare(
            &policy,
            Dialect::Mysql,
            &Reads::default(),
            "SELECT 1",
            &partial,
            &partial,
        );
        assert_eq!(classes(&found), [(Class::GrantsRefuse, "resolution")]);
    }

    #[test]
    fn star_forms_are_grouped_apart() {
        let policy = Policy::new(Dialect::Sqlite);
        let validated = reads(&["main.orders"], &[]);
        let exec = compiled(reads(&["main.orders"], &[("main.orders", "amount")]));
        let found = compare(
            &policy,
            Dialect::Sqlite,
            &validated,
            "SELECT * FROM orders",
            &exec,
            &exec,
        );
        assert_eq!(classes(&found), [(Class::UnlistedColumn, "star")]);
        let found = compare(
            &policy,
            Dialect::Sqlite,
            &validated,
            "SELECT count(*) FROM orders",
            &exec,
            &exec,
        );
        assert_eq!(classes(&found), [(Class::UnlistedColumn, "resolution")]);
    }

    #[test]
    fn a_group_is_explained_by_any_of_its_columns() {
        let policy = Policy::new(Dialect::Mysql);
        let pair = |t: &str, c: &str| (t.to_string(), c.to_string());
        let mut seen = reads(&["cbi_diff.notes", "cbi_diff.customers"], &[]);
        seen.one_of.insert(
            [
                pair("cbi_diff.customers", "id"),
                pair("cbi_diff.notes", "id"),
            ]
            .into_iter()
            .collect(),
        );
        let exec = compiled(seen);
        let tables = ["cbi_diff.notes", "cbi_diff.customers"];
        let listed = reads(&tables, &[("cbi_diff.notes", "id")]);
        let found = compare(&policy, Dialect::Mysql, &listed, "SELECT 1", &exec, &exec);
        assert!(found.is_empty(), "{found:?}");
        let unlisted = reads(&tables, &[("cbi_diff.notes", "body")]);
        let found = compare(&policy, Dialect::Mysql, &unlisted, "SELECT 1", &exec, &exec);
        assert_eq!(
            classes(&found),
            [
                (Class::UnlistedColumn, "resolution"),
                (Class::UnlistedColumn, "resolution")
            ]
        );
    }
}
