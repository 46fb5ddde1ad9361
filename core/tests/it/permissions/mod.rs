//! Data permissions under attack (issue 16): statements that try to read past a row filter or a
//! column mask of `[access]`, on SQLite (a copy of the demo database), PostgreSQL and MariaDB
//! (Chinook through testkit), run as several principals.
//!
//! The policy ([`toml`]) is the one of the issue: `sales_rep` sees the customers it supports
//! (`{user.employee_id}`) and their invoices, with `Customer.Email` hashed, `Customer.Phone`
//! nulled, `Customer.Fax` replaced by a text and `Employee.BirthDate` denied; `eu_analyst` sees
//! the customers of `{user.countries}` and every invoice, in full; `hr` sees everything.
//!
//! Ground truth never comes from the engine's policy code:
//!
//! - [`truth::Raw`] reads the raw data through a source without `[access]`, and
//!   [`truth::Expect`] derives by hand, from the rules above, what each user may see: the
//!   visible customers and invoices, the form of each masked cell, the denied columns, and the
//!   secrets (text that must never come back: a real email, phone or fax shown masked, a value
//!   that only hidden rows hold, a denied birth date);
//! - [`truth::Materialized`] is a copy of Chinook per user and database holding exactly what
//!   the user may see: hidden rows deleted, masked cells replaced by what the engine shows for
//!   them in a plain `SELECT` (checked first against the raw data: no real value, one hash per
//!   value, the text of the mask). Every attack also runs there, as written: an answer of the
//!   engine that differs from it read past the policy (or is wrong).
//!
//! [`attacks`] holds the adversarial statements and counts leaks (a secret in a cell), wrong
//! answers (a difference from the copy), refusals and errors; [`invariants`] checks counts and
//! hashes one by one; [`rls_oracle`] compares the engine with PostgreSQL's own row-level
//! security on a corpus of questions.

mod attacks;
mod findings;
mod invariants;
mod rls_oracle;
mod truth;

use std::{collections::BTreeMap, fmt::Write as _};

use conversational_bi::{
    Config, DataSource, Error, Principal,
    access::View,
    config::{ConfigSources, Interface, Secret},
    exec::{QueryResult, Value},
    sql::ValidatedSql,
};
use testkit::db::{Backend, SETUP_HINT};

/// The key of `hash` masks in these tests.
pub const MASK_KEY: &str = "cbi-permissions-test-key";

/// The row cap of the sources of these tests: above every Chinook table, so that no answer is
/// cut short.
const MAX_ROWS: usize = 10_000;

/// The `[access]` policy of the issue, in PascalCase names (see [`names`]).
const ACCESS: &str = r#"
[database]
max_rows = 10000
statement_timeout_ms = 10000

[access]
default_roles = []

[access.roles.sales_rep]
tables = ["*"]
row_filters = { Customer = "SupportRepId = {user.employee_id}", Invoice = "CustomerId IN (SELECT CustomerId FROM Customer WHERE SupportRepId = {user.employee_id})" }
columns = { "Customer.Email" = "hash", "Customer.Phone" = "null", "Customer.Fax" = "text:(hidden)", "Employee.BirthDate" = "deny" }

[access.roles.eu_analyst]
row_filters = { Customer = "Country IN ({user.countries})" }

[access.roles.hr]
columns = {}
"#;

/// The configuration of the policy on `backend`, with the test's mask key.
pub fn config(backend: Backend) -> Config {
    let mut config =
        Config::from_sources(ConfigSources::new(Interface::Embedded).toml(names(backend, ACCESS)))
            .expect("the [access] policy of the tests is valid");
    config.access.mask_key = Some(Secret::new(MASK_KEY));
    config
}

/// The configuration without `[access]`: the raw data, for ground truth.
pub fn raw_config() -> Config {
    let mut config = Config::default();
    config.database.max_rows = MAX_ROWS;
    config.database.statement_timeout_ms = 10_000;
    config
}

/// Chinook's PascalCase identifiers (SQLite, MariaDB); PostgreSQL's Chinook spells each in
/// snake_case.
const IDENTIFIERS: &[&str] = &[
    "Album",
    "Artist",
    "Customer",
    "Employee",
    "Genre",
    "Invoice",
    "InvoiceLine",
    "MediaType",
    "Playlist",
    "PlaylistTrack",
    "Track",
    "AlbumId",
    "Title",
    "ArtistId",
    "Name",
    "CustomerId",
    "FirstName",
    "LastName",
    "Company",
    "Address",
    "City",
    "State",
    "Country",
    "PostalCode",
    "Phone",
    "Fax",
    "Email",
    "SupportRepId",
    "EmployeeId",
    "ReportsTo",
    "BirthDate",
    "HireDate",
    "GenreId",
    "InvoiceId",
    "InvoiceDate",
    "BillingAddress",
    "BillingCity",
    "BillingState",
    "BillingCountry",
    "BillingPostalCode",
    "Total",
    "InvoiceLineId",
    "TrackId",
    "UnitPrice",
    "Quantity",
    "MediaTypeId",
    "PlaylistId",
    "Composer",
    "Milliseconds",
    "Bytes",
];

/// `SupportRepId` → `support_rep_id`.
fn snake(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 4);
    for (i, c) in word.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` (SQL or TOML written with Chinook's PascalCase names) for `backend`: on PostgreSQL,
/// each word that is exactly one of [`IDENTIFIERS`] becomes its snake_case name, outside
/// single-quoted literals (inside double quotes too: `"Customer"` → `"customer"`).
pub fn names(backend: Backend, text: &str) -> String {
    if backend != Backend::Postgres {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut word = String::new();
    let mut in_literal = false;
    let flush = |word: &mut String, out: &mut String| {
        if IDENTIFIERS.contains(&word.as_str()) {
            out.push_str(&snake(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if in_literal {
            out.push(c);
            if c == '\'' {
                in_literal = false;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        if c == '\'' {
            in_literal = true;
        }
        out.push(c);
    }
    flush(&mut word, &mut out);
    out
}

/// One user of the tests: a principal, and what the rules of [`ACCESS`] give it, restated by
/// hand for the ground truth.
#[derive(Debug, Clone)]
pub struct User {
    /// A short name, used in reports and in the names of the user's copies of Chinook.
    pub slug: &'static str,
    pub principal: Principal,
    /// Holds the role `sales_rep`.
    pub sales_rep: bool,
    /// `{user.employee_id}`, when set.
    pub employee_id: Option<i64>,
    /// Holds the role `eu_analyst`.
    pub eu_analyst: bool,
    /// `{user.countries}`, when set.
    pub countries: Option<Vec<&'static str>>,
    /// Holds the role `hr`.
    pub hr: bool,
}

impl User {
    fn new(slug: &'static str) -> Self {
        Self {
            slug,
            principal: Principal::user(slug),
            sales_rep: false,
            employee_id: None,
            eu_analyst: false,
            countries: None,
            hr: false,
        }
    }

    fn sales_rep(mut self, employee_id: Option<i64>) -> Self {
        self.sales_rep = true;
        self.principal = self.principal.role("sales_rep");
        if let Some(id) = employee_id {
            self.principal = self.principal.attribute("employee_id", id);
        }
        self.employee_id = employee_id;
        self
    }

    fn eu_analyst(mut self, countries: &[&'static str]) -> Self {
        self.eu_analyst = true;
        self.principal = self.principal.role("eu_analyst").attribute(
            "countries",
            serde_json::Value::Array(
                countries
                    .iter()
                    .map(|c| serde_json::Value::String(c.to_string()))
                    .collect(),
            ),
        );
        self.countries = Some(countries.to_vec());
        self
    }

    fn hr(mut self) -> Self {
        self.hr = true;
        self.principal = self.principal.role("hr");
        self
    }

    /// Whether any role of the user grants tables at all.
    pub fn has_any_role(&self) -> bool {
        self.sales_rep || self.eu_analyst || self.hr
    }
}

/// The users every attack runs as.
pub fn users() -> Vec<User> {
    vec![
        User::new("rep3").sales_rep(Some(3)),
        User::new("rep4").sales_rep(Some(4)),
        User::new("rep5").sales_rep(Some(5)),
        // Two roles: rep 3's customers (masked) and those of three countries (in full); Brazil
        // has customers of rep 3 and of others.
        User::new("rep3_eu").sales_rep(Some(3)).eu_analyst(&[
            "Brazil",
            "Germany",
            "United Kingdom",
        ]),
        User::new("eu").eu_analyst(&["Germany", "France", "United Kingdom"]),
        // A sales rep without `employee_id`: the filter fails closed.
        User::new("rep_noattr").sales_rep(None),
        // Attribute values are literals, never SQL.
        User::new("eu_inject").eu_analyst(&["Portugal", "x') OR ('1'='1", "x' OR 'a'='a"]),
        // No role: no table in scope.
        User::new("nobody"),
        // Sees everything: the control.
        User::new("hr").hr(),
    ]
}

/// The engine's source on `backend` under [`config`], and a source without `[access]` on the
/// same database for the ground truth.
pub struct Env {
    pub backend: Backend,
    pub source: DataSource,
    pub raw: DataSource,
    /// Keeps the SQLite copy alive.
    _dir: Option<tempfile::TempDir>,
}

impl Env {
    pub async fn open(backend: Backend) -> Env {
        let (url, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join("chinook.sqlite");
                std::fs::write(&path, conversational_bi::demo::CHINOOK_SQLITE)
                    .expect("copy of the demo database");
                (format!("sqlite://{}", path.display()), Some(dir))
            }
            _ => (backend.chinook_url(), None),
        };
        let source = DataSource::connect(&config(backend), Some(&url))
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: {e}\n{SETUP_HINT}"));
        let raw = DataSource::connect(&raw_config(), Some(&url))
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: {e}\n{SETUP_HINT}"));
        Env {
            backend,
            source,
            raw,
            _dir: dir,
        }
    }

    /// The engine's view for `user`.
    pub async fn view(&self, user: &User) -> View {
        self.source
            .view(&user.principal)
            .await
            .unwrap_or_else(|e| panic!("{:?}: view of {}: {e}", self.backend, user.slug))
    }

    /// The engine's view for `user`, or `None` when the engine turns the user away, which it
    /// may only do to a user without a data role (nothing to read, rather than an empty
    /// schema).
    pub async fn try_view(&self, user: &User) -> Option<View> {
        match self.source.view(&user.principal).await {
            Ok(view) => Some(view),
            Err(e) if !user.has_any_role() => {
                assert_eq!(e.kind(), conversational_bi::ErrorKind::InvalidInput, "{e}");
                None
            }
            Err(e) => panic!("{:?}: view of {}: {e}", self.backend, user.slug),
        }
    }

    /// The path of the SQLite copy.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self._dir.as_ref().map(|d| d.path().join("chinook.sqlite"))
    }
}

/// What running a statement gave.
#[derive(Debug)]
pub enum Outcome {
    Rows(ValidatedSql, QueryResult),
    Refused { rule: String, reason: String },
    Failed(String),
}

impl Outcome {
    pub fn of(result: Result<(ValidatedSql, QueryResult), Error>) -> Outcome {
        match result {
            Ok((v, r)) => Outcome::Rows(v, r),
            Err(Error::SqlRejected { rule, reason, .. }) => Outcome::Refused {
                rule: rule.as_str().to_string(),
                reason,
            },
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

/// A cell as text, for reports and secret scans.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::Text(s) | Value::Decimal(s) | Value::Bytes(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
    }
}

/// The first rows of `rows`, for a report.
pub fn preview(rows: &[Vec<Value>]) -> String {
    let mut out = String::new();
    for row in rows.iter().take(6) {
        let cells: Vec<String> = row.iter().map(cell).collect();
        let _ = write!(out, "\n      [{}]", cells.join(", "));
    }
    if rows.len() > 6 {
        let _ = write!(out, "\n      ... {} rows", rows.len());
    }
    out
}

/// Counts by key, printed sorted.
#[derive(Debug, Default)]
pub struct Tally(pub BTreeMap<String, usize>);

impl Tally {
    pub fn add(&mut self, key: impl Into<String>) {
        *self.0.entry(key.into()).or_default() += 1;
    }

    pub fn total(&self) -> usize {
        self.0.values().sum()
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, n)| format!("{k} {n}")).collect();
        f.write_str(&parts.join(", "))
    }
}
