//! From the query representation to SQL text in the source's dialect.

mod patterns;

use crate::{
    catalog::Catalog,
    dialect::Dialect,
    error::Result,
    semantic::{Item, Semantic},
};

use super::{
    cannot_answer,
    ir::{
        Agg, ColumnRef, Dimension, Filter, Literal, Measure, MeasureArg, OrderKey, QueryIr, Share,
        TimeBucket,
    },
    joins::{JoinStep, SchemaGraph},
};

/// Quotes an identifier when the dialect needs it (mixed case on PostgreSQL, reserved words,
/// characters other than letters, digits and `_`).
pub fn quote_ident(dialect: Dialect, name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !is_reserved(name)
        && !(dialect == Dialect::Postgres && name.chars().any(|c| c.is_ascii_uppercase()));
    if plain {
        return name.to_string();
    }
    dialect.quote_identifier(name)
}

fn is_reserved(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "all",
        "and",
        "as",
        "asc",
        "between",
        "by",
        "case",
        "cast",
        "check",
        "column",
        "create",
        "cross",
        "current",
        "date",
        "default",
        "delete",
        "desc",
        "distinct",
        "drop",
        "else",
        "end",
        "except",
        "exists",
        "from",
        "full",
        "group",
        "having",
        "in",
        "index",
        "inner",
        "insert",
        "intersect",
        "into",
        "is",
        "join",
        "key",
        "left",
        "like",
        "limit",
        "match",
        "natural",
        "not",
        "null",
        "of",
        "offset",
        "on",
        "or",
        "order",
        "outer",
        "primary",
        "range",
        "rank",
        "references",
        "right",
        "row",
        "rows",
        "select",
        "set",
        "table",
        "then",
        "time",
        "timestamp",
        "to",
        "union",
        "unique",
        "update",
        "user",
        "using",
        "values",
        "when",
        "where",
        "window",
        "with",
        "year",
        "month",
        "day",
    ];
    RESERVED.contains(&name.to_ascii_lowercase().as_str())
}

/// Renders SQL for a query.
#[derive(Debug)]
pub struct SqlWriter<'a> {
    catalog: &'a Catalog,
    graph: &'a SchemaGraph,
    semantic: Option<&'a Semantic>,
    values: Option<&'a crate::values::ValueIndex>,
    qualify: bool,
}

/// What kind of model item a query names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ModelKind {
    Dimension,
    Measure,
    Filter,
}

/// The model item of `kind` named `name` on the catalog table `table`.
pub(crate) fn model_item(
    semantic: &Semantic,
    table: &str,
    kind: ModelKind,
    name: &str,
) -> Option<Item> {
    let model = semantic.model();
    semantic
        .tables()
        .iter()
        .enumerate()
        .filter(|(_, b)| b.name == table)
        .find_map(|(ti, _)| {
            let t = &model.tables[ti];
            match kind {
                ModelKind::Dimension => t
                    .dimensions
                    .iter()
                    .position(|d| d.name == name)
                    .map(|i| Item::Dimension(ti, i)),
                ModelKind::Measure => t
                    .measures
                    .iter()
                    .position(|d| d.name == name)
                    .map(|i| Item::Measure(ti, i)),
                ModelKind::Filter => t
                    .filters
                    .iter()
                    .position(|d| d.name == name)
                    .map(|i| Item::Filter(ti, i)),
            }
        })
}

/// `expr` (SQL over `table`'s own columns) with each of `columns` written `table.column`: the
/// names are found by the database's own tokenizer, so string literals and function names are
/// left as they are. `None` when the expression does not tokenize.
pub(crate) fn qualify_expr(
    dialect: Dialect,
    expr: &str,
    table: &str,
    columns: &[String],
) -> Option<String> {
    use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};
    use sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = match dialect {
        Dialect::Sqlite => Tokenizer::new(&SQLiteDialect {}, expr),
        Dialect::Postgres => Tokenizer::new(&PostgreSqlDialect {}, expr),
        Dialect::Mysql => Tokenizer::new(&MySqlDialect {}, expr),
    }
    .with_unescape(false)
    .tokenize()
    .ok()?;
    let significant = |i: usize, step: isize| {
        let mut j = i as isize + step;
        while j >= 0 && (j as usize) < tokens.len() {
            if !matches!(tokens[j as usize], Token::Whitespace(_)) {
                return Some(&tokens[j as usize]);
            }
            j += step;
        }
        None
    };
    let mut out = String::with_capacity(expr.len() + 16);
    for (i, t) in tokens.iter().enumerate() {
        if let Token::Word(w) = t
            && let Some(c) = columns.iter().find(|c| {
                if w.quote_style.is_some() {
                    **c == w.value
                } else {
                    c.eq_ignore_ascii_case(&w.value)
                }
            })
            && !matches!(significant(i, -1), Some(Token::Period))
            && !matches!(significant(i, 1), Some(Token::LParen | Token::Period))
        {
            out.push_str(&quote_ident(dialect, table));
            out.push('.');
            out.push_str(&quote_ident(dialect, c));
            continue;
        }
        out.push_str(&t.to_string());
    }
    Some(out)
}

impl<'a> SqlWriter<'a> {
    /// A writer for `catalog`, joining along `graph`.
    pub fn new(catalog: &'a Catalog, graph: &'a SchemaGraph) -> Self {
        Self {
            catalog,
            graph,
            semantic: None,
            values: None,
            qualify: false,
        }
    }

    /// Reads the text columns `values` found to hold numbers as numbers (`CAST`) wherever they
    /// are totalled, averaged, compared or sorted.
    pub fn with_values(mut self, values: &'a crate::values::ValueIndex) -> Self {
        self.values = Some(values);
        self
    }

    /// Writes the semantic model's items (measures, dimensions, filters) from `semantic`.
    pub fn with_semantic(mut self, semantic: Option<&'a Semantic>) -> Self {
        self.semantic = semantic;
        self
    }

    /// The SQL of a model item on the catalog table `table`, its columns qualified when the
    /// query joins.
    fn model_sql(&self, table: &str, kind: ModelKind, name: &str) -> Result<String> {
        let missing = || {
            cannot_answer(
                format!("the semantic model has no {name:?} on {table} (any more)"),
                Vec::new(),
            )
        };
        let semantic = self.semantic.ok_or_else(missing)?;
        let item = model_item(semantic, table, kind, name).ok_or_else(missing)?;
        let sql = semantic.sql(item);
        if !self.qualify {
            return Ok(sql);
        }
        qualify_expr(self.dialect(), &sql, table, semantic.columns(item)).ok_or_else(|| {
            cannot_answer(
                format!("the semantic model's {name:?} could not be read"),
                Vec::new(),
            )
        })
    }

    fn dialect(&self) -> Dialect {
        self.catalog.dialect
    }

    /// Whether `table.column` holds text (not numbers or dates).
    fn is_text(&self, table: &str, column: &str) -> bool {
        self.catalog
            .tables
            .iter()
            .find(|t| t.name == table)
            .and_then(|t| t.columns.iter().find(|c| c.name == column))
            .is_some_and(|c| {
                super::linker::kind_of(&c.data_type, &c.name) == super::linker::ColumnKind::Text
            })
    }

    fn table_name(&self, table: &str) -> String {
        let t = self.catalog.tables.iter().find(|t| t.name == table);
        match t.and_then(|t| t.schema.as_ref()) {
            Some(s) if s != "public" => format!(
                "{}.{}",
                quote_ident(self.dialect(), s),
                quote_ident(self.dialect(), table)
            ),
            _ => quote_ident(self.dialect(), table),
        }
    }

    fn col(&self, c: &ColumnRef) -> String {
        if self.qualify {
            format!(
                "{}.{}",
                quote_ident(self.dialect(), &c.table),
                quote_ident(self.dialect(), &c.column)
            )
        } else {
            quote_ident(self.dialect(), &c.column)
        }
    }

    /// The column as a number: text that holds numbers is cast, so that comparisons and
    /// sorting are numeric (`'9' < '10'`) and totals work on every dialect.
    fn num(&self, c: &ColumnRef) -> String {
        self.num_of(c, self.col(c))
    }

    /// `expr`, which reads column `c`, cast as [`num`](Self::num) casts the column.
    fn num_of(&self, c: &ColumnRef, expr: String) -> String {
        if !self.values.is_some_and(|v| v.is_numeric_text(c)) {
            return expr;
        }
        match self.dialect() {
            Dialect::Mysql => format!("CAST({expr} AS DOUBLE)"),
            Dialect::Sqlite | Dialect::Postgres => format!("CAST({expr} AS NUMERIC)"),
        }
    }

    /// The column as compared with `value`: as a number when the value is one.
    fn compared(&self, c: &ColumnRef, value: Option<&Literal>) -> String {
        match value {
            Some(Literal::Number(_)) => self.num(c),
            Some(Literal::Text(_)) | None => self.col(c),
        }
    }

    fn time(&self, c: &ColumnRef, bucket: TimeBucket) -> String {
        let col = self.col(c);
        let (sqlite, pg) = match bucket {
            TimeBucket::Year => ("%Y", "YYYY"),
            TimeBucket::YearMonth => ("%Y-%m", "YYYY-MM"),
            TimeBucket::Month => ("%m", "MM"),
            TimeBucket::Day => ("%Y-%m-%d", "YYYY-MM-DD"),
        };
        match self.dialect() {
            Dialect::Sqlite => format!("strftime('{sqlite}', {col})"),
            Dialect::Postgres => format!("to_char({col}, '{pg}')"),
            Dialect::Mysql => format!("DATE_FORMAT({col}, '{sqlite}')"),
        }
    }

    fn measure(&self, m: &Measure, ir: &QueryIr, fans_out: bool) -> Result<String> {
        if let MeasureArg::Model { table, name } = &m.arg {
            let model = self.semantic.and_then(|s| {
                model_item(s, table, ModelKind::Measure, name).map(|i| {
                    s.model().tables[i.table()].measures[match i {
                        Item::Measure(_, k) => k,
                        _ => 0,
                    }]
                    .aggregation
                })
            });
            use crate::semantic::Aggregation as A;
            if fans_out && !matches!(model, Some(A::Min | A::Max | A::CountDistinct)) {
                // Each row of the measure's table would be counted once per joined row.
                return Err(cannot_answer(
                    format!(
                        "the {name} is computed over {table} rows, and the question joins it to tables with several rows for each, which would count them more than once"
                    ),
                    Vec::new(),
                ));
            }
            return self.model_sql(table, ModelKind::Measure, name);
        }
        Ok(self.plain_measure(m, ir, fans_out))
    }

    fn plain_measure(&self, m: &Measure, ir: &QueryIr, fans_out: bool) -> String {
        let f = match m.agg {
            Agg::Count | Agg::CountDistinct => "COUNT",
            Agg::Sum => "SUM",
            Agg::Avg => "AVG",
            Agg::Min => "MIN",
            Agg::Max => "MAX",
        };
        let distinct = if m.agg == Agg::CountDistinct {
            "DISTINCT "
        } else {
            ""
        };
        match &m.arg {
            MeasureArg::Rows { table } => {
                let pk = self
                    .catalog
                    .tables
                    .iter()
                    .find(|t| &t.name == table)
                    .map(|t| t.primary_key.clone())
                    .unwrap_or_default();
                if fans_out && pk.len() == 1 {
                    format!(
                        "COUNT(DISTINCT {})",
                        self.col(&ColumnRef::new(table, &pk[0]))
                    )
                } else {
                    let _ = ir;
                    "COUNT(*)".to_string()
                }
            }
            MeasureArg::Column { column } if matches!(m.agg, Agg::Count | Agg::CountDistinct) => {
                format!("{f}({distinct}{})", self.col(column))
            }
            MeasureArg::Column { column } => format!("{f}({})", self.num(column)),
            MeasureArg::Product { left, right } => {
                format!("{f}({} * {})", self.num(left), self.num(right))
            }
            MeasureArg::Model { .. } => String::new(),
        }
    }

    fn literal(&self, l: &Literal) -> String {
        match l {
            Literal::Number(n) => number(*n),
            Literal::Text(s) => self.dialect().quote_string(s),
        }
    }

    fn filter(&self, f: &Filter) -> Result<String> {
        if let Filter::Model { column, name } = f {
            return Ok(format!(
                "({})",
                self.model_sql(&column.table, ModelKind::Filter, name)?
            ));
        }
        Ok(match f {
            Filter::Model { .. } => String::new(),
            Filter::Compare { column, op, value } => {
                format!(
                    "{} {} {}",
                    self.compared(column, Some(value)),
                    op.sql(),
                    self.literal(value)
                )
            }
            Filter::AnyOf { column, values } => {
                let v: Vec<String> = values.iter().map(|l| self.literal(l)).collect();
                let col = self.compared(column, values.first());
                format!("{col} IN ({})", v.join(", "))
            }
            Filter::Between { column, low, high } => format!(
                "{} BETWEEN {} AND {}",
                self.compared(column, Some(low)),
                self.literal(low),
                self.literal(high)
            ),
            Filter::Period {
                column,
                year,
                month,
            } => {
                let col = self.col(column);
                match (self.dialect(), month) {
                    (Dialect::Sqlite, None) => format!("strftime('%Y', {col}) = '{year}'"),
                    (Dialect::Sqlite, Some(m)) => {
                        format!("strftime('%Y-%m', {col}) = '{year}-{m:02}'")
                    }
                    (Dialect::Postgres, None) => format!("EXTRACT(YEAR FROM {col}) = {year}"),
                    (Dialect::Postgres, Some(m)) => format!(
                        "EXTRACT(YEAR FROM {col}) = {year} AND EXTRACT(MONTH FROM {col}) = {m}"
                    ),
                    (Dialect::Mysql, None) => format!("YEAR({col}) = {year}"),
                    (Dialect::Mysql, Some(m)) => {
                        format!("YEAR({col}) = {year} AND MONTH({col}) = {m}")
                    }
                }
            }
            Filter::VsAggregate {
                column,
                op,
                agg,
                factor,
            } => {
                // The subquery reads the column unqualified: its own FROM is the nearest scope.
                let f = match agg {
                    Agg::Count | Agg::CountDistinct => "COUNT",
                    Agg::Sum => "SUM",
                    Agg::Avg => "AVG",
                    Agg::Min => "MIN",
                    Agg::Max => "MAX",
                };
                let scale = if *factor == 1.0 {
                    String::new()
                } else {
                    format!("{} * ", number(*factor))
                };
                // The subquery's column, cast as the outer one is when it holds numbers as text.
                let inner = self.num_of(column, quote_ident(self.dialect(), &column.column));
                format!(
                    "{} {} {scale}(SELECT {f}({inner}) FROM {})",
                    self.num(column),
                    op.sql(),
                    self.table_name(&column.table)
                )
            }
            Filter::GroupExtreme { column, group, max } => {
                // The outer columns are always qualified: inside the subquery an unqualified
                // name would be the peer's own.
                let d = self.dialect();
                let table = self.table_name(&column.table);
                let outer = |c: &str| format!("{table}.{}", quote_ident(d, c));
                let peer = |c: &str| format!("peer.{}", quote_ident(d, c));
                format!(
                    "{} = (SELECT {}({}) FROM {table} AS peer WHERE {} = {})",
                    outer(&column.column),
                    if *max { "MAX" } else { "MIN" },
                    peer(&column.column),
                    peer(&group.column),
                    outer(&group.column)
                )
            }
            Filter::Date { column, op, date } => {
                let lit = match self.dialect() {
                    Dialect::Postgres => format!("DATE '{date}'"),
                    _ => format!("'{date}'"),
                };
                format!("{} {} {lit}", self.col(column), op.sql())
            }
            Filter::Like {
                column,
                position,
                text,
                negated,
            } => self.like(column, *position, text, *negated),
            Filter::Exists {
                column,
                table,
                filters,
                negated,
            } => self.exists(column, table, filters, *negated)?,
            Filter::NoneOf { column, values } => {
                let v: Vec<String> = values.iter().map(|l| self.literal(l)).collect();
                let col = self.compared(column, values.first());
                format!("{col} NOT IN ({})", v.join(", "))
            }
            Filter::Either { filters, .. } => {
                let any: Vec<String> = filters
                    .iter()
                    .map(|f| self.filter(f))
                    .collect::<Result<_>>()?;
                format!("({})", any.join(" OR "))
            }
        })
    }

    /// The measure of a percentage ([`Share`]), or `measure` as it is. The divisor is wrapped
    /// in `NULLIF(..., 0)` so that no rows give no value rather than a division error
    /// (PostgreSQL).
    fn share(
        &mut self,
        ir: &QueryIr,
        measure: Option<String>,
        fans_out: bool,
    ) -> Result<Option<String>> {
        let Some(share) = &ir.share else {
            return Ok(measure);
        };
        if fans_out {
            return Err(cannot_answer(
                "the percentage would count rows once for each joined row".to_string(),
                Vec::new(),
            ));
        }
        match share {
            Share::Rows { conditions } => {
                let c: Vec<String> = conditions
                    .iter()
                    .map(|f| self.filter(f))
                    .collect::<Result<_>>()?;
                Ok(Some(format!(
                    "100.0 * SUM(CASE WHEN {} THEN 1 ELSE 0 END) / NULLIF(COUNT(*), 0)",
                    c.join(" AND ")
                )))
            }
            Share::OfTotal => {
                let (Some(m), Some(sql)) = (&ir.measure, measure) else {
                    return Err(cannot_answer(
                        "I could not tell what the percentage is of".to_string(),
                        Vec::new(),
                    ));
                };
                // The whole table's total, its columns unqualified inside its own FROM.
                let qualify = self.qualify;
                self.qualify = false;
                let whole = self.plain_measure(m, ir, false);
                self.qualify = qualify;
                let table = self.table_name(super::ir::measure_table(m));
                Ok(Some(format!(
                    "100.0 * {sql} / NULLIF((SELECT {whole} FROM {table}), 0)"
                )))
            }
        }
    }

    /// The SQL of `ir`, or an abstention when its tables cannot be joined.
    pub fn sql(&mut self, ir: &QueryIr) -> Result<String> {
        let tables = ir.tables();
        let steps = self.graph.join_tree(&ir.subject, &tables).ok_or_else(|| {
            cannot_answer(
                format!(
                    "the tables {} are not connected by foreign keys, so I cannot combine them",
                    tables.join(", ")
                ),
                Vec::new(),
            )
        })?;
        if let Some(s) = steps.iter().find(|s| s.ambiguous) {
            return Err(cannot_answer(
                format!(
                    "{} and {} are linked by more than one foreign key and the question does not say which",
                    s.parent, s.table
                ),
                Vec::new(),
            ));
        }
        if let Some(why) = shared_parent(&steps) {
            return Err(cannot_answer(why, Vec::new()));
        }
        if steps.len() >= 3 && steps.iter().any(|s| !s.to_one) {
            // Long paths through one-to-many links are where a reading most often goes wrong.
            return Err(cannot_answer(
                format!(
                    "the question links {} tables through one-to-many relations, too far apart to combine reliably",
                    steps.len() + 1
                ),
                Vec::new(),
            ));
        }
        self.qualify = !steps.is_empty();
        let fans_out = steps.iter().any(|s| !s.to_one);

        let mut select: Vec<String> = Vec::new();
        let mut group: Vec<String> = Vec::new();
        for d in &ir.group_by {
            match d {
                Dimension::Column { column } => {
                    // A grouping said twice is shown and grouped by once.
                    let c = self.col(column);
                    if !group.contains(&c) {
                        select.push(c.clone());
                        group.push(c);
                    }
                }
                Dimension::Model { table, name } => {
                    let e = self.model_sql(table, ModelKind::Dimension, name)?;
                    select.push(format!(
                        "{e} AS {}",
                        quote_ident(self.dialect(), &label_of(name))
                    ));
                    group.push(e);
                }
                Dimension::Entity { table, key, labels } => {
                    // A code people use (`DEPT_CODE`, a room's `RoomId` 'RND') is shown with
                    // the row's name; a number that only identifies the row is not.
                    let code = match key.as_slice() {
                        [k] if !labels.contains(k) && self.is_text(table, k) => Some(k),
                        _ => None,
                    };
                    for l in code.into_iter().chain(labels.iter()) {
                        select.push(self.col(&ColumnRef::new(table, l)));
                    }
                    for k in key.iter().chain(labels.iter()) {
                        let c = self.col(&ColumnRef::new(table, k));
                        if !group.contains(&c) {
                            group.push(c);
                        }
                    }
                }
                Dimension::Time { column, bucket } => {
                    let e = self.time(column, *bucket);
                    let label = match bucket {
                        TimeBucket::Year => "year",
                        TimeBucket::YearMonth | TimeBucket::Month => "month",
                        TimeBucket::Day => "day",
                    };
                    select.push(format!("{e} AS {}", quote_ident(self.dialect(), label)));
                    group.push(e);
                }
            }
        }
        for c in &ir.columns {
            let e = self.col(c);
            if !select.contains(&e) {
                select.push(e.clone());
            }
            if ir.measure.is_some() && !ir.group_by.is_empty() && !group.contains(&e) {
                group.push(e);
            }
        }
        let measure_sql = ir
            .measure
            .as_ref()
            .map(|m| self.measure(m, ir, fans_out))
            .transpose()?;
        let measure_sql = self.share(ir, measure_sql, fans_out)?;
        if let (Some(m), Some(sql)) = (&ir.measure, &measure_sql) {
            let label = if ir.share.is_some() {
                "percentage".to_string()
            } else {
                alias(m)
            };
            select.push(format!("{sql} AS {}", quote_ident(self.dialect(), &label)));
            let mut labels = vec![label];
            for m in &ir.also {
                let sql = self.measure(m, ir, fans_out)?;
                let mut label = alias(m);
                while labels.contains(&label) {
                    label.push_str("_2");
                }
                select.push(format!("{sql} AS {}", quote_ident(self.dialect(), &label)));
                labels.push(label);
            }
        }
        if select.is_empty() {
            return Err(cannot_answer(
                "I found what to look at but not which columns to show".to_string(),
                Vec::new(),
            ));
        }

        let mut sql = String::from("SELECT ");
        if ir.distinct && ir.measure.is_none() {
            sql.push_str("DISTINCT ");
        }
        sql.push_str(&select.join(", "));
        sql.push_str(" FROM ");
        sql.push_str(&self.table_name(&ir.subject));
        for s in &steps {
            let on: Vec<String> =
                s.on.iter()
                    .map(|(p, c)| {
                        format!(
                            "{} = {}",
                            self.col(&ColumnRef::new(&s.parent, p)),
                            self.col(&ColumnRef::new(&s.table, c))
                        )
                    })
                    .collect();
            sql.push_str(&format!(
                " JOIN {} ON {}",
                self.table_name(&s.table),
                on.join(" AND ")
            ));
        }
        if !ir.filters.is_empty() {
            let mut outer: Vec<String> = steps.iter().map(|s| s.table.clone()).collect();
            outer.push(ir.subject.clone());
            self.check_exists(ir, &steps, &outer)?;
            let w: Vec<String> = ir
                .filters
                .iter()
                .map(|f| self.filter(f))
                .collect::<Result<_>>()?;
            sql.push_str(" WHERE ");
            sql.push_str(&w.join(" AND "));
        }
        if ir.measure.is_some() && !group.is_empty() {
            sql.push_str(" GROUP BY ");
            sql.push_str(&group.join(", "));
        }
        if !ir.having.is_empty() {
            let h: Vec<String> = ir
                .having
                .iter()
                .map(|h| {
                    Ok(format!(
                        "{} {} {}",
                        self.measure(&h.measure, ir, fans_out)?,
                        h.op.sql(),
                        number(h.value)
                    ))
                })
                .collect::<Result<_>>()?;
            sql.push_str(" HAVING ");
            sql.push_str(&h.join(" AND "));
        }
        let order = match &ir.order {
            Some(o) => {
                let key = match &o.key {
                    OrderKey::Measure => measure_sql.clone(),
                    OrderKey::Column { column } => Some(self.num(column)),
                };
                key.map(|k| format!("{k} {}", if o.descending { "DESC" } else { "ASC" }))
            }
            None => ir.group_by.iter().find_map(|d| match d {
                Dimension::Time { column, bucket } => Some(self.time(column, *bucket)),
                _ => None,
            }),
        };
        if let Some(o) = order {
            sql.push_str(" ORDER BY ");
            sql.push_str(&o);
        }
        if let Some(n) = ir.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        Ok(sql)
    }
}

/// The result label of a measure (`count`, `total_unit_price`, ...).
pub fn alias(m: &Measure) -> String {
    let col = |c: &ColumnRef| crate::text::identifier_words(&c.column).join("_");
    match (&m.arg, m.agg) {
        (MeasureArg::Model { name, .. }, _) => label_of(name),
        (MeasureArg::Rows { .. }, _) => "count".into(),
        (MeasureArg::Product { .. }, Agg::Sum) => "revenue".into(),
        (MeasureArg::Product { left, right }, _) => {
            format!("{}_{}_{}", agg_word(m.agg), col(left), col(right))
        }
        (MeasureArg::Column { column }, agg) => {
            let c = col(column);
            if agg == Agg::Sum && c == "total" {
                "total".into()
            } else {
                format!("{}_{c}", agg_word(agg))
            }
        }
    }
}

/// A result label from a model item's name: its words, lower case, joined by `_`.
fn label_of(name: &str) -> String {
    let words = crate::text::identifier_words(name);
    let label: Vec<String> = words
        .iter()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if label.is_empty() {
        "value".into()
    } else {
        label.join("_")
    }
}

fn agg_word(agg: Agg) -> &'static str {
    match agg {
        Agg::Count => "count",
        Agg::CountDistinct => "distinct",
        Agg::Sum => "total",
        Agg::Avg => "average",
        Agg::Min => "min",
        Agg::Max => "max",
    }
}

/// A number as SQL: integers without a fraction.
pub fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Why `steps` cannot be trusted when they relate two tables only through a row both point
/// to (a shared parent, [`JoinStep::shared_parent`]).
fn shared_parent(steps: &[JoinStep]) -> Option<String> {
    let s = steps.iter().find(|s| s.shared_parent)?;
    let from = steps
        .iter()
        .find(|p| p.table == s.parent)
        .map_or(s.parent.as_str(), |p| p.parent.as_str());
    Some(format!(
        "{from} and {} are related only by pointing to the same {} row, and the question does not say how they relate",
        s.table, s.parent
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(quote_ident(Dialect::Sqlite, "InvoiceDate"), "InvoiceDate");
        assert_eq!(quote_ident(Dialect::Sqlite, "order"), "\"order\"");
        assert_eq!(quote_ident(Dialect::Postgres, "Invoice"), "\"Invoice\"");
        assert_eq!(quote_ident(Dialect::Postgres, "invoice"), "invoice");
        assert_eq!(
            quote_ident(Dialect::Mysql, "Order Details"),
            "`Order Details`"
        );
        assert_eq!(number(300000.0), "300000");
        assert_eq!(number(2.5), "2.5");
    }
}
