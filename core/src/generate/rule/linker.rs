//! Schema linking: which tables and columns the words of a question name.
//!
//! Each table and column is known by the words of its name (split from snake_case and
//! PascalCase, singular, BI synonyms folded), by its name without the table's own words
//! (`InvoiceDate` of `Invoice` is "date"), by its last word ("country" for `BillingCountry`,
//! at a cost), and by the words of its comment.

use std::collections::HashMap;

use super::ir::ColumnRef;
use crate::{
    catalog::{Catalog, Table},
    text,
    values::is_label_name,
};

/// What a phrase of the question may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A table.
    Table(usize),
    /// A column of a table.
    Column(usize, usize),
}

/// One reading of a phrase, with a cost (0 = exact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What the phrase names.
    pub target: Target,
    /// How loose the match is.
    pub penalty: u32,
}

/// What kind of values a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Numbers.
    Numeric,
    /// Dates or timestamps.
    Temporal,
    /// Text and everything else.
    Text,
}

/// A column as the linker sees it.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    /// The column's name.
    pub name: String,
    /// Normalized words of the name.
    pub words: Vec<String>,
    /// Singular words of the name, synonyms not folded.
    pub raw: Vec<String>,
    /// Its kind.
    pub kind: ColumnKind,
    /// Part of the primary key or of a foreign key.
    pub is_key: bool,
    /// The table a foreign key on this column points to.
    pub references: Option<String>,
    /// Declared as text, read as numbers ([`ValueIndex::is_numeric_text`](crate::values::ValueIndex::is_numeric_text)).
    pub numeric_text: bool,
}

/// A table as the linker sees it.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// The table's name.
    pub name: String,
    /// Normalized words of the name.
    pub words: Vec<String>,
    /// Singular words of the name, synonyms not folded.
    pub raw: Vec<String>,
    /// Whether it is a view.
    pub view: bool,
    /// Its columns.
    pub columns: Vec<ColumnInfo>,
    /// Primary key columns.
    pub key: Vec<String>,
    /// Columns that show a row to a person (name, title, first and last name; else the key).
    pub labels: Vec<String>,
    /// Whether the labels are names (not the key or another column standing in for one).
    pub named: bool,
}

impl TableInfo {
    /// The columns that show a row to a person, as references.
    pub fn label_refs(&self) -> Vec<ColumnRef> {
        self.labels
            .iter()
            .map(|l| ColumnRef::new(&self.name, l))
            .collect()
    }
}

/// The schema's vocabulary.
#[derive(Debug, Clone)]
pub struct SchemaLexicon {
    /// Tables, in catalog order.
    pub tables: Vec<TableInfo>,
    phrases: HashMap<String, Vec<Candidate>>,
    /// The most words of a phrase starting with each first word.
    longest_from: HashMap<String, usize>,
}

impl SchemaLexicon {
    /// Learns the vocabulary of `catalog`.
    #[cfg(test)]
    pub fn new(catalog: &Catalog) -> Self {
        Self::with_values(catalog, &crate::values::ValueIndex::empty())
    }

    /// Learns the vocabulary of `catalog`, with the text columns `values` found to hold
    /// numbers read as numbers.
    pub fn with_values(catalog: &Catalog, values: &crate::values::ValueIndex) -> Self {
        let mut tables: Vec<TableInfo> = catalog.tables.iter().map(table_info).collect();
        for t in &mut tables {
            for c in &mut t.columns {
                if c.kind == ColumnKind::Text
                    && values.is_numeric_text(&ColumnRef::new(&t.name, &c.name))
                {
                    c.kind = ColumnKind::Numeric;
                    c.numeric_text = true;
                }
            }
        }
        let mut phrases: HashMap<String, Vec<Candidate>> = HashMap::new();
        let mut pointed_by_first: Vec<(String, usize)> = Vec::new();
        let mut add = |words: &[String], target: Target, penalty: u32| {
            if words.is_empty() {
                return;
            }
            let key = words.join(" ");
            let list = phrases.entry(key).or_default();
            match list.iter_mut().find(|c| c.target == target) {
                Some(c) => c.penalty = c.penalty.min(penalty),
                None => list.push(Candidate { target, penalty }),
            }
        };
        for (ti, t) in tables.iter().enumerate() {
            // Base tables come before views that repeat their names and columns.
            let view = u32::from(catalog.tables[ti].kind == crate::catalog::TableKind::View);
            let mut add =
                |words: &[String], target: Target, penalty: u32| add(words, target, penalty + view);
            add(&t.words, Target::Table(ti), 0);
            if t.words.len() > 1 {
                let last = &t.words[t.words.len() - 1..];
                // A table of links only (`Has_amenity`: two foreign keys) is named by its
                // last word after the things it links (`Dorm_amenity`).
                let links_only =
                    t.columns.len() >= 2 && t.columns.iter().all(|c| c.references.is_some());
                let part = 3 + 3 * u32::from(links_only);
                if !is_generic(&last[0]) {
                    add(last, Target::Table(ti), part);
                }
                // `Has_Allergy(StuID, Allergy)`: "allergies" are the rows its `Allergy` key
                // points to (`Allergy_Type`), not the links.
                let pointed = t
                    .columns
                    .iter()
                    .filter(|c| links_only && c.words == last)
                    .filter_map(|c| c.references.as_deref())
                    .find_map(|r| {
                        catalog
                            .tables
                            .iter()
                            .position(|o| o.name.eq_ignore_ascii_case(r))
                    });
                if let Some(pt) = pointed {
                    add(last, Target::Table(pt), 2);
                }
                // A prefix such as `tbl` or the database name is often on every table.
                add(&t.words[1..], Target::Table(ti), part);
                if t.words.len() > 2
                    && matches!(
                        t.words[1].as_str(),
                        "of" | "in" | "for" | "at" | "on" | "with"
                    )
                    && !tables.iter().any(|o| o.words == t.words[..1])
                {
                    // `Member_of_club` is "members", unless a table is named so.
                    add(&t.words[..1], Target::Table(ti), 2);
                }
            }
            for (ci, c) in t.columns.iter().enumerate() {
                let target = Target::Column(ti, ci);
                let mut words = c.words.clone();
                add(&words, target.clone(), 0);
                let mut qualified = t.words.clone();
                qualified.extend(words.iter().cloned());
                add(&qualified, target.clone(), 0);
                if words.len() > 1 && words.last().is_some_and(|w| w == "id") {
                    words.pop();
                    if c.references.is_some() {
                        // A foreign key column names the entity it points to.
                        add(&words, target.clone(), 1);
                    } else if catalog.tables[ti].primary_key == [c.name.clone()] {
                        // `County_ID` of `county_public_safety`: "county" is the table itself.
                        add(&words, Target::Table(ti), 2);
                    } else {
                        add(&words, target.clone(), 2);
                    }
                }
                if words.starts_with(&t.words) && words.len() > t.words.len() {
                    add(&words[t.words.len()..], target.clone(), 1);
                }
                if words.last().is_some_and(|w| w == "birth") {
                    // `EMP_DOB`, `birth_date`: the date of birth.
                    let birth = ["date", "of", "birth"].map(String::from);
                    add(&birth, target.clone(), u32::from(words.len() > 1));
                }
                // `Fname`, `STU_LNAME`: the first (last) name, said in full.
                let (name_part, rest) = match c.words.as_slice() {
                    [rest @ .., last] if last == "fname" => (Some("first"), rest),
                    [rest @ .., last] if last == "lname" => (Some("last"), rest),
                    [rest @ .., f, n] if f == "f" && n == "name" => (Some("first"), rest),
                    [rest @ .., l, n] if l == "l" && n == "name" => (Some("last"), rest),
                    _ => (None, &[][..]),
                };
                if let Some(part) = name_part {
                    let full = [part.to_string(), "name".to_string()];
                    add(&full, target.clone(), u32::from(!rest.is_empty()));
                }
                if let [base @ .., last] = c.words.as_slice()
                    && !base.is_empty()
                    && matches!(last.as_str(), "code" | "cd")
                    && c.references.is_none()
                {
                    // `booking_status_code` is the booking status, "status" at a cost (a
                    // foreign key's codes are named by the table they point to).
                    add(base, target.clone(), 1);
                    if base.starts_with(&t.words) && base.len() > t.words.len() {
                        add(&base[t.words.len()..], target.clone(), 3);
                    }
                    if base.len() > 1 {
                        add(&base[base.len() - 1..], target.clone(), 3);
                    }
                }
                if c.words
                    .last()
                    .is_some_and(|w| matches!(w.as_str(), "phone" | "fax"))
                {
                    // "phone number" is `customer_phone`.
                    let mut number = c.words.clone();
                    number.push("number".into());
                    add(&number, target.clone(), 0);
                    add(&number[number.len() - 2..], target.clone(), 1);
                }
                if let [d, of, what @ ..] = c.words.as_slice()
                    && d == "date"
                    && of == "of"
                    && what.len() > 1
                {
                    // `date_of_latest_logon` is the "latest logon date", or the "latest logon".
                    let mut dated = what.to_vec();
                    dated.push("date".into());
                    add(&dated, target.clone(), 0);
                    add(what, target.clone(), 1);
                }
                if c.kind == ColumnKind::Numeric
                    && let [n, of, counted @ ..] = c.words.as_slice()
                    && matches!(n.as_str(), "number" | "no" | "num")
                    && of == "of"
                    && !counted.is_empty()
                {
                    // `Number_of_hosts`, `no_of_customers`: a stored count of the hosts.
                    add(counted, target.clone(), 2);
                }
                if let [first, rest @ ..] = c.words.as_slice()
                    && !rest.is_empty()
                    && let Some(full) = match first.as_str() {
                        "min" => Some("minimum"),
                        "max" => Some("maximum"),
                        "avg" => Some("average"),
                        _ => None,
                    }
                {
                    // `MIN_SALARY` is the "minimum salary".
                    let mut said = vec![full.to_string()];
                    said.extend(rest.iter().cloned());
                    add(&said, target.clone(), 0);
                }
                if words.len() > 1 {
                    let last = words[words.len() - 1..].to_vec();
                    // `MIN_SALARY` is "salary" only where nothing else is: its other word is
                    // an aggregate the question would have said.
                    let qualified = words[..words.len() - 1].iter().any(|w| {
                        matches!(
                            w.as_str(),
                            "min" | "max" | "minimum" | "maximum" | "avg" | "average" | "mean"
                        )
                    });
                    if last[0] != "id" {
                        add(&last, target.clone(), 2 + 3 * u32::from(qualified));
                    }
                    // "amount" for `amount_paid`, "date" for `date_of_birth`.
                    let first = words[..1].to_vec();
                    if !is_generic(&first[0])
                        && !matches!(
                            first[0].as_str(),
                            "is" | "has" | "no" | "num" | "number" | "total" | "first" | "last"
                        )
                        && first != t.words[..1]
                    {
                        add(&first, target.clone(), 3);
                        // A foreign key named as the table it points to: its first word names
                        // that table too ("books" of `book_club_id`, `book_club`).
                        let pointed = c.references.as_ref().and_then(|r| {
                            tables.iter().position(|x| x.name == *r && x.words == words)
                        });
                        if let Some(r) = pointed {
                            pointed_by_first.push((first.join(" "), r));
                        }
                    }
                }
            }
        }
        for (phrase, r) in pointed_by_first {
            // Only where nothing names the word better ("tourists" of `Visits.Tourist_ID`).
            let list = phrases.entry(phrase).or_default();
            if list.iter().all(|c| c.penalty >= 3)
                && !list.iter().any(|c| c.target == Target::Table(r))
            {
                list.push(Candidate {
                    target: Target::Table(r),
                    penalty: 3,
                });
            }
        }
        // A phrase that names a table names it before any column ("rooms" is `Rooms`, not
        // `Reservations.Room`).
        for list in phrases.values_mut() {
            let table_best = list
                .iter()
                .filter(|c| matches!(c.target, Target::Table(_)))
                .map(|c| c.penalty)
                .min();
            if let Some(best) = table_best {
                for c in list.iter_mut() {
                    if matches!(c.target, Target::Column(..)) && c.penalty <= best {
                        c.penalty = best + 1;
                    }
                }
            }
        }
        let mut longest_from: HashMap<String, usize> = HashMap::new();
        for k in phrases.keys() {
            if let Some(first) = k.split(' ').next() {
                let n = longest_from.entry(first.to_string()).or_default();
                *n = (*n).max(k.split(' ').count());
            }
        }
        Self {
            tables,
            phrases,
            longest_from,
        }
    }

    /// The readings of a phrase of normalized words.
    pub fn lookup(&self, norms: &[&str]) -> &[Candidate] {
        self.phrases
            .get(&norms.join(" "))
            .map_or(&[], Vec::as_slice)
    }

    /// The singular words of a target's name, synonyms not folded.
    pub fn raw_words(&self, target: &Target) -> &[String] {
        match target {
            Target::Table(t) => &self.tables[*t].raw,
            Target::Column(t, c) => &self.tables[*t].columns[*c].raw,
        }
    }

    /// The most words of a phrase starting with `first` (0 when none does).
    pub fn max_words_from(&self, first: &str) -> usize {
        self.longest_from.get(first).copied().unwrap_or(0)
    }

    /// The index of a table by name.
    pub fn table_index(&self, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| t.name == name)
    }

    /// The column behind a target.
    pub fn column_ref(&self, ti: usize, ci: usize) -> ColumnRef {
        ColumnRef::new(&self.tables[ti].name, &self.tables[ti].columns[ci].name)
    }

    /// The column info of a reference.
    pub fn column(&self, c: &ColumnRef) -> Option<&ColumnInfo> {
        let t = &self.tables[self.table_index(&c.table)?];
        t.columns.iter().find(|x| x.name == c.column)
    }

    /// Columns of every table that hold money amounts, as (table, column or price × quantity,
    /// penalty).
    pub fn money_columns(&self) -> Vec<(usize, MoneyColumn, u32)> {
        let mut out = Vec::new();
        for (ti, t) in self.tables.iter().enumerate() {
            // Base tables before views that repeat them.
            let view = u32::from(t.view);
            let numeric = |c: &&ColumnInfo| c.kind == ColumnKind::Numeric && !c.is_key;
            let price = t
                .columns
                .iter()
                .filter(numeric)
                .find(|c| c.words.last().is_some_and(|w| w == "price"));
            let qty = t
                .columns
                .iter()
                .filter(numeric)
                .find(|c| c.words.last().is_some_and(|w| w == "quantity"));
            let mut found = false;
            for c in t.columns.iter().filter(numeric) {
                let last = c.words.last().map(String::as_str).unwrap_or("");
                if matches!(
                    last,
                    "total"
                        | "amount"
                        | "revenue"
                        | "sales"
                        | "payment"
                        | "income"
                        | "subtotal"
                        | "salary"
                        | "wage"
                ) {
                    out.push((ti, MoneyColumn::Column(c.name.clone()), view));
                    found = true;
                }
            }
            if let (Some(p), Some(q)) = (price, qty) {
                out.push((
                    ti,
                    MoneyColumn::Product(p.name.clone(), q.name.clone()),
                    view,
                ));
                found = true;
            }
            if !found && let Some(p) = price {
                out.push((ti, MoneyColumn::Column(p.name.clone()), 4));
            }
        }
        out
    }
}

/// A money measure of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyColumn {
    /// One column (`Total`, `Amount`).
    Column(String),
    /// Price × quantity.
    Product(String, String),
}

fn raw_words(ident: &str) -> Vec<String> {
    text::identifier_words(ident)
        .iter()
        .map(|w| text::singular(w))
        .collect()
}

fn is_generic(w: &str) -> bool {
    matches!(
        w,
        "type"
            | "data"
            | "info"
            | "detail"
            | "list"
            | "line"
            | "item"
            | "record"
            | "log"
            | "map"
            | "link"
            | "table"
            | "history"
            | "status"
            | "category"
    )
}

fn table_info(t: &Table) -> TableInfo {
    let fk_of = |name: &str| {
        t.foreign_keys
            .iter()
            .find(|fk| fk.columns.iter().any(|c| c == name))
            .map(|fk| fk.referenced_table.clone())
    };
    let columns: Vec<ColumnInfo> = t
        .columns
        .iter()
        .map(|c| {
            let references = fk_of(&c.name);
            ColumnInfo {
                words: text::identifier_norms(&c.name),
                raw: raw_words(&c.name),
                kind: kind_of(&c.data_type, &c.name),
                is_key: t.primary_key.contains(&c.name) || references.is_some(),
                references,
                numeric_text: false,
                name: c.name.clone(),
            }
        })
        .collect();
    let (labels, named) = labels(t, &columns);
    TableInfo {
        name: t.name.clone(),
        words: text::identifier_norms(&t.name),
        raw: raw_words(&t.name),
        view: t.kind == crate::catalog::TableKind::View,
        key: t.primary_key.clone(),
        labels,
        named,
        columns,
    }
}

pub(super) fn kind_of(data_type: &str, name: &str) -> ColumnKind {
    let ty = data_type.to_lowercase();
    if ty.contains("date") || ty.contains("time") {
        return ColumnKind::Temporal;
    }
    if ty.contains("int")
        || ty.contains("num")
        || ty.contains("dec")
        || ty.contains("real")
        || ty.contains("float")
        || ty.contains("double")
        || ty.contains("money")
    {
        return ColumnKind::Numeric;
    }
    let words = text::identifier_words(name);
    if ty.is_empty() && words.iter().any(|w| w == "date") {
        return ColumnKind::Temporal;
    }
    ColumnKind::Text
}

/// The label columns of a table, and whether they are names.
fn labels(t: &Table, columns: &[ColumnInfo]) -> (Vec<String>, bool) {
    let ends = |c: &ColumnInfo, names: &[&str]| {
        let w = c.words.join("_");
        names
            .iter()
            .any(|n| w == *n || w.ends_with(&format!("_{n}")))
    };
    let first = columns.iter().find(|c| {
        ends(
            c,
            &["first_name", "first-name", "fname", "f_name", "given_name"],
        )
    });
    let last = columns.iter().find(|c| {
        ends(
            c,
            &["last_name", "last-name", "lname", "l_name", "family_name"],
        )
    });
    if let (Some(f), Some(l)) = (first, last) {
        return (vec![f.name.clone(), l.name.clone()], true);
    }
    let table_words = text::identifier_norms(&t.name);
    let rank = |c: &ColumnInfo| -> Option<u32> {
        if c.is_key || c.kind != ColumnKind::Text {
            return None;
        }
        if c.words == table_words {
            // `Campus` of `Campuses`.
            return Some(1);
        }
        if !is_label_name(&c.name) {
            return None;
        }
        let stem = &c.words[..c.words.len() - 1];
        Some(if stem.is_empty() {
            0
        } else if stem == table_words.as_slice() || table_words.ends_with(stem) {
            1
        } else {
            2 + c.words.len() as u32
        })
    };
    if let Some(best) = columns
        .iter()
        .filter_map(|c| rank(c).map(|r| (r, c)))
        .min_by_key(|(r, _)| *r)
    {
        return (vec![best.1.name.clone()], true);
    }
    if !t.primary_key.is_empty() {
        return (t.primary_key.clone(), false);
    }
    let stand_in = columns
        .iter()
        .find(|c| c.kind == ColumnKind::Text)
        .or(columns.first())
        .map(|c| vec![c.name.clone()])
        .unwrap_or_default();
    (stand_in, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdb;

    #[tokio::test]
    async fn chinook_names_link_to_tables_and_columns() {
        let catalog = testdb::catalog("chinook").await;
        let lex = SchemaLexicon::new(&catalog);
        let name = |c: &Candidate| match c.target {
            Target::Table(t) => lex.tables[t].name.clone(),
            Target::Column(t, c) => {
                format!("{}.{}", lex.tables[t].name, lex.tables[t].columns[c].name)
            }
        };
        let media: Vec<String> = lex.lookup(&["media", "type"]).iter().map(name).collect();
        assert!(media.contains(&"MediaType".to_string()), "{media:?}");
        let rep: Vec<String> = lex.lookup(&["support", "rep"]).iter().map(name).collect();
        assert_eq!(rep, ["Customer.SupportRepId"]);
        let country: Vec<String> = lex.lookup(&["country"]).iter().map(name).collect();
        assert!(country.contains(&"Invoice.BillingCountry".to_string()));
        assert!(country.contains(&"Customer.Country".to_string()));
        let date: Vec<String> = lex.lookup(&["invoice", "date"]).iter().map(name).collect();
        assert_eq!(date, ["Invoice.InvoiceDate"]);
        let emp = &lex.tables[lex.table_index("Employee").expect("employee")];
        assert_eq!(emp.labels, ["FirstName", "LastName"]);
        let album = &lex.tables[lex.table_index("Album").expect("album")];
        assert_eq!(album.labels, ["Title"]);
        let invoice = &lex.tables[lex.table_index("Invoice").expect("invoice")];
        assert_eq!(invoice.labels, ["InvoiceId"]);
        let money = lex.money_columns();
        assert!(
            money
                .iter()
                .any(|(t, m, _)| lex.tables[*t].name == "InvoiceLine"
                    && *m == MoneyColumn::Product("UnitPrice".into(), "Quantity".into()))
        );
    }
}
