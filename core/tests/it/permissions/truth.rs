//! Ground truth: the raw data, what each user may see of it, and a copy of Chinook per user
//! and database that holds exactly that.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use conversational_bi::{
    DataSource,
    exec::{self, Executor, QueryResult, SourceOptions, Value},
};
use sqlx::{AssertSqlSafe, Connection, Executor as _};
use testkit::db::{Backend, SETUP_HINT, mysql_admin_url, pg_admin_url};

use super::{Env, MAX_ROWS, Outcome, User, View, cell, names};

/// One customer as stored.
#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub id: i64,
    pub rep: Option<i64>,
    pub country: Option<String>,
    /// Email, Phone, Fax.
    pub masked: [Value; 3],
}

/// The raw data, read without `[access]`.
#[derive(Debug)]
pub struct Raw {
    pub customers: Vec<CustomerRow>,
    /// Invoice id → customer id.
    pub invoices: BTreeMap<i64, i64>,
    /// Every row of every table, by table (as the catalog names it), with its column names.
    pub tables: BTreeMap<String, (Vec<String>, Vec<Vec<Value>>)>,
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Decimal(s) | Value::Text(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

async fn read(source: &DataSource, sql: &str) -> QueryResult {
    let (_, result) = source
        .run(sql)
        .await
        .unwrap_or_else(|e| panic!("raw read {sql}: {e}"));
    assert!(!result.truncated, "raw read {sql} was cut short");
    result
}

impl Raw {
    pub async fn load(env: &Env) -> Raw {
        let b = env.backend;
        let q = |s: &str| names(b, s);
        let customers = read(
            &env.raw,
            &q("SELECT CustomerId, SupportRepId, Country, Email, Phone, Fax FROM Customer"),
        )
        .await
        .rows
        .into_iter()
        .map(|r| CustomerRow {
            id: int(&r[0]).expect("CustomerId"),
            rep: int(&r[1]),
            country: text(&r[2]),
            masked: [r[3].clone(), r[4].clone(), r[5].clone()],
        })
        .collect();
        let invoices = read(&env.raw, &q("SELECT InvoiceId, CustomerId FROM Invoice"))
            .await
            .rows
            .into_iter()
            .map(|r| {
                (
                    int(&r[0]).expect("InvoiceId"),
                    int(&r[1]).expect("CustomerId"),
                )
            })
            .collect();
        let mut tables = BTreeMap::new();
        for table in &env.raw.catalog().tables {
            let quoted = env.raw.validator().dialect().quote_identifier(&table.name);
            let result = read(&env.raw, &format!("SELECT * FROM {quoted}")).await;
            let columns = result.columns.iter().map(|c| c.name.clone()).collect();
            tables.insert(table.name.clone(), (columns, result.rows));
        }
        Raw {
            customers,
            invoices,
            tables,
        }
    }

    fn customer(&self, id: i64) -> Option<&CustomerRow> {
        self.customers.iter().find(|c| c.id == id)
    }
}

/// What one user may see, derived by hand from the rules of the policy.
#[derive(Debug, Clone)]
pub struct Expect {
    /// The visible customers.
    pub customers: BTreeSet<i64>,
    /// The visible customers whose Email, Phone and Fax show in full.
    pub full: BTreeSet<i64>,
    /// The visible invoices.
    pub invoices: BTreeSet<i64>,
    /// `Employee.BirthDate` is denied (every role that grants Employee denies it).
    pub birthdate_denied: bool,
    /// No table is in scope.
    pub no_tables: bool,
    /// Text that must never come back: real values shown masked, values that only hidden rows
    /// hold, denied values.
    pub secrets: BTreeSet<String>,
}

impl Expect {
    pub fn of(raw: &Raw, user: &User, backend: Backend) -> Expect {
        let in_countries = |c: &CustomerRow| {
            user.eu_analyst
                && match (&user.countries, &c.country) {
                    (Some(list), Some(country)) => list.iter().any(|l| l == country),
                    _ => false,
                }
        };
        let by_rep = |rep: Option<i64>| {
            user.sales_rep && user.employee_id.is_some() && rep == user.employee_id
        };
        let mut customers = BTreeSet::new();
        let mut full = BTreeSet::new();
        for c in &raw.customers {
            if user.hr || in_countries(c) {
                customers.insert(c.id);
                full.insert(c.id);
            } else if by_rep(c.rep) {
                customers.insert(c.id);
            }
        }
        let invoices = raw
            .invoices
            .iter()
            .filter(|&(_, customer)| {
                user.hr || user.eu_analyst || by_rep(raw.customer(*customer).and_then(|c| c.rep))
            })
            .map(|(&id, _)| id)
            .collect();
        let birthdate_denied = user.sales_rep && !user.eu_analyst && !user.hr;
        let no_tables = !user.has_any_role();
        let mut expect = Expect {
            customers,
            full,
            invoices,
            birthdate_denied,
            no_tables,
            secrets: BTreeSet::new(),
        };
        expect.secrets = expect.secrets(raw, backend);
        expect
    }

    /// Text values of cells the user may not see, minus those it may see elsewhere.
    fn secrets(&self, raw: &Raw, backend: Backend) -> BTreeSet<String> {
        let (customer, invoice, employee) = (
            names(backend, "Customer"),
            names(backend, "Invoice"),
            names(backend, "Employee"),
        );
        let masked: Vec<String> = ["Email", "Phone", "Fax"]
            .iter()
            .map(|c| names(backend, c))
            .collect();
        let birth = names(backend, "BirthDate");
        let (mut hidden, mut shown) = (BTreeSet::new(), BTreeSet::new());
        for (table, (columns, rows)) in &raw.tables {
            for row in rows {
                let id = row.first().and_then(int).unwrap_or_default();
                for (column, value) in columns.iter().zip(row) {
                    let Some(v) = text(value) else { continue };
                    let visible = if self.no_tables {
                        false
                    } else if *table == customer {
                        self.customers.contains(&id)
                            && (self.full.contains(&id) || !masked.contains(column))
                    } else if *table == invoice {
                        self.invoices.contains(&id)
                    } else if *table == employee {
                        !(self.birthdate_denied && *column == birth)
                    } else {
                        true
                    };
                    if visible {
                        shown.insert(v);
                    } else {
                        hidden.insert(v);
                    }
                }
            }
        }
        hidden
            .difference(&shown)
            .filter(|s| s.chars().count() >= 3)
            .cloned()
            .collect()
    }

    /// The secrets a result holds: a cell equal to one, or holding one of 8 characters or more.
    pub fn leaks(&self, result: &QueryResult) -> Vec<String> {
        let mut found = Vec::new();
        for row in &result.rows {
            for v in row {
                let Value::Text(s) = v else { continue };
                if self.secrets.contains(s) {
                    found.push(s.clone());
                } else if s.chars().count() >= 8
                    && let Some(secret) = self
                        .secrets
                        .iter()
                        .find(|secret| secret.chars().count() >= 8 && s.contains(secret.as_str()))
                {
                    found.push(format!("{secret} (in {s})"));
                }
            }
        }
        found
    }
}

/// What a plain read of the masked columns through the view must show, checked against the raw
/// data: the cells of each visible customer (Email, Phone, Fax), by id, and the problems seen.
pub async fn masked_cells(
    view: &View,
    backend: Backend,
    raw: &Raw,
    expect: &Expect,
) -> (BTreeMap<i64, [Value; 3]>, Vec<String>) {
    let mut problems = Vec::new();
    let mut cells = BTreeMap::new();
    let sql = names(
        backend,
        "SELECT CustomerId, Email, Phone, Fax FROM Customer",
    );
    let rows = match Outcome::of(view.run(&sql).await) {
        Outcome::Rows(_, r) => r.rows,
        other => {
            if !expect.no_tables {
                problems.push(format!("the plain read {sql} did not run: {other:?}"));
            }
            return (cells, problems);
        }
    };
    if expect.no_tables {
        problems.push(format!("{sql} ran for a user without tables"));
    }
    let ids: BTreeSet<i64> = rows.iter().filter_map(|r| int(&r[0])).collect();
    if ids != expect.customers {
        problems.push(format!(
            "visible customers: expected {:?}, got {ids:?}",
            expect.customers
        ));
    }
    let real_emails: BTreeSet<String> = raw
        .customers
        .iter()
        .filter_map(|c| text(&c.masked[0]))
        .collect();
    let mut hashes = BTreeSet::new();
    for row in rows {
        let Some(id) = int(&row[0]) else { continue };
        let Some(c) = raw.customer(id) else {
            problems.push(format!("customer {id} does not exist"));
            continue;
        };
        let shown = [row[1].clone(), row[2].clone(), row[3].clone()];
        if expect.full.contains(&id) {
            if shown != c.masked {
                problems.push(format!(
                    "customer {id} must show in full: {:?}, shows {shown:?}",
                    c.masked
                ));
            }
        } else {
            // hash: never the real value, NULL only for NULL, one hash per value.
            match (&c.masked[0], &shown[0]) {
                (Value::Null, Value::Null) => {}
                (Value::Null, v) => {
                    problems.push(format!("customer {id}: NULL email hashed to {v:?}"))
                }
                (_, Value::Text(h)) => {
                    if real_emails.contains(h) || h.contains('@') {
                        problems.push(format!("customer {id}: email shown as {h}"));
                    }
                    if !hashes.insert(h.clone()) {
                        problems.push(format!("customer {id}: hash {h} shared with another email"));
                    }
                }
                (_, v) => problems.push(format!("customer {id}: email hash is {v:?}")),
            }
            // null
            if shown[1] != Value::Null {
                problems.push(format!("customer {id}: phone shown as {}", cell(&shown[1])));
            }
            // text:(hidden); a NULL fax may stay NULL.
            let text_ok = shown[2] == Value::Text("(hidden)".into())
                || (c.masked[2] == Value::Null && shown[2] == Value::Null);
            if !text_ok {
                problems.push(format!("customer {id}: fax shown as {}", cell(&shown[2])));
            }
        }
        cells.insert(id, shown);
    }
    let sql = names(backend, "SELECT InvoiceId FROM Invoice");
    match Outcome::of(view.run(&sql).await) {
        Outcome::Rows(_, r) => {
            let ids: BTreeSet<i64> = r.rows.iter().filter_map(|r| int(&r[0])).collect();
            if ids != expect.invoices {
                let extra: Vec<_> = ids.difference(&expect.invoices).take(10).collect();
                let missing: Vec<_> = expect.invoices.difference(&ids).take(10).collect();
                problems.push(format!(
                    "visible invoices: {} expected, {} got (extra {extra:?}, missing {missing:?})",
                    expect.invoices.len(),
                    ids.len()
                ));
            }
        }
        other => {
            if !expect.no_tables {
                problems.push(format!("the plain read {sql} did not run: {other:?}"));
            }
        }
    }
    (cells, problems)
}

/// A copy of Chinook holding exactly what one user may see; statements run on it as written
/// (on MariaDB, with `chinook.` pointing at the copy).
pub struct Materialized {
    backend: Backend,
    executor: Arc<dyn Executor>,
    /// The copy's database name on MariaDB.
    mysql_db: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// The name of `user`'s copy on the servers.
fn copy_name(user: &User) -> String {
    format!("cbi_perm_{}", user.slug)
}

/// The PostgreSQL copy of Chinook every user's copy starts from (no foreign keys, so that hidden
/// rows can be deleted alone).
pub const PG_BASE: &str = "cbi_perm_base";

static PG_BASE_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Serializes `CREATE DATABASE ... TEMPLATE` on PostgreSQL, which fails while another session
/// is connected to the template.
pub static PG_TEMPLATE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A session on `db` as the PostgreSQL superuser.
pub async fn pg(db: &str) -> sqlx::PgConnection {
    let url = pg_admin_url(db);
    sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("cannot open {db} as the PostgreSQL superuser: {e}\n{SETUP_HINT}")
    })
}

/// Runs `sql` (one or more statements) on `conn`.
pub async fn pg_exec(conn: &mut sqlx::PgConnection, sql: &str) {
    conn.execute(AssertSqlSafe(sql.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Drops `db` (ending its sessions) and creates it again from `template`.
pub async fn pg_recreate(db: &str, template: &str) {
    let _lock = PG_TEMPLATE_LOCK.lock().await;
    let mut admin = pg("postgres").await;
    pg_exec(
        &mut admin,
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    )
    .await;
    pg_exec(
        &mut admin,
        &format!("CREATE DATABASE {db} TEMPLATE {template}"),
    )
    .await;
}

/// Creates [`PG_BASE`] once per test run: Chinook's tables with their primary keys and rows,
/// copied from `chinook`.
pub async fn pg_base() {
    PG_BASE_READY
        .get_or_init(|| async {
            {
                let _lock = PG_TEMPLATE_LOCK.lock().await;
                let mut admin = pg("postgres").await;
                pg_exec(&mut admin, &format!("DROP DATABASE IF EXISTS {PG_BASE} WITH (FORCE)"))
                    .await;
                pg_exec(&mut admin, &format!("CREATE DATABASE {PG_BASE}")).await;
            }
            let mut src = pg("chinook").await;
            let mut dst = pg(PG_BASE).await;
            let columns: Vec<(String, String, String, bool)> = sqlx::query_as(
                "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull \
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 \
                 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
            )
            .fetch_all(&mut src)
            .await
            .expect("Chinook's columns");
            let keys: BTreeMap<String, String> = sqlx::query_as(
                "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE contype = 'p' AND connamespace = 'public'::regnamespace",
            )
            .fetch_all(&mut src)
            .await
            .expect("Chinook's primary keys")
            .into_iter()
            .collect();
            let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (table, column, ty, not_null) in columns {
                let null = if not_null { " NOT NULL" } else { "" };
                tables
                    .entry(table)
                    .or_default()
                    .push(format!("{column} {ty}{null}"));
            }
            for (table, mut definition) in tables {
                if let Some(key) = keys.get(&table) {
                    definition.push(key.clone());
                }
                pg_exec(
                    &mut dst,
                    &format!("CREATE TABLE public.{table} ({})", definition.join(", ")),
                )
                .await;
                let rows: sqlx::types::Json<serde_json::Value> = sqlx::query_scalar(AssertSqlSafe(
                    format!("SELECT coalesce(json_agg(t), '[]'::json) FROM public.{table} t"),
                ))
                .fetch_one(&mut src)
                .await
                .unwrap_or_else(|e| panic!("read {table}: {e}"));
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO public.{table} SELECT * FROM jsonb_populate_recordset(NULL::public.{table}, $1)"
                )))
                .bind(rows)
                .execute(&mut dst)
                .await
                .unwrap_or_else(|e| panic!("copy {table}: {e}"));
            }
            pg_exec(&mut dst, "ANALYZE").await;
        })
        .await;
}

/// The local MariaDB socket, when there is one (faster than TCP for many small statements).
const MYSQL_SOCKET: &str = "/run/mysqld/mysqld.sock";

/// A MariaDB superuser URL on `db`.
pub fn mysql_root(db: &str) -> String {
    if std::env::var("CBI_TEST_MYSQL_ADMIN_URL").is_err()
        && std::path::Path::new(MYSQL_SOCKET).exists()
    {
        format!("mysql://root@localhost/{db}?socket={MYSQL_SOCKET}")
    } else {
        mysql_admin_url(db)
    }
}

async fn mysql(db: &str) -> sqlx::MySqlConnection {
    let url = mysql_root(db);
    sqlx::MySqlConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot open {db} as the MariaDB superuser: {e}\n{SETUP_HINT}"))
}

/// A literal of `v` for `backend`.
fn literal(backend: Backend, v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Decimal(d) => d.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Text(s) | Value::Bytes(s) => backend.dialect().quote_string(s),
    }
}

fn id_list(ids: &BTreeSet<i64>) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statements that turn a copy of Chinook into what `expect` lets the user see, with the
/// masked cells as `masked` (from the engine, checked by [`masked_cells`]).
fn restrict(
    backend: Backend,
    raw: &Raw,
    expect: &Expect,
    masked: &BTreeMap<i64, [Value; 3]>,
) -> Vec<String> {
    let mut out = Vec::new();
    let q = |s: &str| names(backend, s);
    if expect.no_tables {
        for table in raw.tables.keys() {
            out.push(format!("DELETE FROM {table}"));
        }
        return out;
    }
    out.push(if expect.customers.is_empty() {
        q("DELETE FROM Customer")
    } else {
        q(&format!(
            "DELETE FROM Customer WHERE CustomerId NOT IN ({})",
            id_list(&expect.customers)
        ))
    });
    out.push(if expect.invoices.is_empty() {
        q("DELETE FROM Invoice")
    } else {
        q(&format!(
            "DELETE FROM Invoice WHERE InvoiceId NOT IN ({})",
            id_list(&expect.invoices)
        ))
    });
    for (id, [email, phone, fax]) in masked {
        if expect.full.contains(id) {
            continue;
        }
        out.push(format!(
            "{} {}, {} {}, {} {} {id}",
            q("UPDATE Customer SET Email ="),
            literal(backend, email),
            q("Phone ="),
            literal(backend, phone),
            q("Fax ="),
            literal(backend, fax),
            id = q(&format!("WHERE CustomerId = {id}")),
        ));
    }
    if expect.birthdate_denied {
        out.push(q("UPDATE Employee SET BirthDate = NULL"));
    }
    out
}

impl Materialized {
    /// Builds `user`'s copy on `env`'s database.
    pub async fn build(
        env: &Env,
        user: &User,
        raw: &Raw,
        expect: &Expect,
        masked: &BTreeMap<i64, [Value; 3]>,
    ) -> Materialized {
        let backend = env.backend;
        let statements = restrict(backend, raw, expect, masked);
        let options = SourceOptions {
            max_rows: MAX_ROWS,
            statement_timeout_ms: 10_000,
            pool_size: 2,
            ..SourceOptions::default()
        };
        let (url, mysql_db, dir) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join(format!("{}.sqlite", user.slug));
                std::fs::copy(env.sqlite_path().expect("the SQLite copy"), &path)
                    .expect("copy of Chinook");
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&path)
                    .foreign_keys(false);
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .expect("the SQLite copy opens");
                for s in &statements {
                    conn.execute(AssertSqlSafe(s.clone()))
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                conn.close().await.ok();
                (format!("sqlite://{}", path.display()), None, Some(dir))
            }
            Backend::Postgres => {
                pg_base().await;
                let db = copy_name(user);
                pg_recreate(&db, PG_BASE).await;
                let mut conn = pg(&db).await;
                for s in &statements {
                    pg_exec(&mut conn, s).await;
                }
                conn.close().await.ok();
                (pg_admin_url(&db), None, None)
            }
            Backend::Mysql => {
                let db = copy_name(user);
                let mut conn = mysql("mysql").await;
                let mut setup = vec![
                    format!("DROP DATABASE IF EXISTS {db}"),
                    format!(
                        "CREATE DATABASE {db} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
                    ),
                ];
                for table in raw.tables.keys() {
                    setup.push(format!(
                        "CREATE TABLE {db}.`{table}` LIKE chinook.`{table}`"
                    ));
                    setup.push(format!(
                        "INSERT INTO {db}.`{table}` SELECT * FROM chinook.`{table}`"
                    ));
                }
                setup.push(format!("USE {db}"));
                setup.push("SET foreign_key_checks = 0".into());
                for s in setup.iter().chain(&statements) {
                    conn.execute(AssertSqlSafe(s.clone()))
                        .await
                        .unwrap_or_else(|e| panic!("{s}: {e}"));
                }
                conn.close().await.ok();
                (mysql_root(&db), Some(db), None)
            }
        };
        let executor = exec::connect(&url, options)
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: the copy of {}: {e}", user.slug));
        Materialized {
            backend,
            executor,
            mysql_db,
            _dir: dir,
        }
    }

    /// Runs `sql` as written on the copy.
    pub async fn run(&self, sql: &str) -> Result<QueryResult, String> {
        let sql = match &self.mysql_db {
            Some(db) => sql
                .replace("`chinook`.", &format!("`{db}`."))
                .replace("chinook.", &format!("{db}.")),
            None => sql.to_string(),
        };
        debug_assert_eq!(self.executor.dialect(), self.backend.dialect());
        self.executor.execute(&sql).await.map_err(|e| e.to_string())
    }
}
