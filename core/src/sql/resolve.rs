//! Name resolution: tables against the catalog and the allowed tables, columns against the
//! relations in scope, restricted columns, and "did you mean" suggestions.
//!
//! Resolution never refuses what it cannot judge: a column that several relations could
//! provide, or that a relation with unknown columns (a table function) might provide, is
//! accepted and left to the database.

use sqlparser::{
    ast::{Ident, ObjectName, ObjectNamePart, Query},
    tokenizer::Location,
};

use super::{RejectRule, Rejection, ValidatorOptions};
use crate::{
    catalog::{Catalog, Table},
    dialect::Dialect,
};

/// The catalog and the options, as the walk consults them.
pub(crate) struct Policy<'a> {
    pub(crate) catalog: &'a Catalog,
    pub(crate) options: &'a ValidatorOptions,
    pub(crate) dialect: Dialect,
}

impl<'a> Policy<'a> {
    /// A policy over `catalog` and `options`.
    pub(crate) fn new(catalog: &'a Catalog, options: &'a ValidatorOptions) -> Self {
        Self {
            catalog,
            options,
            dialect: catalog.dialect,
        }
    }

    /// The catalog table `name` refers to, when it exists and may be read.
    ///
    /// A qualifier must name the data source itself: the schema of a PostgreSQL table (and the
    /// connected database, when written), the connected database on MySQL, `main` on SQLite.
    /// Anything else (another database, `information_schema`, an attached file) is refused even
    /// when a table of the same name exists here.
    pub(crate) fn lookup_table(&self, name: &ObjectName) -> Result<&'a Table, Rejection> {
        let idents = object_idents(name);
        let (database, schema, table) = match idents.as_slice() {
            [t] => (None, None, *t),
            [s, t] => (None, Some(*s), *t),
            [d, s, t] if self.dialect == Dialect::Postgres => (Some(*d), Some(*s), *t),
            _ => return Err(unknown_table(&name.to_string(), self.allowed_names())),
        };
        let system = |qualifier: Option<&Ident>| {
            is_system_catalog(qualifier.map(|s| s.value.as_str()), &table.value)
        };
        if let Some(d) = database
            && !self.names_this_database(d)
        {
            return Err(other_database(name, &self.catalog.database));
        }
        let schema = match (self.dialect, schema) {
            (Dialect::Postgres, s) => s,
            (_, None) => None,
            (_, Some(s)) if self.names_this_database(s) => None,
            (_, Some(s)) if system(Some(s)) => return Err(system_catalog(name)),
            (_, Some(_)) => return Err(other_database(name, &self.catalog.database)),
        };
        // PostgreSQL searches pg_catalog before the search path: an unqualified `pg_...` name
        // is a system catalog even where a schema has a table of that name.
        if self.dialect == Dialect::Postgres
            && schema.is_none()
            && table.value.to_ascii_lowercase().starts_with("pg_")
        {
            return Err(system_catalog(name));
        }
        let found = self.catalog.find_table(
            schema.map(|s| s.value.as_str()),
            &table.value,
            table.quote_style.is_some(),
        );
        let Some(found) = found else {
            if system(schema) {
                return Err(system_catalog(name));
            }
            return Err(unknown_table(&name.to_string(), self.allowed_names()));
        };
        if !self.is_allowed(found) {
            return Err(Rejection::new(
                RejectRule::TableNotAllowed,
                format!(
                    "table `{}` may not be read; use only these tables: {}",
                    found.qualified_name(),
                    self.allowed_names().join(", ")
                ),
            ));
        }
        Ok(found)
    }

    /// Whether a qualifier names the data source's own database: `main` on SQLite (case does
    /// not matter there), the connected database on MySQL and PostgreSQL (exactly: MySQL
    /// database names are case-sensitive on most servers).
    fn names_this_database(&self, qualifier: &Ident) -> bool {
        match self.dialect {
            Dialect::Sqlite => qualifier.value.eq_ignore_ascii_case("main"),
            Dialect::Mysql => qualifier.value == self.catalog.database,
            Dialect::Postgres => {
                Written::new(self.dialect, qualifier).names(&self.catalog.database)
            }
        }
    }

    fn is_allowed(&self, table: &Table) -> bool {
        let allowed = &self.options.allowed_tables;
        allowed.is_empty()
            || allowed.iter().any(|a| {
                a.eq_ignore_ascii_case(&table.name)
                    || a.eq_ignore_ascii_case(&table.qualified_name())
            })
    }

    fn allowed_names(&self) -> Vec<String> {
        self.catalog
            .tables
            .iter()
            .filter(|t| self.is_allowed(t))
            .map(Table::qualified_name)
            .collect()
    }

    /// Whether `table.column` is on the restricted list.
    pub(crate) fn is_denied(&self, table: &Table, column: &str) -> bool {
        self.options.denied_columns.iter().any(|d| {
            d.rsplit_once('.').is_some_and(|(t, c)| {
                c.eq_ignore_ascii_case(column)
                    && (t.eq_ignore_ascii_case(&table.name)
                        || t.eq_ignore_ascii_case(&table.qualified_name()))
            })
        })
    }
}

/// The identifiers of an object name (function-call parts are left out).
pub(crate) fn object_idents(name: &ObjectName) -> Vec<&Ident> {
    name.0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i),
            ObjectNamePart::Function(_) => None,
        })
        .collect()
}

fn is_system_catalog(schema: Option<&str>, table: &str) -> bool {
    let lower = |s: &str| s.to_ascii_lowercase();
    let t = lower(table);
    matches!(
        schema.map(lower).as_deref(),
        Some("pg_catalog" | "information_schema" | "mysql" | "sys" | "performance_schema")
    ) || t.starts_with("sqlite_")
        || t.starts_with("pg_")
        || t.starts_with("pragma_")
}

fn system_catalog(name: &ObjectName) -> Rejection {
    Rejection::new(
        RejectRule::UnknownTable,
        format!(
            "`{name}` is a system catalog and cannot be queried; the schema is described in \
             the prompt, query only its tables"
        ),
    )
}

fn other_database(name: &ObjectName, database: &str) -> Rejection {
    Rejection::new(
        RejectRule::TableNotAllowed,
        format!(
            "`{name}` is in another database; only the tables of `{database}` may be read, \
             written without a database name"
        ),
    )
}

fn unknown_table(name: &str, candidates: Vec<String>) -> Rejection {
    let hint = match nearest(name, candidates.iter().map(String::as_str)) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("use one of: {}", candidates.join(", ")),
    };
    Rejection::new(
        RejectRule::UnknownTable,
        format!("no table `{name}` in the schema; {hint}"),
    )
}

/// The output columns of a query or relation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns {
    /// Known names, as the database would report them.
    pub(crate) names: Vec<String>,
    /// Whether the relation may have columns beyond `names` (table functions, unnamed items).
    pub(crate) open: bool,
}

/// A relation in a `FROM` scope.
#[derive(Debug)]
pub(crate) struct Relation<'a> {
    /// The name it is referred to by: its alias, else the table or CTE name.
    pub(crate) name: String,
    /// The catalog table, for restricted-column checks.
    pub(crate) table: Option<&'a Table>,
    /// Its columns.
    pub(crate) columns: Columns,
    /// For a catalog table whose columns an alias list renamed (PostgreSQL `t AS x(a, b)`): the
    /// catalog name of each column of `columns`, by position.
    pub(crate) catalog_names: Option<Vec<String>>,
}

impl Relation<'_> {
    /// The catalog name of the column this relation calls `name`.
    pub(crate) fn catalog_name<'n>(&'n self, name: &'n str) -> &'n str {
        match &self.catalog_names {
            Some(names) => self
                .columns
                .names
                .iter()
                .position(|c| c == name)
                .and_then(|i| names.get(i))
                .map_or(name, String::as_str),
            None => name,
        }
    }
}

/// The relations of one `SELECT`, its select-list aliases and the join links between them.
#[derive(Debug, Default)]
pub(crate) struct Scope<'a> {
    pub(crate) relations: Vec<Relation<'a>>,
    pub(crate) aliases: Vec<String>,
    /// Pairs of relations that a join condition or a `WHERE` conjunct connects.
    pub(crate) links: Vec<(usize, usize)>,
}

/// Whether the arguments of one aggregate call read a column of a query around the call's,
/// directly or from a subquery inside them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AggregateFrame {
    depth: usize,
    outer: bool,
}

impl AggregateFrame {
    /// A call in the query of scope `depth`.
    pub(crate) fn new(depth: usize) -> Self {
        Self {
            depth,
            outer: false,
        }
    }

    fn note(&mut self, depth: usize) {
        self.outer |= depth < self.depth;
    }

    /// Whether the arguments read a column of a query around the call's.
    pub(crate) fn reads_outer(self) -> bool {
        self.outer
    }
}

/// A CTE visible to the query being walked.
#[derive(Debug)]
pub(crate) struct CteBinding {
    pub(crate) name: Ident,
    pub(crate) columns: Columns,
}

/// The walk's state: scopes from outermost to innermost, visible CTEs, tables read.
pub(crate) struct Walker<'p, 'a> {
    pub(crate) policy: &'p Policy<'a>,
    pub(crate) scopes: Vec<Scope<'a>>,
    pub(crate) ctes: Vec<CteBinding>,
    /// While a CTE's body is walked: the names of the CTEs after it in its WITH, which it may
    /// read on SQLite (and elsewhere under RECURSIVE).
    pub(crate) later_ctes: Vec<Ident>,
    /// How many CTE bodies the walk is inside.
    pub(crate) in_cte_body: usize,
    /// The aggregate calls (MySQL) whose arguments are being walked.
    pub(crate) aggregates: Vec<AggregateFrame>,
    /// MySQL: the first derived table or CTE whose columns a subquery reads from outside.
    pub(crate) outer_derived: Option<String>,
    /// MySQL: the catalog tables whose columns a subquery reads from outside (a data policy
    /// must not turn them into derived tables, see `outer_derived`).
    pub(crate) outer_tables: Vec<&'a Table>,
    pub(crate) tables: Vec<String>,
    /// Where the query names a catalog table as a FROM item (what a data policy replaces).
    pub(crate) refs: Vec<TableRef<'a>>,
    /// Columns of catalog tables the query may read.
    pub(crate) columns: Vec<ColumnRead<'a>>,
    /// The subset of `columns` the query names.
    pub(crate) named: Vec<ColumnRead<'a>>,
    /// While walking a join condition or `WHERE` conjunct: the scope depth and the relations
    /// of that scope it references.
    pub(crate) collect: Option<(usize, Vec<usize>)>,
    /// SQLite: where the names written in double quotes start (see
    /// [`super::lex::tokenize_marked`]).
    pub(crate) double_quoted: &'p [Location],
    /// SQLite: the double-quoted names that no relation has, which SQLite reads as strings.
    pub(crate) implicit_strings: Vec<Location>,
    /// The subset of `implicit_strings` that are whole select-list items.
    pub(crate) implicit_named: Vec<Location>,
    /// The scopes below this depth are those of queries whose columns may not be read where
    /// the walk is: around a derived table or CTE on MySQL, a CTE on SQLite, a GROUP BY or
    /// ORDER BY on SQLite.
    pub(crate) barrier: usize,
}

/// A column of a catalog table that a query reads, as the catalog spells it.
#[derive(Clone, Copy)]
pub(crate) struct ColumnRead<'a> {
    table: &'a Table,
    column: &'a str,
}

impl ColumnRead<'_> {
    fn key(&self) -> (usize, &str) {
        (std::ptr::from_ref(self.table) as usize, self.column)
    }
}

/// The (qualified table, column) pairs of `reads`, sorted and deduplicated.
fn pairs(mut reads: Vec<ColumnRead<'_>>) -> Vec<(String, String)> {
    reads.sort_unstable_by(|a, b| a.key().cmp(&b.key()));
    reads.dedup_by(|a, b| a.key() == b.key());
    let mut out: Vec<(String, String)> = reads
        .iter()
        .map(|r| (r.table.qualified_name(), r.column.to_string()))
        .collect();
    out.sort();
    out
}

/// A FROM item that names a catalog table: where its name's tokens are (indexes into the token
/// stream the tree was parsed from) and whether an alias follows.
#[derive(Debug, Clone)]
pub(crate) struct TableRef<'a> {
    pub(crate) table: &'a Table,
    /// The token index of the name's first part.
    pub(crate) first: usize,
    /// The token index after the name's last part.
    pub(crate) end: usize,
    /// The name's last part as written (the table's name in scope when there is no alias).
    pub(crate) written: Ident,
    /// Whether the FROM item has an alias.
    pub(crate) aliased: bool,
}

/// The catalog tables and columns a query reads.
#[derive(Debug, Default)]
pub(crate) struct Reads<'a> {
    /// Qualified table names, sorted and deduplicated.
    pub(crate) tables: Vec<String>,
    /// The FROM items that name catalog tables, in the order walked.
    pub(crate) refs: Vec<TableRef<'a>>,
    /// MySQL: the catalog tables whose columns a subquery reads from outside.
    pub(crate) outer_tables: Vec<&'a Table>,
    /// (qualified table, column) pairs the query may read, sorted and deduplicated: named,
    /// through `*`, `t.*` or a whole-row reference, compared by `NATURAL` or `USING`.
    pub(crate) columns: Vec<(String, String)>,
    /// The pairs of `columns` the query names, sorted and deduplicated.
    pub(crate) named: Vec<(String, String)>,
    /// SQLite: double-quoted names that no relation has, which SQLite reads as strings.
    pub(crate) implicit_strings: Vec<Location>,
    /// The subset of `implicit_strings` that are whole select-list items.
    pub(crate) implicit_named: Vec<Location>,
}

/// Checks every name in `query`; returns the catalog tables and columns it reads.
pub(crate) fn check_query<'a>(
    policy: &Policy<'a>,
    query: &Query,
    double_quoted: &[Location],
) -> Result<Reads<'a>, Rejection> {
    let mut walker = Walker {
        policy,
        scopes: Vec::new(),
        ctes: Vec::new(),
        later_ctes: Vec::new(),
        in_cte_body: 0,
        aggregates: Vec::new(),
        outer_derived: None,
        outer_tables: Vec::new(),
        tables: Vec::new(),
        refs: Vec::new(),
        columns: Vec::new(),
        named: Vec::new(),
        collect: None,
        double_quoted,
        implicit_strings: Vec::new(),
        implicit_named: Vec::new(),
        barrier: 0,
    };
    walker.query(query)?;
    if let Some(name) = walker.outer_derived {
        return Err(Rejection::new(
            RejectRule::Unsupported,
            format!(
                "a subquery reads a column of the derived table or CTE `{name}` around it, which \
                 MariaDB 10.11 can crash on; join the subquery's tables instead, or move the \
                 condition into the derived table"
            ),
        ));
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v
    };
    Ok(Reads {
        tables: sorted(walker.tables),
        refs: walker.refs,
        outer_tables: walker.outer_tables,
        columns: pairs(walker.columns),
        named: pairs(walker.named),
        implicit_strings: walker.implicit_strings,
        implicit_named: walker.implicit_named,
    })
}

/// How a name written in SQL is stored as an output column name.
pub(crate) fn output_name(dialect: Dialect, ident: &Ident) -> String {
    match (dialect, ident.quote_style) {
        (Dialect::Postgres, None) => ident.value.to_lowercase(),
        _ => ident.value.clone(),
    }
}

/// An identifier as written, folded once the way the dialect compares it: PostgreSQL folds an
/// unquoted name to lower case (ASCII letters only) and compares exactly; SQLite compares without
/// regard to ASCII case; MySQL compares column names without regard to case, Unicode included.
struct Written<'i> {
    text: std::borrow::Cow<'i, str>,
    fold: Fold,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fold {
    Exact,
    Ascii,
    Unicode,
}

impl<'i> Written<'i> {
    fn new(dialect: Dialect, ident: &'i Ident) -> Self {
        match (dialect, ident.quote_style) {
            (Dialect::Postgres, None) if ident.value.bytes().any(|b| b.is_ascii_uppercase()) => {
                Self {
                    text: ident.value.to_ascii_lowercase().into(),
                    fold: Fold::Exact,
                }
            }
            (Dialect::Postgres, _) => Self {
                text: ident.value.as_str().into(),
                fold: Fold::Exact,
            },
            (Dialect::Sqlite, _) => Self {
                text: ident.value.as_str().into(),
                fold: Fold::Ascii,
            },
            (Dialect::Mysql, _) => Self {
                text: ident.value.to_lowercase().into(),
                fold: Fold::Unicode,
            },
        }
    }

    /// Same result as [`crate::catalog::identifier_matches`] for the identifier this was built from.
    fn names(&self, actual: &str) -> bool {
        match self.fold {
            Fold::Exact => actual == self.text,
            Fold::Ascii => actual.eq_ignore_ascii_case(&self.text),
            Fold::Unicode => {
                actual.eq_ignore_ascii_case(&self.text) || actual.to_lowercase() == self.text
            }
        }
    }
}

impl<'a> Walker<'_, 'a> {
    fn note_reference(&mut self, depth: usize, relation: usize) {
        for frame in &mut self.aggregates {
            frame.note(depth);
        }
        if self.policy.dialect == Dialect::Mysql
            && depth + 1 < self.scopes.len()
            && self.outer_derived.is_none()
            && let Some(rel) = self.scopes[depth].relations.get(relation)
            && rel.table.is_none()
        {
            self.outer_derived = Some(rel.name.clone());
        }
        if self.policy.dialect == Dialect::Mysql
            && depth + 1 < self.scopes.len()
            && let Some(table) = self.scopes[depth]
                .relations
                .get(relation)
                .and_then(|r| r.table)
            && !self.outer_tables.iter().any(|t| std::ptr::eq(*t, table))
        {
            self.outer_tables.push(table);
        }
        if let Some((d, refs)) = &mut self.collect
            && *d == depth
            && !refs.contains(&relation)
        {
            refs.push(relation);
        }
    }

    /// Records that `column` of relation `relation` in scope `depth` is read, when the
    /// relation is a catalog table.
    fn note_column(&mut self, depth: usize, relation: usize, column: &str) {
        let rel = &self.scopes[depth].relations[relation];
        if let Some(t) = rel.table {
            let name = rel.catalog_name(column);
            if let Some(c) = t.columns.iter().find(|c| c.name == name) {
                let read = ColumnRead {
                    table: t,
                    column: &c.name,
                };
                self.named.push(read);
                self.columns.push(read);
            }
        }
    }

    fn check_denied(&self, depth: usize, relation: usize, column: &str) -> Result<(), Rejection> {
        let rel = &self.scopes[depth].relations[relation];
        let column = rel.catalog_name(column);
        match rel.table {
            Some(t) if self.policy.is_denied(t, column) => Err(denied(t, column)),
            _ => Ok(()),
        }
    }

    /// Resolves an unqualified column name.
    ///
    /// A name binds in the innermost scope that has it, as in every database. Where the walk
    /// cannot tell which relation the database will pick, it checks every one it might: all
    /// relations of a scope that have the name (an ambiguity the database may resolve through
    /// `USING` or refuse), and, when a relation of unknown columns (a table function, a derived
    /// table with unnamed expressions) might provide it, also the scopes further out. A denied
    /// column among any of them refuses the statement.
    pub(crate) fn resolve_column(&mut self, id: &Ident) -> Result<(), Rejection> {
        if id.value.starts_with('@') {
            return Err(variable(&id.value));
        }
        let written = Written::new(self.policy.dialect, id);
        let mut may_bind_inside = false;
        let mut whole_row: Option<(usize, usize)> = None;
        for depth in (0..self.scopes.len()).rev() {
            let scope = &self.scopes[depth];
            let mut hits: Vec<(usize, String)> = Vec::new();
            let mut open = false;
            for (i, rel) in scope.relations.iter().enumerate() {
                if let Some(c) = rel.columns.names.iter().find(|c| written.names(c)) {
                    hits.push((i, c.clone()));
                }
                open |= rel.columns.open;
            }
            if !hits.is_empty() {
                self.check_barrier(depth, &id.value)?;
                for (i, name) in &hits {
                    self.check_denied(depth, *i, name)?;
                }
                for (i, name) in hits {
                    self.note_reference(depth, i);
                    self.note_column(depth, i, &name);
                }
                return Ok(());
            }
            // A relation called like the name: on PostgreSQL a whole-row reference
            // (`to_json(t)`), which reads every column, but only when no query level, however
            // far out, has a column of that name; SQLite and MySQL have none.
            if whole_row.is_none() && self.policy.dialect == Dialect::Postgres {
                whole_row = scope
                    .relations
                    .iter()
                    .position(|r| written.names(&r.name))
                    .map(|i| (depth, i));
            }
            if scope.aliases.iter().any(|a| written.names(a)) && whole_row.is_none() {
                if depth + 1 < self.scopes.len() {
                    // SQLite lets a subquery use the alias of a query around it, and reads its
                    // expression again in the subquery's place, where names may bind
                    // elsewhere.
                    return Err(Rejection::new(
                        RejectRule::Unsupported,
                        format!(
                            "`{}` is the select-list alias of a query around this subquery; repeat \
                             its expression, or move the subquery into a derived table",
                            id.value
                        ),
                    ));
                }
                return Ok(());
            }
            may_bind_inside |= open;
        }
        if let Some((depth, i)) = whole_row {
            self.check_barrier(depth, &id.value)?;
            self.read_all(depth, i)?;
            self.note_reference(depth, i);
            return Ok(());
        }
        if self.is_rowid(id) {
            return self.read_rowid(None);
        }
        if may_bind_inside {
            self.check_cte_guess(&id.value)?;
            if self.is_string_like(id) {
                // SQLite would read it as a column of a relation whose columns are not known
                // here, or else as a string: the validator cannot tell which.
                return Err(Rejection::new(
                    RejectRule::UnknownColumn,
                    format!(
                        "`\"{}\"` is no known column here; SQLite might read it as a column of a                          subquery or function whose columns have no names, or as a string. Give                          those columns names with AS, or write a string in single quotes",
                        id.value
                    ),
                ));
            }
            return Ok(());
        }
        if self.is_string_like(id) {
            if self.in_cte_body > 0 {
                // SQLite resolves a CTE's body again where the CTE is used, where a query
                // around it may have a column of that name.
                return Err(Rejection::new(
                    RejectRule::UnknownColumn,
                    format!(
                        "`\"{}\"` is no column of this CTE's tables; SQLite might read it as a column of \
                         the query that uses the CTE, or as a string. Write a string in single quotes",
                        id.value
                    ),
                ));
            }
            self.implicit_strings.push(id.span.start);
            return Ok(());
        }
        Err(self.unknown_column(id))
    }

    /// Resolves a `USING (name)` column of the join whose left relations are
    /// `left_start..right_start` and right relations `right_start..` of the current scope: it
    /// reads the column of both sides.
    pub(crate) fn resolve_using(
        &mut self,
        left_start: usize,
        right_start: usize,
        id: &Ident,
    ) -> Result<(), Rejection> {
        let depth = self.scopes.len() - 1;
        let written = Written::new(self.policy.dialect, id);
        let end = self.scopes[depth].relations.len();
        let mut found = [false, false];
        let mut open = [false, false];
        for i in left_start..end {
            let side = usize::from(i >= right_start);
            let rel = &self.scopes[depth].relations[i];
            open[side] |= rel.columns.open;
            if let Some(c) = rel.columns.names.iter().find(|c| written.names(c)).cloned() {
                found[side] = true;
                self.check_denied(depth, i, &c)?;
                self.note_column(depth, i, &c);
            }
        }
        if (found[0] || open[0]) && (found[1] || open[1]) {
            Ok(())
        } else {
            Err(Rejection::new(
                RejectRule::UnknownColumn,
                format!(
                    "`USING ({})` names a column that is not on both sides of the join; use `ON` with the columns of each side",
                    id.value
                ),
            ))
        }
    }

    /// Checks a `NATURAL` join of relations `left_start..right_start` with `right_start..` of
    /// the current scope: it compares every column name the two sides share, so each of those
    /// is read; a side of unknown columns might share any column of the other.
    pub(crate) fn check_natural(
        &mut self,
        left_start: usize,
        right_start: usize,
    ) -> Result<(), Rejection> {
        let depth = self.scopes.len() - 1;
        let end = self.scopes[depth].relations.len();
        let dialect = self.policy.dialect;
        let mut shared: Vec<(usize, String)> = Vec::new();
        let mut all: Vec<usize> = Vec::new();
        for l in left_start..right_start {
            for r in right_start..end {
                let (lr, rr) = (
                    &self.scopes[depth].relations[l],
                    &self.scopes[depth].relations[r],
                );
                if rr.columns.open {
                    all.push(l);
                }
                if lr.columns.open {
                    all.push(r);
                }
                for c in &lr.columns.names {
                    if let Some(rc) = rr
                        .columns
                        .names
                        .iter()
                        .find(|rc| crate::catalog::identifier_matches(dialect, rc, c, true))
                    {
                        shared.push((l, c.clone()));
                        shared.push((r, rc.clone()));
                    }
                }
            }
        }
        for (i, c) in &shared {
            self.check_denied(depth, *i, c)?;
        }
        for (i, c) in shared {
            self.note_column(depth, i, &c);
        }
        for i in all {
            self.read_all(depth, i)?;
        }
        Ok(())
    }

    /// Refuses, on MySQL, a name of the queries around the derived table or CTE being walked.
    pub(crate) fn check_barrier(&self, depth: usize, name: &str) -> Result<(), Rejection> {
        if depth < self.barrier {
            return Err(Rejection::new(
                RejectRule::Unsupported,
                format!(
                    "`{name}` belongs to a query around this one, which may not be read here (MySQL and \
                     MariaDB refuse it in a derived table or CTE, SQLite in a CTE, GROUP BY or ORDER BY); \
                     join the table inside this query instead"
                ),
            ));
        }
        Ok(())
    }

    /// Refuses, inside a CTE on SQLite, a name left to a relation of unknown columns: where that
    /// relation lacks it, SQLite looks for it in the queries around the place the CTE is used,
    /// which the walk cannot see.
    fn check_cte_guess(&self, name: &str) -> Result<(), Rejection> {
        if self.policy.dialect == Dialect::Sqlite && self.in_cte_body > 0 {
            return Err(Rejection::new(
                RejectRule::UnknownColumn,
                format!(
                    "`{name}` is no known column in this CTE: a subquery or function there has \
                     columns without names, and SQLite would look for `{name}` where the CTE is \
                     used. Name those columns with AS"
                ),
            ));
        }
        Ok(())
    }

    /// SQLite's rowid under its three names.
    fn is_rowid(&self, id: &Ident) -> bool {
        self.policy.dialect == Dialect::Sqlite
            && ["rowid", "oid", "_rowid_"]
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&id.value))
    }

    /// A SQLite name written in double quotes, which SQLite reads as a string when no relation
    /// has it.
    fn is_string_like(&self, id: &Ident) -> bool {
        self.policy.dialect == Dialect::Sqlite && self.double_quoted.contains(&id.span.start)
    }

    fn unknown_column(&self, id: &Ident) -> Rejection {
        let Some(scope) = self.scopes.last().filter(|s| !s.relations.is_empty()) else {
            return Rejection::new(
                RejectRule::UnknownColumn,
                format!(
                    "no column `{}`: the query reads no table here; add a FROM clause",
                    id.value
                ),
            );
        };
        let policy = self.policy;
        let candidates = scope.relations.iter().flat_map(|r| {
            r.columns
                .names
                .iter()
                .filter(move |c| !r.table.is_some_and(|t| policy.is_denied(t, c)))
                .map(String::as_str)
        });
        let names: Vec<String> = scope
            .relations
            .iter()
            .map(|r| format!("`{}`", r.name))
            .collect();
        let place = if names.len() == 1 {
            names[0].clone()
        } else {
            format!("any of {}", names.join(", "))
        };
        let hint = match nearest(
            &id.value,
            candidates.chain(scope.aliases.iter().map(String::as_str)),
        ) {
            Some(best) => format!("did you mean `{best}`?"),
            None => "use a column of the tables in FROM".to_string(),
        };
        Rejection::new(
            RejectRule::UnknownColumn,
            format!("no column `{}` in {place}; {hint}", id.value),
        )
    }

    /// Resolves `qualifier.column` (and `schema.table.column`).
    pub(crate) fn resolve_qualified(&mut self, parts: &[Ident]) -> Result<(), Rejection> {
        match parts {
            [q, c] => self.resolve_in(q, c),
            // `schema.table.column` when the middle part names a relation in scope; otherwise,
            // on PostgreSQL, `table.column.field` of a composite column.
            // PostgreSQL: `schema.table.column` names a FROM item of that table without an
            // alias, however far out, never an alias that happens to be called `table`.
            [s, q, c] if self.policy.dialect == Dialect::Postgres => {
                let (written_s, written_q) = (
                    Written::new(Dialect::Postgres, s),
                    Written::new(Dialect::Postgres, q),
                );
                let found = (0..self.scopes.len()).rev().find_map(|d| {
                    self.scopes[d]
                        .relations
                        .iter()
                        .position(|r| {
                            r.table.is_some_and(|t| {
                                r.name == t.name
                                    && written_q.names(&t.name)
                                    && t.schema.as_deref().is_some_and(|ts| written_s.names(ts))
                            })
                        })
                        .map(|i| (d, i))
                });
                match found {
                    Some((depth, i)) => self.resolve_in_relation(depth, i, c),
                    None if self.find_relation(s).is_some() => self.resolve_in(s, q),
                    None => Err(Rejection::new(
                        RejectRule::UnknownTable,
                        format!(
                            "`{s}.{q}` is no table of FROM without an alias; qualify columns with the table or alias of FROM"
                        ),
                    )),
                }
            }
            [s, q, c] => match self.find_relation(q) {
                Some((depth, i)) => {
                    let rel = &self.scopes[depth].relations[i];
                    let qualifies = rel.table.is_some_and(|t| match self.policy.dialect {
                        Dialect::Postgres => t
                            .schema
                            .as_deref()
                            .is_some_and(|ts| Written::new(Dialect::Postgres, s).names(ts)),
                        Dialect::Mysql => s.value == self.policy.catalog.database,
                        Dialect::Sqlite => s.value.eq_ignore_ascii_case("main"),
                    });
                    if !qualifies {
                        return Err(Rejection::new(
                            RejectRule::UnknownTable,
                            format!(
                                "`{s}.{q}` is not a table of this query; qualify columns with the table or alias of FROM"
                            ),
                        ));
                    }
                    self.resolve_in(q, c)
                }
                None if self.policy.dialect == Dialect::Postgres
                    && self.find_relation(s).is_some() =>
                {
                    self.resolve_in(s, q)
                }
                None => Err(self.unknown_relation(q)),
            },
            _ => Err(Rejection::new(
                RejectRule::Unsupported,
                format!(
                    "the name `{}` has too many parts; write `table.column` with the table or alias of FROM",
                    parts
                        .iter()
                        .map(|p| p.value.as_str())
                        .collect::<Vec<_>>()
                        .join(".")
                ),
            )),
        }
    }

    /// Resolves `qualifier.column`.
    ///
    /// The innermost relation called `qualifier` that has the column binds it; where that
    /// relation lacks it, SQLite looks further out for another relation of that name, so the
    /// scopes beyond are searched too, and a relation of unknown columns on the way makes each
    /// later candidate one to check.
    fn resolve_in(&mut self, qualifier: &Ident, column: &Ident) -> Result<(), Rejection> {
        let written_qualifier = Written::new(self.policy.dialect, qualifier);
        let written_column = Written::new(self.policy.dialect, column);
        let rowid = self.is_rowid(column);
        let mut innermost: Option<(usize, usize)> = None;
        let mut may_bind_before = false;
        for depth in (0..self.scopes.len()).rev() {
            let named: Vec<usize> = self.scopes[depth]
                .relations
                .iter()
                .enumerate()
                .filter(|(_, r)| written_qualifier.names(&r.name))
                .map(|(i, _)| i)
                .collect();
            // Two relations of one scope may share a name (SQLite): each that has the column
            // is a candidate.
            let mut bound = false;
            for i in named {
                innermost.get_or_insert((depth, i));
                self.check_barrier(depth, &qualifier.value)?;
                let rel = &self.scopes[depth].relations[i];
                if let Some(c) = rel.columns.names.iter().find(|c| written_column.names(c)) {
                    let name = c.clone();
                    self.check_denied(depth, i, &name)?;
                    self.note_reference(depth, i);
                    self.note_column(depth, i, &name);
                    bound = true;
                    continue;
                }
                if rowid && rel.table.is_some() {
                    self.note_reference(depth, i);
                    return self.read_rowid(Some((depth, i)));
                }
                if rel.columns.open {
                    self.note_reference(depth, i);
                    may_bind_before = true;
                }
            }
            if bound {
                return Ok(());
            }
        }
        if may_bind_before {
            self.check_cte_guess(&column.value)?;
        }
        if may_bind_before || rowid {
            return Ok(());
        }
        let Some((depth, i)) = innermost else {
            return Err(self.unknown_relation(qualifier));
        };
        let rel = &self.scopes[depth].relations[i];
        let visible = rel
            .columns
            .names
            .iter()
            .filter(|c| !rel.table.is_some_and(|t| self.policy.is_denied(t, c)));
        let hint = match nearest(&column.value, visible.map(String::as_str)) {
            Some(best) => format!("did you mean `{best}`?"),
            None => "use one of its columns".to_string(),
        };
        Err(Rejection::new(
            RejectRule::UnknownColumn,
            format!(
                "no column `{}` in {}; {hint}",
                column.value,
                display_name(&rel.name)
            ),
        ))
    }

    /// Resolves `column` in relation `relation` of scope `depth`.
    fn resolve_in_relation(
        &mut self,
        depth: usize,
        relation: usize,
        column: &Ident,
    ) -> Result<(), Rejection> {
        self.check_barrier(depth, &column.value)?;
        let written = Written::new(self.policy.dialect, column);
        let rel = &self.scopes[depth].relations[relation];
        match rel.columns.names.iter().find(|c| written.names(c)).cloned() {
            Some(name) => {
                self.check_denied(depth, relation, &name)?;
                self.note_reference(depth, relation);
                self.note_column(depth, relation, &name);
                Ok(())
            }
            None => Err(Rejection::new(
                RejectRule::UnknownColumn,
                format!(
                    "no column `{}` in {}",
                    column.value,
                    display_name(&rel.name)
                ),
            )),
        }
    }

    /// SQLite's rowid read through relation `at`, or unqualified: the rowid of a table whose
    /// primary key is one `INTEGER` column is that column, and reading it reads the column.
    /// Unqualified, it is the rowid of a table of the innermost scope that has one.
    fn read_rowid(&mut self, at: Option<(usize, usize)>) -> Result<(), Rejection> {
        let candidates: Vec<(usize, usize)> = match at {
            Some(one) => vec![one],
            None => (0..self.scopes.len())
                .rev()
                .map(|d| {
                    (0..self.scopes[d].relations.len())
                        .filter(|&i| self.scopes[d].relations[i].table.is_some())
                        .map(|i| (d, i))
                        .collect::<Vec<_>>()
                })
                .find(|v| !v.is_empty())
                .unwrap_or_default(),
        };
        for (depth, i) in candidates {
            let Some(table) = self.scopes[depth].relations[i].table else {
                continue;
            };
            if let [key] = table.primary_key.as_slice()
                && let Some(column) = table.columns.iter().find(|c| &c.name == key)
                && column.data_type.eq_ignore_ascii_case("integer")
            {
                let name = column.name.clone();
                self.check_denied(depth, i, &name)?;
                self.note_reference(depth, i);
                self.note_column(depth, i, &name);
            }
        }
        Ok(())
    }

    /// The relation `name` in scope, innermost first, as (depth, index).
    /// Every relation of the innermost scope that has one called `name`: SQLite lets two FROM
    /// items share a name, and expands `name.*` to the columns of both.
    pub(crate) fn find_relations(&self, name: &Ident) -> Option<(usize, Vec<usize>)> {
        let written = Written::new(self.policy.dialect, name);
        (0..self.scopes.len()).rev().find_map(|d| {
            let found: Vec<usize> = self.scopes[d]
                .relations
                .iter()
                .enumerate()
                .filter(|(_, r)| written.names(&r.name))
                .map(|(i, _)| i)
                .collect();
            (!found.is_empty()).then_some((d, found))
        })
    }

    pub(crate) fn find_relation(&self, name: &Ident) -> Option<(usize, usize)> {
        let written = Written::new(self.policy.dialect, name);
        (0..self.scopes.len()).rev().find_map(|d| {
            self.scopes[d]
                .relations
                .iter()
                .position(|r| written.names(&r.name))
                .map(|i| (d, i))
        })
    }

    /// A refusal for a qualifier that names no relation in scope.
    pub(crate) fn unknown_relation(&self, qualifier: &Ident) -> Rejection {
        let names = self
            .scopes
            .iter()
            .flat_map(|s| s.relations.iter().map(|r| r.name.as_str()));
        let hint = match nearest(&qualifier.value, names) {
            Some(best) => format!("did you mean `{best}`?"),
            None => "qualify columns with a table name or alias from FROM".to_string(),
        };
        Rejection::new(
            RejectRule::UnknownTable,
            format!(
                "no table or alias `{}` in this query; {hint}",
                qualifier.value
            ),
        )
    }

    /// Reads every column of relation `relation` of scope `depth` (`*`, `t.*`, a whole-row
    /// reference): refused when one of them is restricted.
    pub(crate) fn read_all(&mut self, depth: usize, relation: usize) -> Result<(), Rejection> {
        let rel = &self.scopes[depth].relations[relation];
        let Some(t) = rel.table else {
            return Ok(());
        };
        if let Some(c) = rel
            .columns
            .names
            .iter()
            .map(|c| rel.catalog_name(c))
            .find(|c| self.policy.is_denied(t, c))
        {
            return Err(Rejection::new(
                RejectRule::DeniedColumn,
                format!(
                    "`*` (or a whole-row reference to `{}`) would read the restricted column `{}.{c}`; list the \
                     columns you need instead, leaving `{c}` out",
                    rel.name, t.name
                ),
            ));
        }
        // Every column of the table: `*` and whole rows read those an alias list renamed too.
        self.columns.extend(t.columns.iter().map(|c| ColumnRead {
            table: t,
            column: &c.name,
        }));
        Ok(())
    }
}

/// A relation's name for a message; unnamed ones are subqueries or a set operation's result.
pub(crate) fn display_name(name: &str) -> String {
    if name.is_empty() {
        "the unnamed subquery or result".to_string()
    } else {
        format!("`{name}`")
    }
}

fn denied(table: &Table, column: &str) -> Rejection {
    Rejection::new(
        RejectRule::DeniedColumn,
        format!(
            "column `{}.{column}` is restricted and cannot be read; leave it out of the query",
            table.name
        ),
    )
}

/// A refusal for a user or system variable.
pub(crate) fn variable(name: &str) -> Rejection {
    Rejection::new(
        RejectRule::Variable,
        format!(
            "variables and parameters such as `{name}` are not allowed; write literal values instead"
        ),
    )
}

/// The candidate nearest to `name` by case-insensitive edit distance, when it is close enough
/// to be a plausible typo.
pub(crate) fn nearest<'c>(
    name: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    let target = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = levenshtein(&target, &c.to_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let limit = (target.chars().count() / 2).max(2);
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c)
}

/// The Levenshtein distance between two strings, over characters.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_names_agree_with_catalog_matching() {
        use crate::catalog::identifier_matches;
        let idents = [
            Ident::new("Total"),
            Ident::new("total"),
            Ident::with_quote('"', "Total"),
        ];
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            for id in &idents {
                for actual in ["Total", "total", "TOTAL", "other"] {
                    assert_eq!(
                        Written::new(d, id).names(actual),
                        identifier_matches(d, actual, &id.value, id.quote_style.is_some()),
                        "{d} {id} {actual}"
                    );
                }
            }
        }
    }

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn nearest_is_case_insensitive_and_bounded() {
        let names = ["CustomerId", "InvoiceDate", "Total"];
        assert_eq!(
            nearest("custmer_id", names.iter().copied()),
            Some("CustomerId")
        );
        assert_eq!(nearest("TOTL", names.iter().copied()), Some("Total"));
        assert_eq!(nearest("zzzzzzzzzz", names.iter().copied()), None);
    }
}
