//! Value grounding: an index of the distinct values of low-cardinality text columns, so that
//! "in Germany" becomes `Country = 'Germany'` and "Rock tracks" finds the genre named Rock.
//!
//! The index is built once per catalog by bounded queries (one `SELECT DISTINCT ... LIMIT` per
//! text column) and held in memory under a total cap; lookups are pure.
//!
//! Those queries are the engine's own SQL, but the names in them come from the database and are
//! as untrusted as any input: each is quoted for its dialect by the project's escaper (see
//! [`crate::sql::quote`], reached through [`Dialect`](crate::Dialect): always quoted, the
//! closing quote doubled) and every statement passes the validator before it runs, exactly as
//! generated SQL does. A statement the validator refuses costs its column, nothing more. The
//! index is built from the catalog the access policy lets be seen (see
//! [`DataSource::visible_catalog`](crate::DataSource::visible_catalog)), so a denied column's
//! values are never read.
//!
//! The index belongs to the data source, which builds it once, and is read by the rule
//! generator, the LLM prompt and the semantic cache alike; it reads text with [`crate::text`]
//! only, so that none of them depends on another to know a value.

use std::collections::HashMap;

use crate::{
    catalog::{Catalog, Column, ColumnRef, Table},
    error::Result,
    exec::{Executor, QueryResult, Value},
    sql::Validator,
    text,
};

/// Bounds of a [`ValueIndex`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueIndexLimits {
    /// Columns with more distinct values than this are left out.
    pub max_distinct_per_column: usize,
    /// The same bound for a table's name or title column, which questions name most often.
    pub max_distinct_label_column: usize,
    /// Longer values are left out.
    pub max_value_chars: usize,
    /// At most this many values over all columns.
    pub max_total_values: usize,
}

impl Default for ValueIndexLimits {
    fn default() -> Self {
        Self {
            max_distinct_per_column: 200,
            max_distinct_label_column: 1000,
            max_value_chars: 60,
            max_total_values: 50_000,
        }
    }
}

/// A known value of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueHit {
    /// The column holding the value.
    pub column: ColumnRef,
    /// The value exactly as stored.
    pub value: String,
}

/// Distinct values of text columns, looked up by their words.
#[derive(Debug, Clone, Default)]
pub struct ValueIndex {
    by_phrase: HashMap<String, Vec<ValueHit>>,
    /// Words a question uses for a coded value ("female" for the `F` of a `sex` column).
    by_word: HashMap<String, Vec<ValueHit>>,
    max_words: usize,
    /// The most words of a phrase starting with each first word.
    longest_from: HashMap<String, usize>,
    total: usize,
    /// Text columns whose values read are all plain numbers (`room_count` stored as text).
    numeric_text: std::collections::HashSet<ColumnRef>,
    /// Values too short or too common to be found by their words (`F`, `M`, `1`), by their
    /// exact text: a question names them after their column ("sex is F").
    codes: HashMap<String, Vec<ValueHit>>,
}

impl ValueIndex {
    /// An index that knows no values.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Reads the distinct values of every low-cardinality text column of `catalog` through
    /// `executor`, within `limits`. Every statement is first judged by `validator` (see
    /// [`read_distinct`]); a column whose statement is refused or fails is skipped.
    ///
    /// `catalog` is the catalog whose values may be read (for a data source, its
    /// [visible catalog](crate::DataSource::visible_catalog)); the validator may hold the whole
    /// one.
    pub async fn build(
        executor: &dyn Executor,
        validator: &Validator,
        catalog: &Catalog,
        limits: &ValueIndexLimits,
    ) -> Result<Self> {
        Self::build_under(executor, validator, None, catalog, limits).await
    }

    /// [`build`](Self::build) with each read under a principal's data policy, so that only the
    /// values of rows the principal may see are known.
    pub(crate) async fn build_under(
        executor: &dyn Executor,
        validator: &Validator,
        policy: Option<&crate::access::BoundPolicy>,
        catalog: &Catalog,
        limits: &ValueIndexLimits,
    ) -> Result<Self> {
        let mut index = Self::empty();
        'tables: for table in &catalog.tables {
            for column in &table.columns {
                if !is_candidate(table, column) {
                    continue;
                }
                let cap = if is_label_name(&column.name) {
                    limits.max_distinct_label_column
                } else {
                    limits.max_distinct_per_column
                };
                let Some(result) =
                    read_distinct(executor, validator, policy, catalog, table, column, cap + 1)
                        .await
                else {
                    continue;
                };
                let column_ref = ColumnRef::new(&table.name, &column.name);
                if holds_numbers(&column.name, &result.rows) {
                    // Read as numbers (totals, averages, comparisons), not as names of things.
                    index.numeric_text.insert(column_ref);
                    continue;
                }
                if result.rows.len() > cap || result.truncated {
                    continue;
                }
                for row in &result.rows {
                    if let Some(Value::Text(v)) = row.first()
                        && v.chars().count() <= limits.max_value_chars
                    {
                        index.insert(column_ref.clone(), v);
                    }
                    if index.total >= limits.max_total_values {
                        break 'tables;
                    }
                }
            }
        }
        Ok(index)
    }

    /// Adds one value of `column`; returns whether it can ever be matched by a question.
    pub fn insert(&mut self, column: ColumnRef, value: &str) -> bool {
        for word in value_words(&column, value) {
            let hits = self.by_word.entry((*word).to_string()).or_default();
            if !hits.iter().any(|h| h.column == column) {
                hits.push(ValueHit {
                    column: column.clone(),
                    value: value.to_string(),
                });
                self.max_words = self.max_words.max(1);
            }
        }
        let key = phrase_key(value);
        if key.is_empty() || !is_groundable(&key) {
            if !value.is_empty()
                && value.chars().count() <= 3
                && value.chars().all(char::is_alphanumeric)
            {
                let hits = self.codes.entry(value.to_string()).or_default();
                if !hits.iter().any(|h| h.column == column) {
                    hits.push(ValueHit {
                        column,
                        value: value.to_string(),
                    });
                }
            }
            return false;
        }
        let hits = self.by_phrase.entry(key.clone()).or_default();
        if hits.iter().any(|h| h.column == column) {
            return false;
        }
        hits.push(ValueHit {
            column,
            value: value.to_string(),
        });
        let words = key.split(' ').count();
        self.max_words = self.max_words.max(words);
        if let Some(first) = key.split(' ').next() {
            let longest = self.longest_from.entry(first.to_string()).or_default();
            *longest = (*longest).max(words);
        }
        self.total += 1;
        true
    }

    /// The short values (`F`, `M`, `Y`) written exactly `raw`, which only their column's name
    /// before them can place ("sex is F").
    pub fn lookup_code(&self, raw: &str) -> &[ValueHit] {
        self.codes.get(raw).map_or(&[], Vec::as_slice)
    }

    /// Whether `column` is declared as text but every value read from it is a plain number.
    pub fn is_numeric_text(&self, column: &ColumnRef) -> bool {
        self.numeric_text.contains(column)
    }

    /// Marks `column` as text that holds numbers (what [`build`](Self::build) finds by reading).
    pub fn insert_numeric_text(&mut self, column: ColumnRef) {
        self.numeric_text.insert(column);
    }

    /// The values whose words are exactly `phrase` (lower case, single spaces).
    pub fn lookup(&self, phrase: &str) -> &[ValueHit] {
        match self.by_phrase.get(phrase) {
            Some(hits) => hits,
            None if !self.by_word.is_empty() && !phrase.contains(' ') => {
                self.by_word.get(phrase).map_or(&[], Vec::as_slice)
            }
            None => &[],
        }
    }

    /// Every value in the index, in no particular order.
    pub fn hits(&self) -> impl Iterator<Item = &ValueHit> {
        self.by_phrase.values().flatten()
    }

    /// The most words any value has.
    pub fn max_words(&self) -> usize {
        self.max_words
    }

    /// The most words of a value whose first word is `first` (folded, as [`lookup`](Self::lookup)
    /// takes it); at least 1, the length a single word is looked up with.
    pub fn max_words_from(&self, first: &str) -> usize {
        self.longest_from
            .get(first)
            .copied()
            .unwrap_or(1)
            .clamp(1, self.max_words.max(1))
    }

    /// How many values the index holds.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Whether the index holds no value.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// The words a question uses for a coded value: "female", "women" for `F` (or `Female`) of a
/// column named for sex or gender, "male", "men" for `M`.
fn value_words(column: &ColumnRef, value: &str) -> &'static [&'static str] {
    const FEMALE: &[&str] = &["female", "females", "woman", "women", "girl", "girls"];
    const MALE: &[&str] = &["male", "males", "man", "men", "boy", "boys"];
    let names_sex = text::identifier_words(&column.column)
        .iter()
        .any(|w| matches!(w.as_str(), "sex" | "gender"));
    if !names_sex {
        return &[];
    }
    match value.trim().to_lowercase().as_str() {
        "f" | "female" | "w" | "woman" => FEMALE,
        "m" | "male" | "man" => MALE,
        _ => &[],
    }
}

/// The lookup key of a text: its words, lower case without accents, single spaces.
pub fn phrase_key(value: &str) -> String {
    text::fold_string(
        text::tokenize(value)
            .iter()
            .map(|t| t.lower.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn is_groundable(key: &str) -> bool {
    let words: Vec<&str> = key.split(' ').collect();
    if words.len() == 1 {
        let w = words[0];
        if w.chars().count() < 2
            || text::is_stop_word(w)
            || text::word_token(w).number.is_some()
            || text::month(w).is_some()
            || text::is_query_word(w)
        {
            return false;
        }
    }
    !words
        .iter()
        .all(|w| text::is_stop_word(w) || w.chars().all(|c| c.is_ascii_digit()))
}

/// The table's name quoted for the catalog's dialect by the project's escaper
/// ([`Dialect::quote_table`](crate::Dialect::quote_table)), qualified by its schema when it has
/// one.
pub fn quote_table(catalog: &Catalog, table: &Table) -> String {
    catalog
        .dialect
        .quote_table(table.schema.as_deref(), &table.name)
}

/// The statement reading up to `limit` distinct non-null values of `table.column`.
#[cfg(test)]
fn distinct_values_sql(catalog: &Catalog, table: &Table, column: &Column, limit: usize) -> String {
    format!("{}{limit}", distinct_values_head(catalog, table, column))
}

/// the statement reading distinct values of a column, up to its `LIMIT` count.
fn distinct_values_head(catalog: &Catalog, table: &Table, column: &Column) -> String {
    let col = catalog.dialect.quote_identifier(&column.name);
    format!(
        "SELECT DISTINCT {col} FROM {} WHERE {col} IS NOT NULL LIMIT ",
        quote_table(catalog, table)
    )
}

/// Reads up to `limit` distinct values of `table.column` as generated SQL is read: the
/// statement reading distinct values must pass `validator` (its parse, its policy, its row
/// cap), and what runs is the validated statement. The engine knows what it asked for, so the
/// statement the validator renders must also be that one, word for word, with at most a lower
/// `LIMIT`: a rendering that differs would mean the validator judged one statement and the
/// database would read another. `None`, logged at debug level, when the validator refuses the
/// statement, renders it otherwise, or the database fails it.
pub(crate) async fn read_distinct(
    executor: &dyn Executor,
    validator: &Validator,
    policy: Option<&crate::access::BoundPolicy>,
    catalog: &Catalog,
    table: &Table,
    column: &Column,
    limit: usize,
) -> Option<QueryResult> {
    let head = distinct_values_head(catalog, table, column);
    let sql = format!("{head}{limit}");
    let verdict = match policy {
        Some(p) => validator.validate_with(&sql, p),
        None => validator.validate(&sql),
    };
    let validated = match verdict {
        Ok(v) => v,
        Err(e) => {
            tracing::debug!(table = %table.name, column = %column.name, error = %e, "the validator refused the read of a column's values; it is skipped");
            return None;
        }
    };
    let as_built = |rendered: &str| {
        rendered
            .strip_prefix(head.as_str())
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    // Under a data policy the statement sent reads the table through the policy, so only the
    // statement as checked can be compared with the one built.
    if !(as_built(&validated.sql) && (policy.is_some() || as_built(&validated.exec_sql))) {
        tracing::debug!(table = %table.name, column = %column.name, sql = %sql, rendered = %validated.exec_sql, "the validator rendered the read of a column's values differently; it is skipped");
        return None;
    }
    match executor.execute(&validated.exec_sql).await {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::debug!(table = %table.name, column = %column.name, error = %e, "reading a column's values failed; it is skipped");
            None
        }
    }
}

/// Whether a column's name says it holds a name or title.
pub fn is_label_name(name: &str) -> bool {
    let words = text::identifier_words(name);
    match words.last().map(String::as_str) {
        Some("name" | "title" | "label") => true,
        // `bname`, `gname`: a name with a letter of its table before it.
        Some(w) => w.len() == 5 && w.ends_with("name"),
        None => false,
    }
}

/// Whether `column` of `table` is a text column whose values may be read into the index (and
/// shown as examples): not part of a key of several columns nor a foreign key, and not contact details, free text or secrets.
/// Whether the distinct values read from a text column are all plain numbers: at least two,
/// none with a leading zero (codes such as `007` or postcodes keep their text), and the column
/// not named as a code, id or number of something (`zip`, `phone_code`, `apt_number`).
fn holds_numbers(name: &str, rows: &[Vec<Value>]) -> bool {
    let words = text::identifier_words(name);
    let named_number = words
        .last()
        .is_some_and(|w| matches!(w.as_str(), "number" | "no" | "num"));
    if named_number
        || words.iter().any(|w| {
            matches!(
                w.as_str(),
                "code" | "id" | "zip" | "postcode" | "postal" | "phone"
            )
        })
    {
        return false;
    }
    let number = |v: &str| {
        let v = v.trim();
        let digits = v.strip_prefix('-').unwrap_or(v);
        !digits.is_empty()
            && digits.len() <= 18
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.chars().filter(|&c| c == '.').count() <= 1
            && digits.chars().next().is_some_and(|c| c.is_ascii_digit())
            && !(digits.starts_with('0') && digits.len() > 1 && !digits.starts_with("0."))
    };
    let mut seen = 0;
    for row in rows {
        match row.first() {
            Some(Value::Text(v)) if number(v) => seen += 1,
            Some(Value::Int(_) | Value::Float(_)) => seen += 1,
            Some(Value::Null) | None => {}
            _ => return false,
        }
    }
    seen >= 2
}

pub(crate) fn is_candidate(table: &Table, column: &Column) -> bool {
    let ty = column.data_type.to_lowercase();
    let text = ty.contains("char")
        || ty.contains("text")
        || ty.contains("clob")
        || ty.contains("string")
        || ty.is_empty();
    // A text primary key of one column is often the name itself (`dept_name`, `crs_code`);
    // a key of several columns, and foreign keys, repeat values held elsewhere.
    let composite_key = table.primary_key.len() > 1 && table.primary_key.contains(&column.name);
    if !text || composite_key {
        return false;
    }
    if table
        .foreign_keys
        .iter()
        .any(|fk| fk.columns.iter().any(|c| c == &column.name))
    {
        return false;
    }
    let words = text::identifier_words(&column.name);
    !words.iter().any(|w| {
        matches!(
            w.as_str(),
            "email"
                | "mail"
                | "phone"
                | "fax"
                | "address"
                | "url"
                | "password"
                | "description"
                | "comment"
                | "comments"
                | "note"
                | "notes"
                | "photo"
                | "picture"
                | "image"
                | "hash"
                | "token"
                | "uuid"
                | "guid"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdb;

    #[test]
    fn text_columns_of_plain_numbers_are_numbers() {
        let rows = |v: &[&str]| -> Vec<Vec<Value>> {
            v.iter().map(|x| vec![Value::Text((*x).into())]).collect()
        };
        assert!(holds_numbers("room_count", &rows(&["1", "12", "3.5"])));
        assert!(holds_numbers("days_held", &rows(&["-4", "344"])));
        // Codes keep their text: leading zeros, a code or id by name, digits with letters.
        assert!(!holds_numbers("zip", &rows(&["12345", "23456"])));
        assert!(!holds_numbers("district", &rows(&["012", "3"])));
        assert!(!holds_numbers("class_code", &rows(&["1", "2"])));
        assert!(!holds_numbers("apt_number", &rows(&["1", "2"])));
        assert!(!holds_numbers("version", &rows(&["1.2.3", "2"])));
        assert!(!holds_numbers("rating", &rows(&["5", "NR"])));
        assert!(
            !holds_numbers("rating", &rows(&["5"])),
            "one value is too little to tell"
        );
        assert!(!holds_numbers("size", &rows(&["1e5", "2"])));
    }

    #[tokio::test]
    async fn the_index_knows_which_text_columns_hold_numbers() {
        let data = testdb::path("northwind");
        let root = data.parent().and_then(|p| p.parent()).expect("shared data");
        let db =
            testdb::open_path(&root.join("spider-train/database/wrestler/wrestler.sqlite")).await;
        let catalog = db.catalog().await.expect("catalog");
        let validator = testdb::validator(db.as_ref(), &catalog);
        let index = ValueIndex::build(db.as_ref(), &validator, &catalog, &Default::default())
            .await
            .expect("builds");
        // `Days_held` is declared text and holds "344", "113", ...
        assert!(index.is_numeric_text(&ColumnRef::new("wrestler", "Days_held")));
        // Its values are numbers, not names a question would say.
        assert!(index.lookup("344").is_empty());
        assert!(!index.is_numeric_text(&ColumnRef::new("wrestler", "Name")));
        assert!(!index.is_numeric_text(&ColumnRef::new("wrestler", "Location")));
    }

    #[test]
    fn lookup_by_words_ignores_case_and_punctuation() {
        let mut index = ValueIndex::empty();
        assert!(index.insert(ColumnRef::new("Artist", "Name"), "AC/DC"));
        assert!(index.insert(ColumnRef::new("Genre", "Name"), "Rock And Roll"));
        assert!(!index.insert(ColumnRef::new("Genre", "Name"), "The"));
        assert!(!index.insert(ColumnRef::new("T", "Code"), "2023"));
        assert_eq!(index.lookup("ac dc")[0].value, "AC/DC");
        assert_eq!(index.lookup("rock and roll").len(), 1);
        assert!(index.lookup("rock").is_empty());
        assert_eq!(index.max_words(), 3);
        assert_eq!(index.len(), 2);
        // A phrase is looked for only as long as the longest value starting with its word.
        assert_eq!(index.max_words_from("rock"), 3);
        assert_eq!(index.max_words_from("ac"), 2);
        assert_eq!(index.max_words_from("jazz"), 1);
    }

    #[test]
    fn values_are_found_without_their_accents() {
        let mut index = ValueIndex::empty();
        for city in ["Łódź", "Straße", "Ærøskøbing", "Škofja Loka"] {
            assert!(index.insert(ColumnRef::new("City", "Name"), city));
        }
        for (asked, stored) in [
            ("lodz", "Łódź"),
            ("ŁÓDŹ", "Łódź"),
            ("strasse", "Straße"),
            ("aeroskobing", "Ærøskøbing"),
            ("skofja loka", "Škofja Loka"),
        ] {
            let hits = index.lookup(&phrase_key(asked));
            assert_eq!(hits.len(), 1, "{asked}");
            assert_eq!(hits[0].value, stored);
        }
    }

    #[tokio::test]
    async fn chinook_index_holds_countries_and_genres_within_bounds() {
        let db = testdb::open("chinook").await;
        let catalog = db.catalog().await.expect("catalog");
        let validator = testdb::validator(db.as_ref(), &catalog);
        let index = ValueIndex::build(
            db.as_ref(),
            &validator,
            &catalog,
            &ValueIndexLimits::default(),
        )
        .await
        .expect("builds");
        let germany: Vec<String> = index
            .lookup("germany")
            .iter()
            .map(|h| format!("{}.{}", h.column.table, h.column.column))
            .collect();
        assert!(
            germany.contains(&"Customer.Country".to_string()),
            "{germany:?}"
        );
        assert!(germany.contains(&"Invoice.BillingCountry".to_string()));
        assert_eq!(
            index.lookup("rock")[0].column,
            ColumnRef::new("Genre", "Name")
        );
        assert_eq!(index.lookup("led zeppelin")[0].column.table, "Artist");
        // Track names (3,500 of them) are over the bound and stay out.
        assert!(index.lookup("princess of the dawn").is_empty());
        let small = ValueIndex::build(
            db.as_ref(),
            &validator,
            &catalog,
            &ValueIndexLimits {
                max_total_values: 10,
                ..ValueIndexLimits::default()
            },
        )
        .await
        .expect("builds");
        assert_eq!(small.len(), 10);
    }
}

#[cfg(test)]
mod hostile_names {
    use std::{
        collections::BTreeSet,
        sync::{Arc, Mutex},
    };

    use async_trait::async_trait;
    use sqlx::{Connection, SqliteConnection, sqlite::SqliteConnectOptions};

    use super::*;
    use crate::{
        DataSource, config::Config, dialect::Dialect, exec::SourceOptions, sql::ValidatorOptions,
    };

    const WEIRD: &str = "we\"ird 'tab";
    const UNION: &str = "t\" UNION SELECT code FROM secret --";

    /// Column names of `WEIRD` and the word each one's values start with.
    const COLUMNS: &[(&str, &str)] = &[
        ("co\"l", "alfa"),
        ("it's", "bravo"),
        ("back`tick", "charlie"),
        ("br]acket", "delta"),
        ("back\\slash", "echo"),
        ("semi;colon", "foxtrot"),
        ("dash--dash", "golf"),
        ("with space", "hotel"),
        ("x\" FROM secret --", "india"),
        ("y\\\" FROM secret; --", "juliett"),
        ("[x]]", "kilo"),
        ("z\\\" , code FROM secret --", "mike"),
    ];

    /// A database whose table and column names hold quotes, backticks, brackets, backslashes,
    /// semicolons, comment markers and spaces, beside a table `secret` outside
    /// `allowed_tables`.
    async fn hostile_database(dir: &std::path::Path) -> String {
        let path = dir.join("hostile.sqlite");
        let mut conn = SqliteConnection::connect_with(
            &SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .expect("creates");
        sqlx::raw_sql(
            r#"
            CREATE TABLE "we""ird 'tab" (
                "co""l" TEXT, "it's" TEXT, "back`tick" TEXT, "br]acket" TEXT, "back\slash" TEXT,
                "semi;colon" TEXT, "dash--dash" TEXT, "with space" TEXT,
                "x"" FROM secret --" TEXT, "y\"" FROM secret; --" TEXT, "[x]]" TEXT,
                "z\"" , code FROM secret --" TEXT
            );
            INSERT INTO "we""ird 'tab" VALUES
                ('alfa one', 'bravo one', 'charlie one', 'delta one', 'echo one', 'foxtrot one',
                 'golf one', 'hotel one', 'india one', 'juliett one', 'kilo one', 'mike one'),
                ('alfa two', 'bravo two', 'charlie two', 'delta two', 'echo two', 'foxtrot two',
                 'golf two', 'hotel two', 'india two', 'juliett two', 'kilo two', 'mike two');
            CREATE TABLE "t"" UNION SELECT code FROM secret --" ("label" TEXT);
            INSERT INTO "t"" UNION SELECT code FROM secret --" VALUES ('lima one'), ('lima two');
            CREATE TABLE secret (code TEXT);
            INSERT INTO secret VALUES ('topsecret alpha'), ('topsecret bravo');
            "#,
        )
        .execute(&mut conn)
        .await
        .expect("schema and rows");
        conn.close().await.expect("closes");
        format!("sqlite://{}", path.display())
    }

    /// Runs statements on the real executor and keeps each one with the rows it returned.
    #[derive(Debug)]
    struct Recording {
        inner: Arc<dyn Executor>,
        ran: Mutex<Vec<(String, QueryResult)>>,
    }

    #[async_trait]
    impl Executor for Recording {
        fn dialect(&self) -> Dialect {
            self.inner.dialect()
        }
        fn options(&self) -> &SourceOptions {
            self.inner.options()
        }
        async fn catalog(&self) -> Result<Catalog> {
            self.inner.catalog().await
        }
        async fn execute(&self, sql: &str) -> Result<QueryResult> {
            let result = self.inner.execute(sql).await?;
            self.ran
                .lock()
                .expect("lock")
                .push((sql.to_string(), result.clone()));
            Ok(result)
        }
        async fn ping(&self) -> Result<()> {
            self.inner.ping().await
        }
    }

    /// The source with `allowed_tables` leaving `secret` out, and the index built through a
    /// recording executor with the source's validator. The directory of the database file is
    /// returned too: the pool may open new connections to it while the test runs.
    async fn index_of_hostile_names() -> (
        ValueIndex,
        Vec<(String, QueryResult)>,
        DataSource,
        tempfile::TempDir,
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = hostile_database(dir.path()).await;
        let mut config = Config::default();
        config.database.allowed_tables = vec![WEIRD.to_string(), UNION.to_string()];
        let source = DataSource::connect(&config, Some(&url))
            .await
            .expect("connects");
        let recording = Recording {
            inner: source.executor().clone(),
            ran: Mutex::default(),
        };
        let index = ValueIndex::build(
            &recording,
            source.validator(),
            source.visible_catalog(),
            &ValueIndexLimits::default(),
        )
        .await
        .expect("builds");
        let ran = recording.ran.into_inner().expect("lock");
        (index, ran, source, dir)
    }

    #[test]
    fn statements_quote_every_name_by_doubling_the_closing_quote() {
        let column = |name: &str| Column {
            name: name.into(),
            data_type: "text".into(),
            nullable: true,
            comment: None,
        };
        let table = |schema: Option<&str>, name: &str| Table {
            schema: schema.map(str::to_string),
            name: name.into(),
            kind: crate::catalog::TableKind::Table,
            columns: vec![],
            primary_key: vec![],
            foreign_keys: vec![],
            comment: None,
        };
        let sql = |dialect, schema, t: &str, c: &str| {
            let catalog = Catalog::new(dialect, "db", vec![]);
            distinct_values_sql(&catalog, &table(schema, t), &column(c), 11)
        };
        assert_eq!(
            sql(Dialect::Sqlite, None, "we\"ird", "a\"b"),
            r#"SELECT DISTINCT "a""b" FROM "we""ird" WHERE "a""b" IS NOT NULL LIMIT 11"#
        );
        assert_eq!(
            sql(Dialect::Postgres, Some("public"), "Order", "a\\\"b"),
            r#"SELECT DISTINCT "a\""b" FROM "public"."Order" WHERE "a\""b" IS NOT NULL LIMIT 11"#
        );
        assert_eq!(
            sql(Dialect::Mysql, None, "it's", "a`b\\"),
            r#"SELECT DISTINCT `a``b\` FROM `it's` WHERE `a``b\` IS NOT NULL LIMIT 11"#
        );
    }

    #[tokio::test]
    async fn the_index_reads_hostile_names_exactly_and_nothing_else() {
        let (index, ran, source, _dir) = index_of_hostile_names().await;
        let catalog = source.visible_catalog();
        let names: BTreeSet<&str> = catalog.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, BTreeSet::from([WEIRD, UNION]));
        // Every statement that ran is one the engine built, for a column of the visible
        // catalog, and returned that column's values only.
        let expected: Vec<(String, &str, &str)> = catalog
            .tables
            .iter()
            .flat_map(|t| {
                t.columns.iter().map(move |c| {
                    (
                        distinct_values_head(catalog, t, c),
                        t.name.as_str(),
                        c.name.as_str(),
                    )
                })
            })
            .collect();
        for (sql, result) in &ran {
            let (_, table, column) = expected
                .iter()
                .find(|(head, _, _)| {
                    sql.strip_prefix(head.as_str())
                        .is_some_and(|n| n.parse::<u64>().is_ok())
                })
                .unwrap_or_else(|| panic!("a statement the engine did not build ran: {sql}"));
            assert_eq!(result.columns.len(), 1, "{sql}");
            let word = COLUMNS
                .iter()
                .find(|(c, _)| c == column)
                .map_or("lima", |(_, w)| *w);
            for row in &result.rows {
                let Some(Value::Text(v)) = row.first() else {
                    panic!("{table}.{column}: {row:?}");
                };
                assert!(v.starts_with(word), "{table}.{column} read {v:?}: {sql}");
            }
        }
        for &(column, word) in COLUMNS {
            let read = ran.iter().any(|(sql, _)| {
                expected
                    .iter()
                    .any(|(head, _, c)| *c == column && sql.starts_with(head.as_str()))
            });
            assert!(read, "the values of column {column:?} were read");
            for n in ["one", "two"] {
                let hits = index.lookup(&format!("{word} {n}"));
                assert_eq!(
                    hits.iter().map(|h| &h.column).collect::<Vec<_>>(),
                    vec![&ColumnRef::new(WEIRD, column)],
                    "the values of column {column:?}"
                );
            }
        }
        assert_eq!(
            index.lookup("lima one")[0].column,
            ColumnRef::new(UNION, "label")
        );
        assert!(
            index.hits().all(|h| !h.value.contains("topsecret")),
            "no value of the table outside allowed_tables"
        );
        // The samples of a prompt read through the same statements.
        let samples = crate::generate::prompt::SampleValues::collect(
            source.executor().as_ref(),
            source.validator(),
            catalog,
            3,
        )
        .await;
        for &(column, word) in COLUMNS {
            assert_eq!(
                samples.get(WEIRD, column),
                [format!("{word} one"), format!("{word} two")],
                "{column:?}"
            );
        }
        assert!(samples.values().all(|v| !v.contains("topsecret")));
    }

    #[tokio::test]
    async fn every_statement_passes_the_validator_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = hostile_database(dir.path()).await;
        let source = DataSource::connect(&Config::default(), Some(&url))
            .await
            .expect("connects");
        // A validator whose policy leaves only `secret` readable refuses every other
        // statement: their columns are skipped, and no statement ran without its verdict.
        let only_secret = Validator::new(
            Arc::new((**source.visible_catalog()).clone()),
            ValidatorOptions {
                max_rows: 1000,
                allowed_tables: vec!["secret".into()],
                denied_columns: vec![],
            },
        );
        let recording = Recording {
            inner: source.executor().clone(),
            ran: Mutex::default(),
        };
        let index = ValueIndex::build(
            &recording,
            &only_secret,
            source.visible_catalog(),
            &ValueIndexLimits::default(),
        )
        .await
        .expect("builds");
        let tables: BTreeSet<&str> = index.hits().map(|h| h.column.table.as_str()).collect();
        assert_eq!(tables, BTreeSet::from(["secret"]));
        let ran = recording.ran.into_inner().expect("lock");
        assert_eq!(ran.len(), 1, "{ran:?}");
        assert!(
            ran[0]
                .0
                .starts_with(r#"SELECT DISTINCT "code" FROM "secret" "#)
        );
    }
}
