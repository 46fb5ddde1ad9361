//! PostgreSQL's own row-level security as an oracle of the engine's data permissions.
//!
//! Database `cbi_rls_oracle` (dropped and created again on each run, from the copy of Chinook
//! that [`truth::pg_base`] makes) holds the policy of the tests written natively:
//!
//! - a group role per data role (`cbi_rls_sales_rep`, `cbi_rls_eu_analyst`, `cbi_rls_hr`) and a
//!   login role per user (`cbi_rls_u_<user>`, `NOSUPERUSER NOBYPASSRLS`) that is a member of the
//!   groups of the user's roles, with the user's attributes as role settings in that database
//!   (`app.employee_id`, `app.countries` as a JSON list), which PostgreSQL applies as `SET` at
//!   the start of each session;
//! - row filters: `ENABLE` and `FORCE ROW LEVEL SECURITY` on `customer` and `invoice`, and a
//!   permissive policy per group reading `current_setting('app.employee_id')` and
//!   `current_setting('app.countries')`; PostgreSQL ORs permissive policies, which is the
//!   union of roles;
//! - deny: column privileges (`sales_rep` may read every column of `employee` but
//!   `birth_date`; privileges add up over groups, which is the union of roles);
//! - masks: PostgreSQL has none, so the view `cbi_masked.customer` (`security_invoker`, so that
//!   the row policies apply to the user) shows each masked column in full where a role that
//!   sees it in full lets the row be seen (`hr`, or `eu_analyst` for a customer of its
//!   countries), else masked: `email` as `md5(key || email)` (the engine's PostgreSQL hash, with
//!   the same key), `phone` as `NULL`, `fax` as `'(hidden)'`. The users' `search_path` puts
//!   `cbi_masked` first, so that `customer` names the view.
//!
//! So hash masks are compared too, not just filters, deny and null. Each statement of
//! [`corpus`] runs (a) through the engine's view as the user, on `chinook`, and (b) natively as
//! the user's login role on `cbi_rls_oracle`, through the same executor code; the answers must
//! be equal as multisets (in order when the statement orders its result), and a statement must
//! be refused by both or answered by both.

use std::fmt::Write as _;

use conversational_bi::{
    eval::{has_top_level_order_by, rows_match},
    exec::{self, Executor, SourceOptions},
};
use testkit::db::{Backend, pg_admin_url};

use super::{
    Env, MASK_KEY, MAX_ROWS, Outcome, User, preview,
    truth::{PG_BASE, pg, pg_base, pg_exec, pg_recreate},
    users,
};

/// The oracle's database.
const DB: &str = "cbi_rls_oracle";

/// The password of the login roles (the local server trusts loopback anyway).
const PASSWORD: &str = "cbi_rls";

/// The login role of `user`.
fn login(user: &User) -> String {
    format!("cbi_rls_u_{}", user.slug)
}

/// Question-like statements (PostgreSQL names): joins, aggregates, subqueries, CTEs, windows and
/// set operations over the filtered, masked and denied data.
pub const CORPUS: &[&str] = &[
    "SELECT count(*) FROM customer",
    "SELECT country, count(*) AS customers FROM customer GROUP BY country ORDER BY country",
    "SELECT first_name, last_name, email FROM customer ORDER BY customer_id",
    "SELECT customer_id, phone, fax FROM customer ORDER BY customer_id",
    "SELECT count(*), sum(total), round(avg(total), 2) FROM invoice",
    "SELECT billing_country, sum(total) AS revenue FROM invoice GROUP BY billing_country ORDER BY revenue DESC, billing_country",
    "SELECT c.first_name, c.last_name, sum(i.total) AS spent FROM customer c JOIN invoice i ON i.customer_id = c.customer_id GROUP BY c.customer_id, c.first_name, c.last_name ORDER BY spent DESC, c.customer_id LIMIT 10",
    "SELECT e.first_name, e.last_name, count(c.customer_id) AS customers FROM employee e LEFT JOIN customer c ON c.support_rep_id = e.employee_id GROUP BY e.employee_id, e.first_name, e.last_name ORDER BY e.employee_id",
    "SELECT extract(year FROM invoice_date) AS year, count(*), sum(total) FROM invoice GROUP BY 1 ORDER BY 1",
    "SELECT g.name, sum(il.unit_price * il.quantity) AS revenue FROM invoice_line il JOIN invoice i ON i.invoice_id = il.invoice_id JOIN track t ON t.track_id = il.track_id JOIN genre g ON g.genre_id = t.genre_id GROUP BY g.name ORDER BY revenue DESC, g.name",
    "SELECT ar.name, count(*) AS lines FROM invoice_line il JOIN invoice i ON i.invoice_id = il.invoice_id JOIN track t ON t.track_id = il.track_id JOIN album al ON al.album_id = t.album_id JOIN artist ar ON ar.artist_id = al.artist_id GROUP BY ar.name ORDER BY lines DESC, ar.name LIMIT 10",
    "SELECT c.country, count(DISTINCT c.customer_id) AS customers, count(i.invoice_id) AS invoices FROM customer c LEFT JOIN invoice i ON i.customer_id = c.customer_id GROUP BY c.country ORDER BY c.country",
    "SELECT customer_id, count(*) AS invoices FROM invoice GROUP BY customer_id HAVING count(*) > 6 ORDER BY customer_id",
    "SELECT * FROM customer WHERE country = 'Brazil' ORDER BY customer_id",
    "SELECT * FROM invoice WHERE total > 15 ORDER BY invoice_id",
    "SELECT c.email, max(i.invoice_date) AS last_purchase FROM customer c JOIN invoice i ON i.customer_id = c.customer_id GROUP BY c.email ORDER BY c.email",
    "WITH spend AS (SELECT customer_id, sum(total) AS total FROM invoice GROUP BY customer_id) SELECT c.country, round(avg(s.total), 2) AS avg_spend FROM spend s JOIN customer c ON c.customer_id = s.customer_id GROUP BY c.country ORDER BY c.country",
    "WITH ranked AS (SELECT invoice_id, customer_id, total, rank() OVER (PARTITION BY customer_id ORDER BY total DESC, invoice_id) AS r FROM invoice) SELECT customer_id, invoice_id, total FROM ranked WHERE r = 1 ORDER BY customer_id",
    "SELECT customer_id, invoice_date, total, sum(total) OVER (PARTITION BY customer_id ORDER BY invoice_date, invoice_id) AS running FROM invoice ORDER BY customer_id, invoice_date, invoice_id",
    "SELECT first_name, last_name FROM customer WHERE customer_id IN (SELECT customer_id FROM invoice WHERE total > 20) ORDER BY last_name, first_name",
    "SELECT first_name, last_name FROM customer c WHERE NOT EXISTS (SELECT 1 FROM invoice i WHERE i.customer_id = c.customer_id AND i.total > 10) ORDER BY c.customer_id",
    "SELECT count(*) FROM invoice_line WHERE invoice_id IN (SELECT invoice_id FROM invoice)",
    "SELECT t.name, count(*) AS sold FROM invoice_line il JOIN track t ON t.track_id = il.track_id JOIN invoice i ON i.invoice_id = il.invoice_id GROUP BY t.track_id, t.name HAVING count(*) > 1 ORDER BY sold DESC, t.track_id LIMIT 20",
    "SELECT country FROM customer UNION SELECT billing_country FROM invoice ORDER BY 1",
    "SELECT city FROM customer INTERSECT SELECT billing_city FROM invoice ORDER BY 1",
    "SELECT billing_country FROM invoice EXCEPT SELECT country FROM customer ORDER BY 1",
    "SELECT first_name, last_name, 'customer' AS kind FROM customer WHERE country = 'Canada' UNION ALL SELECT first_name, last_name, 'employee' FROM employee WHERE country = 'Canada' ORDER BY 2, 1, 3",
    "SELECT e.last_name, (SELECT count(*) FROM customer c WHERE c.support_rep_id = e.employee_id) AS customers, (SELECT sum(i.total) FROM invoice i JOIN customer c ON c.customer_id = i.customer_id WHERE c.support_rep_id = e.employee_id) AS revenue FROM employee e ORDER BY e.employee_id",
    "SELECT support_rep_id, count(*) FROM customer GROUP BY support_rep_id ORDER BY 1",
    "SELECT DISTINCT country FROM customer ORDER BY 1",
    "SELECT company, count(*) FROM customer WHERE company IS NOT NULL GROUP BY company ORDER BY company",
    "SELECT count(*) FROM customer WHERE fax IS NULL",
    "SELECT count(DISTINCT email), count(phone), count(fax) FROM customer",
    "SELECT state, count(*) FROM customer WHERE country = 'USA' GROUP BY state ORDER BY state",
    "SELECT c.last_name, i.invoice_id, i.total FROM customer c JOIN invoice i USING (customer_id) WHERE i.total >= 13.86 ORDER BY i.invoice_id",
    "SELECT m.name, count(*) FROM invoice_line il JOIN track t ON t.track_id = il.track_id JOIN media_type m ON m.media_type_id = t.media_type_id GROUP BY m.name ORDER BY m.name",
    "SELECT i.billing_city, count(DISTINCT i.customer_id) FROM invoice i GROUP BY i.billing_city ORDER BY 1",
    "SELECT date_trunc('month', invoice_date) AS month, sum(total) FROM invoice WHERE invoice_date >= '2024-01-01' GROUP BY 1 ORDER BY 1",
    "SELECT c.customer_id, c.first_name, coalesce(sum(i.total), 0) AS spent FROM customer c LEFT JOIN invoice i ON i.customer_id = c.customer_id GROUP BY c.customer_id, c.first_name ORDER BY c.customer_id",
    "SELECT p.name, count(*) FROM playlist p JOIN playlist_track pt ON pt.playlist_id = p.playlist_id GROUP BY p.playlist_id, p.name ORDER BY p.playlist_id",
    "SELECT count(*) FROM track WHERE track_id IN (SELECT il.track_id FROM invoice_line il JOIN invoice i ON i.invoice_id = il.invoice_id)",
    "SELECT e.title, count(*) FROM employee e JOIN customer c ON c.support_rep_id = e.employee_id GROUP BY e.title ORDER BY 1",
    "SELECT max(total), min(total) FROM invoice i WHERE EXISTS (SELECT 1 FROM customer c WHERE c.customer_id = i.customer_id AND c.country = 'Germany')",
    "SELECT c.first_name, c.last_name, c.email FROM customer c WHERE c.email LIKE '%@gmail.com' ORDER BY c.customer_id",
    "SELECT customer_id, email FROM customer ORDER BY email LIMIT 5",
    "SELECT length(email), count(*) FROM customer GROUP BY 1 ORDER BY 1",
    "SELECT a.customer_id, b.customer_id FROM customer a JOIN customer b ON a.city = b.city AND a.customer_id < b.customer_id ORDER BY 1, 2",
    "SELECT ntile(4) OVER (ORDER BY total DESC, invoice_id) AS quartile, invoice_id FROM invoice ORDER BY invoice_id",
    "SELECT c.country, round(sum(il.unit_price * il.quantity), 2) FROM customer c JOIN invoice i ON i.customer_id = c.customer_id JOIN invoice_line il ON il.invoice_id = i.invoice_id GROUP BY c.country ORDER BY c.country",
    "SELECT count(*) FROM (SELECT DISTINCT customer_id FROM invoice) t",
    "SELECT (SELECT count(*) FROM customer) AS customers, (SELECT count(*) FROM invoice) AS invoices, (SELECT count(*) FROM invoice_line) AS lines",
    "SELECT employee_id, last_name, birth_date FROM employee ORDER BY 1",
    "SELECT * FROM employee ORDER BY employee_id",
    "SELECT employee_id, last_name, hire_date FROM employee ORDER BY 1",
    "SELECT c.support_rep_id, count(DISTINCT i.invoice_id), sum(i.total) FROM invoice i JOIN customer c ON c.customer_id = i.customer_id GROUP BY c.support_rep_id ORDER BY 1",
    "SELECT CASE WHEN total < 5 THEN 'small' WHEN total < 10 THEN 'medium' ELSE 'large' END AS size, count(*) FROM invoice GROUP BY 1 ORDER BY 1",
    "WITH RECURSIVE chain(id, depth) AS (SELECT employee_id, 0 FROM employee WHERE reports_to IS NULL UNION ALL SELECT e.employee_id, c.depth + 1 FROM employee e JOIN chain c ON e.reports_to = c.id) SELECT ch.depth, count(cu.customer_id) FROM chain ch LEFT JOIN customer cu ON cu.support_rep_id = ch.id GROUP BY ch.depth ORDER BY 1",
    "SELECT postal_code FROM customer WHERE postal_code IS NOT NULL ORDER BY customer_id",
    "SELECT upper(last_name), lower(city) FROM customer ORDER BY customer_id",
    "SELECT i.invoice_id, c.email FROM invoice i JOIN customer c ON c.customer_id = i.customer_id ORDER BY i.total DESC, i.invoice_id LIMIT 15",
    "SELECT count(*) FROM invoice i LEFT JOIN customer c ON c.customer_id = i.customer_id WHERE c.customer_id IS NULL",
    "SELECT billing_country, count(*) FROM invoice WHERE customer_id NOT IN (SELECT customer_id FROM customer) GROUP BY 1 ORDER BY 1",
    "SELECT min(invoice_date), max(invoice_date) FROM invoice",
    "SELECT fax, count(*) FROM customer GROUP BY fax ORDER BY fax NULLS FIRST",
    "SELECT c.customer_id, c.phone FROM customer c WHERE c.phone IS NOT NULL ORDER BY 1",
    "SELECT round(avg(cnt), 3) FROM (SELECT customer_id, count(*) AS cnt FROM invoice GROUP BY customer_id) t",
];

static READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Creates the oracle's database, roles, policies and view (once per test run).
async fn setup(users: &[User]) {
    READY
        .get_or_init(|| async {
            pg_base().await;
            pg_recreate(DB, PG_BASE).await;
            let mut admin = pg("postgres").await;
            let q = |s: &str| conversational_bi::Dialect::Postgres.quote_string(s);
            let mut roles = String::from(
                "DO $$ BEGIN
                   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cbi_rls_sales_rep') THEN CREATE ROLE cbi_rls_sales_rep NOLOGIN; END IF;
                   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cbi_rls_eu_analyst') THEN CREATE ROLE cbi_rls_eu_analyst NOLOGIN; END IF;
                   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cbi_rls_hr') THEN CREATE ROLE cbi_rls_hr NOLOGIN; END IF;\n",
            );
            for user in users {
                let role = login(user);
                let _ = writeln!(
                    roles,
                    "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN; END IF;"
                );
            }
            roles.push_str("END $$;\n");
            for user in users {
                let role = login(user);
                let _ = writeln!(
                    roles,
                    "ALTER ROLE {role} LOGIN PASSWORD '{PASSWORD}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT;"
                );
                for group in ["cbi_rls_sales_rep", "cbi_rls_eu_analyst", "cbi_rls_hr"] {
                    let _ = writeln!(roles, "REVOKE {group} FROM {role};");
                }
                for (has, group) in [
                    (user.sales_rep, "cbi_rls_sales_rep"),
                    (user.eu_analyst, "cbi_rls_eu_analyst"),
                    (user.hr, "cbi_rls_hr"),
                ] {
                    if has {
                        let _ = writeln!(roles, "GRANT {group} TO {role};");
                    }
                }
                let _ = writeln!(
                    roles,
                    "ALTER ROLE {role} IN DATABASE {DB} SET search_path = cbi_masked, public;"
                );
                if let Some(id) = user.employee_id {
                    let _ = writeln!(
                        roles,
                        "ALTER ROLE {role} IN DATABASE {DB} SET app.employee_id = '{id}';"
                    );
                }
                if let Some(countries) = &user.countries {
                    let list = serde_json::to_string(countries).expect("JSON");
                    let _ = writeln!(
                        roles,
                        "ALTER ROLE {role} IN DATABASE {DB} SET app.countries = {};",
                        q(&list)
                    );
                }
            }
            pg_exec(&mut admin, &roles).await;
            let logins: Vec<String> = users.iter().map(login).collect();
            let logins = logins.join(", ");
            let groups = "cbi_rls_sales_rep, cbi_rls_eu_analyst, cbi_rls_hr";
            let employee = "employee_id, last_name, first_name, title, reports_to, hire_date, address, city, state, country, postal_code, phone, fax, email";
            let countries = "SELECT jsonb_array_elements_text(coalesce(nullif(current_setting('app.countries', true), ''), '[]')::jsonb)";
            let employee_id = "nullif(current_setting('app.employee_id', true), '')::int";
            let full = format!(
                "pg_has_role(current_user, 'cbi_rls_hr', 'MEMBER') OR (pg_has_role(current_user, 'cbi_rls_eu_analyst', 'MEMBER') AND country IN ({countries}))"
            );
            let key = q(MASK_KEY);
            let policy = format!(
                "REVOKE ALL ON DATABASE {DB} FROM PUBLIC;
                 GRANT CONNECT ON DATABASE {DB} TO {logins};
                 REVOKE CREATE ON SCHEMA public FROM PUBLIC;
                 GRANT USAGE ON SCHEMA public TO {groups};
                 GRANT SELECT ON ALL TABLES IN SCHEMA public TO cbi_rls_eu_analyst, cbi_rls_hr;
                 GRANT SELECT ON album, artist, customer, genre, invoice, invoice_line, media_type, playlist, playlist_track, track TO cbi_rls_sales_rep;
                 GRANT SELECT ({employee}) ON employee TO cbi_rls_sales_rep;
                 ALTER TABLE customer ENABLE ROW LEVEL SECURITY;
                 ALTER TABLE customer FORCE ROW LEVEL SECURITY;
                 ALTER TABLE invoice ENABLE ROW LEVEL SECURITY;
                 ALTER TABLE invoice FORCE ROW LEVEL SECURITY;
                 CREATE POLICY sales_rep ON customer FOR SELECT TO cbi_rls_sales_rep
                   USING (support_rep_id = {employee_id});
                 CREATE POLICY eu_analyst ON customer FOR SELECT TO cbi_rls_eu_analyst
                   USING (country IN ({countries}));
                 CREATE POLICY hr ON customer FOR SELECT TO cbi_rls_hr USING (true);
                 CREATE POLICY sales_rep ON invoice FOR SELECT TO cbi_rls_sales_rep
                   USING (customer_id IN (SELECT customer_id FROM public.customer WHERE support_rep_id = {employee_id}));
                 CREATE POLICY eu_analyst ON invoice FOR SELECT TO cbi_rls_eu_analyst USING (true);
                 CREATE POLICY hr ON invoice FOR SELECT TO cbi_rls_hr USING (true);
                 CREATE SCHEMA cbi_masked;
                 GRANT USAGE ON SCHEMA cbi_masked TO {groups};
                 CREATE VIEW cbi_masked.customer WITH (security_invoker = true) AS
                   SELECT customer_id, first_name, last_name, company, address, city, state, country, postal_code,
                          CASE WHEN {full} THEN phone END AS phone,
                          CASE WHEN {full} THEN fax ELSE '(hidden)' END AS fax,
                          CASE WHEN {full} THEN email ELSE md5({key} || CAST(email AS text)) END AS email,
                          support_rep_id
                   FROM public.customer;
                 GRANT SELECT ON cbi_masked.customer TO {groups};"
            );
            let mut oracle = pg(DB).await;
            pg_exec(&mut oracle, &policy).await;
        })
        .await;
}

/// `user`'s native session on the oracle, through the engine's PostgreSQL executor.
async fn native(user: &User) -> std::sync::Arc<dyn Executor> {
    let admin = pg_admin_url(DB);
    let host = admin
        .split_once('@')
        .map_or("127.0.0.1:5432/cbi_rls_oracle", |(_, h)| h);
    let url = format!("postgres://{}:{PASSWORD}@{host}", login(user));
    let options = SourceOptions {
        max_rows: MAX_ROWS,
        statement_timeout_ms: 10_000,
        pool_size: 2,
        ..SourceOptions::default()
    };
    exec::connect(&url, options)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", login(user)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_answers_as_postgresql_row_level_security() {
    if !Backend::Postgres.require() {
        return;
    }
    assert!(CORPUS.len() >= 60, "{}", CORPUS.len());
    let users = users();
    setup(&users).await;
    let env = Env::open(Backend::Postgres).await;
    let (mut same, mut both_refused, mut answered) = (0, 0, 0);
    let mut differences = Vec::new();
    for user in &users {
        let view = env.try_view(user).await;
        let oracle = native(user).await;
        for sql in CORPUS {
            let engine = match &view {
                Some(view) => Outcome::of(view.run(sql).await),
                None => Outcome::Failed("no data role".into()),
            };
            let native = oracle.execute(sql).await;
            match (engine, native) {
                (Outcome::Rows(_, e), Ok(n)) => {
                    answered += 1;
                    if rows_match(&e.rows, &n.rows, has_top_level_order_by(sql)) {
                        same += 1;
                    } else {
                        differences.push(format!(
                            "{} {sql}\n    engine ({} rows):{}\n    PostgreSQL ({} rows):{}",
                            user.slug,
                            e.rows.len(),
                            preview(&e.rows),
                            n.rows.len(),
                            preview(&n.rows)
                        ));
                    }
                }
                (Outcome::Refused { .. } | Outcome::Failed(_), Err(_)) => {
                    both_refused += 1;
                    same += 1;
                }
                (Outcome::Rows(_, e), Err(n)) => differences.push(format!(
                    "{} {sql}\n    the engine answered ({} rows), PostgreSQL refused: {n}",
                    user.slug,
                    e.rows.len()
                )),
                (engine, Ok(n)) => differences.push(format!(
                    "{} {sql}\n    PostgreSQL answered ({} rows), the engine did not: {engine:?}",
                    user.slug,
                    n.rows.len()
                )),
            }
        }
    }
    let runs = users.len() * CORPUS.len();
    let summary = format!(
        "RLS oracle: {} statements x {} users = {runs} runs: {same} the same ({answered} answered by both, {both_refused} refused by both), {} different",
        CORPUS.len(),
        users.len(),
        differences.len()
    );
    println!("{summary}\n{}", differences.join("\n"));
    eprintln!("{summary}");
    assert!(
        differences.is_empty(),
        "{summary}\n{}",
        differences.join("\n")
    );
    assert!(answered * 10 >= runs * 7, "{summary}");
}
