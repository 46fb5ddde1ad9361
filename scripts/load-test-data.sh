#!/usr/bin/env bash
# Loads the integration tests' data into the local PostgreSQL and MariaDB (see services.sh):
#   - Chinook as database `chinook` (PostgreSQL: the shipped script, snake_case names;
#     MariaDB: derived from the shipped SQLite file by chinook_to_mysql.py, PascalCase names),
#     with a few table/column comments;
#   - the guardrail attack schema as database `cbi_guard` (customers, orders, audit and, on
#     MariaDB, the view t1_orders);
#   - the SELECT-only user cbi_ro (password cbi_ro) with SELECT on those databases only;
#   - Sakila (the DVD rental sample) as PostgreSQL database `sakila` from the shipped jOOQ
#     scripts (snake_case names; the semantic model models/sakila.yaml), readable by cbi_ro;
#   - the differential test's schema as database `cbi_diff` (and, on MariaDB, `cbi_diff_other`)
#     with its roles cbi_diff_all and cbi_diff_probe (password cbi_diff), in a block of its own.
# Idempotent and fast when already loaded: each database carries a version marker, and is
# dropped and recreated only when missing or stale. FORCE=1 reloads everything.
# The shared data directory comes from $CBI_SHARED_DIR (default: <repo root>/../shared).
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
shared=${CBI_SHARED_DIR:-$repo_root/../shared}
chinook_pg_sql=$shared/data/chinook/Chinook_PostgreSql.sql
chinook_sqlite=$shared/data/chinook/Chinook_Sqlite.sqlite
sakila_pg_schema=$shared/data/sakila/postgres-sakila-schema.sql
sakila_pg_data=$shared/data/sakila/postgres-sakila-insert-data-using-copy.sql
for f in "$chinook_pg_sql" "$chinook_sqlite" "$sakila_pg_schema" "$sakila_pg_data"; do
  [ -r "$f" ] || { echo "load-test-data.sh: $f not found; set CBI_SHARED_DIR to the shared folder" >&2; exit 1; }
done

# Bump when the loaded content changes so that stale databases are rebuilt.
MARKER="cbi-test-data v1"
FORCE=${FORCE:-0}

pg() { psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qtAX "$@"; }
my() { mariadb -uroot "$@"; }

pg_marker() { pg -d postgres -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$1'"; }
my_marker() { my -N -e "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$1'" 2>/dev/null || true; }

# ---------- PostgreSQL ----------
pg -d postgres -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cbi_ro') THEN
    CREATE ROLE cbi_ro LOGIN PASSWORD 'cbi_ro' NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF; END \$\$;"

if [ "$FORCE" = 1 ] || [ "$(pg_marker chinook)" != "$MARKER" ]; then
  echo "load-test-data.sh: loading Chinook into PostgreSQL"
  pg -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'chinook' AND pid <> pg_backend_pid()" >/dev/null
  pg -d postgres -f "$chinook_pg_sql" >/dev/null
  pg -d chinook -c "
    COMMENT ON TABLE track IS 'A song or other recording sold in the store';
    COMMENT ON COLUMN track.unit_price IS 'Price of one purchase of the track, in US dollars';
    COMMENT ON COLUMN track.milliseconds IS 'Duration of the track in milliseconds';
    COMMENT ON DATABASE chinook IS '$MARKER';"
fi

if [ "$FORCE" = 1 ] || [ "$(pg_marker cbi_guard)" != "$MARKER" ]; then
  echo "load-test-data.sh: creating cbi_guard in PostgreSQL"
  pg -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'cbi_guard' AND pid <> pg_backend_pid()" >/dev/null
  pg -d postgres -c "DROP DATABASE IF EXISTS cbi_guard" -c "CREATE DATABASE cbi_guard"
  pg -d cbi_guard -c "
    CREATE TABLE customers (id int PRIMARY KEY, tenant_id int NOT NULL, name text NOT NULL, email text NOT NULL);
    CREATE TABLE orders (id int PRIMARY KEY, tenant_id int NOT NULL, customer_id int NOT NULL REFERENCES customers(id),
                         amount numeric(10,2) NOT NULL, created_at timestamp NOT NULL);
    CREATE TABLE audit (x text);
    INSERT INTO customers SELECT i, 1 + i % 2, 'Customer ' || i, 'customer' || i || '@example.com' FROM generate_series(1, 100) i;
    INSERT INTO orders SELECT i, 1 + (1 + (i - 1) % 100) % 2, 1 + (i - 1) % 100, (i * 37 % 10000) / 100.0,
                              timestamp '2024-01-01' + (i % 366) * interval '1 day' + (i % 86400) * interval '1 second'
                       FROM generate_series(1, 10000) i;
    INSERT INTO audit VALUES ('seed');
    COMMENT ON DATABASE cbi_guard IS '$MARKER';"
fi

for db in chinook cbi_guard; do
  pg -d "$db" -c "
    REVOKE ALL ON DATABASE $db FROM PUBLIC;
    GRANT CONNECT ON DATABASE $db TO cbi_ro;
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    GRANT USAGE ON SCHEMA public TO cbi_ro;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO cbi_ro;"
done

# Sakila on PostgreSQL: its own version marker; rebuilt when missing or stale, or with FORCE=1.
SAKILA_MARKER="cbi-sakila v1"
if [ "$FORCE" = 1 ] || [ "$(pg_marker sakila)" != "$SAKILA_MARKER" ]; then
  echo "load-test-data.sh: loading Sakila into PostgreSQL"
  pg -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'sakila' AND pid <> pg_backend_pid()" >/dev/null
  PGOPTIONS='-c client_min_messages=warning' pg -d postgres -c "DROP DATABASE IF EXISTS sakila" -c "CREATE DATABASE sakila"
  pg -d sakila -f "$sakila_pg_schema" >/dev/null
  pg -d sakila -f "$sakila_pg_data" >/dev/null
  pg -d sakila -c "
    REVOKE ALL ON DATABASE sakila FROM PUBLIC;
    GRANT CONNECT ON DATABASE sakila TO cbi_ro;
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    GRANT USAGE ON SCHEMA public TO cbi_ro;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO cbi_ro;
    COMMENT ON DATABASE sakila IS '$SAKILA_MARKER';"
fi

# ---------- MariaDB ----------
if [ "$FORCE" = 1 ] || [ "$(my_marker chinook)" != "$MARKER" ]; then
  echo "load-test-data.sh: loading Chinook into MariaDB"
  my -e "DROP DATABASE IF EXISTS chinook; CREATE DATABASE chinook CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;"
  python3 "$repo_root/scripts/chinook_to_mysql.py" "$chinook_sqlite" | my chinook
  my -e "ALTER DATABASE chinook COMMENT = '$MARKER'"
fi

if [ "$FORCE" = 1 ] || [ "$(my_marker cbi_guard)" != "$MARKER" ]; then
  echo "load-test-data.sh: creating cbi_guard in MariaDB"
  my -e "DROP DATABASE IF EXISTS cbi_guard; CREATE DATABASE cbi_guard CHARACTER SET utf8mb4;"
  my cbi_guard -e "
    CREATE TABLE customers (id INT PRIMARY KEY, tenant_id INT NOT NULL, name VARCHAR(100) NOT NULL, email VARCHAR(200) NOT NULL);
    CREATE TABLE orders (id INT PRIMARY KEY, tenant_id INT NOT NULL, customer_id INT NOT NULL,
                         amount DECIMAL(10,2) NOT NULL, created_at DATETIME NOT NULL,
                         FOREIGN KEY (customer_id) REFERENCES customers(id));
    CREATE TABLE audit (x VARCHAR(100));
    INSERT INTO customers SELECT seq, 1 + seq % 2, CONCAT('Customer ', seq), CONCAT('customer', seq, '@example.com') FROM seq_1_to_100;
    INSERT INTO orders SELECT seq, 1 + (1 + (seq - 1) % 100) % 2, 1 + (seq - 1) % 100, (seq * 37 % 10000) / 100.0,
                              TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (seq % 366) DAY + INTERVAL (seq % 86400) SECOND
                       FROM seq_1_to_10000;
    INSERT INTO audit VALUES ('seed');
    CREATE VIEW t1_orders AS SELECT * FROM orders WHERE tenant_id = 1;
    ALTER DATABASE cbi_guard COMMENT = '$MARKER';"
fi

for host in localhost 127.0.0.1 '%'; do
  my -e "CREATE USER IF NOT EXISTS 'cbi_ro'@'$host' IDENTIFIED BY 'cbi_ro';
         GRANT SELECT ON chinook.* TO 'cbi_ro'@'$host';
         GRANT SELECT ON cbi_guard.* TO 'cbi_ro'@'$host';"
done
my -e "FLUSH PRIVILEGES"

# ---------- cbi_audit: the SQL-safety regression schema (both servers) ----------
# customers.ssn is the restricted column and secrets the table outside the allowed list of the
# tests in core/tests/it/sql_safety; on MariaDB, cbi_audit_other stands for another tenant's
# database that the same account can read.
AUDIT_MARKER="cbi-audit v2"
if [ "$FORCE" = 1 ] || [ "$(pg_marker cbi_audit)" != "$AUDIT_MARKER" ]; then
  echo "load-test-data.sh: creating cbi_audit in PostgreSQL"
  pg -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'cbi_audit' AND pid <> pg_backend_pid()" >/dev/null
  pg -d postgres -c "DROP DATABASE IF EXISTS cbi_audit" -c "CREATE DATABASE cbi_audit"
  pg -d cbi_audit -c "
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, ssn text NOT NULL, region text NOT NULL);
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), amount numeric(10,2) NOT NULL,
                         created_at timestamp NOT NULL);
    CREATE TABLE secrets (id int PRIMARY KEY, token text NOT NULL);
    INSERT INTO customers SELECT i, 'Customer ' || i, 'customer' || i || '@example.com', lpad(i::text, 3, '0') || '-55-0000',
                                 CASE WHEN i % 2 = 0 THEN 'EU' ELSE 'US' END FROM generate_series(1, 20) i;
    INSERT INTO orders SELECT i, 1 + i % 20, i * 10.5, timestamp '2024-01-01' + i * interval '1 day' FROM generate_series(1, 200) i;
    INSERT INTO secrets VALUES (1, 'top-secret-token');
    CREATE VIEW customer_names AS SELECT id, name FROM customers;
    REVOKE ALL ON DATABASE cbi_audit FROM PUBLIC;
    GRANT CONNECT ON DATABASE cbi_audit TO cbi_ro;
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    GRANT USAGE ON SCHEMA public TO cbi_ro;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO cbi_ro;
    COMMENT ON DATABASE cbi_audit IS '$AUDIT_MARKER';"
fi
if [ "$FORCE" = 1 ] || [ "$(my_marker cbi_audit)" != "$AUDIT_MARKER" ]; then
  echo "load-test-data.sh: creating cbi_audit and cbi_audit_other in MariaDB"
  my -e "DROP DATABASE IF EXISTS cbi_audit; CREATE DATABASE cbi_audit CHARACTER SET utf8mb4;
         DROP DATABASE IF EXISTS cbi_audit_other; CREATE DATABASE cbi_audit_other CHARACTER SET utf8mb4;"
  my cbi_audit -e "
    CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200) NOT NULL, ssn VARCHAR(20) NOT NULL,
                            region VARCHAR(10) NOT NULL);
    CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(10,2) NOT NULL, created_at DATETIME NOT NULL,
                         FOREIGN KEY (customer_id) REFERENCES customers(id));
    CREATE TABLE secrets (id INT PRIMARY KEY, token VARCHAR(100) NOT NULL);
    INSERT INTO customers SELECT seq, CONCAT('Customer ', seq), CONCAT('customer', seq, '@example.com'),
                                 CONCAT(LPAD(seq, 3, '0'), '-55-0000'), IF(seq % 2 = 0, 'EU', 'US') FROM seq_1_to_20;
    INSERT INTO orders SELECT seq, 1 + seq % 20, seq * 10.5, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq DAY FROM seq_1_to_200;
    INSERT INTO secrets VALUES (1, 'top-secret-token');"
  my cbi_audit_other -e "
    CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(100) NOT NULL, amount DECIMAL(10,2) NOT NULL);
    INSERT INTO orders VALUES (1, 'Other tenant customer', 999.99);"
  my -e "ALTER DATABASE cbi_audit COMMENT = '$AUDIT_MARKER'; ALTER DATABASE cbi_audit_other COMMENT = '$AUDIT_MARKER';"
fi
for host in localhost 127.0.0.1 '%'; do
  my -e "GRANT SELECT ON cbi_audit.* TO 'cbi_ro'@'$host'; GRANT SELECT ON cbi_audit_other.* TO 'cbi_ro'@'$host';"
done
my -e "FLUSH PRIVILEGES"
echo "load-test-data.sh: chinook, cbi_guard and cbi_audit are loaded on PostgreSQL and MariaDB"

# ---------- Differential test (cbi_diff) ----------
# The schema of core/tests/it/differential (keep in step with its fixture.rs): customers with
# the restricted column ssn, orders, notes (identifiers with quote characters, a space, non-ASCII
# letters and the restricted column pr"ivate), and secrets outside the allowed tables; plus a
# table of the same name in another namespace (PostgreSQL schema archive, MariaDB database
# cbi_diff_other). Two roles read it: cbi_diff_all (every table) runs the oracles' EXPLAINs, and
# cbi_diff_probe holds column grants that match the validator's policy, so that the database
# itself refuses a statement reading a restricted column or a table outside the allowed ones.
# MariaDB tables have no keys and at least two rows so that EXPLAIN never folds a table into
# constants. Its own version marker; rebuilt when missing or stale, or with FORCE=1.
DIFF_MARKER="cbi-diff v1"

if [ "$FORCE" = 1 ] || [ "$(pg_marker cbi_diff)" != "$DIFF_MARKER" ]; then
  echo "load-test-data.sh: creating cbi_diff in PostgreSQL"
  pg -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'cbi_diff' AND pid <> pg_backend_pid()" >/dev/null
  pg -d postgres -c "DROP DATABASE IF EXISTS cbi_diff" -c "CREATE DATABASE cbi_diff"
  pg -d cbi_diff -c "
    CREATE SCHEMA archive;
    CREATE TABLE customers (id int PRIMARY KEY, full_name text NOT NULL, email text NOT NULL, ssn text NOT NULL);
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2) NOT NULL, status text NOT NULL);
    CREATE TABLE notes (id int PRIMARY KEY, customer_id int NOT NULL, body text, \"Mixed Case\" text, \"q\"\"uote\" text,
                        \"b\`tick\" text, \"br]ack\" text, \"ünï\" text, \"pr\"\"ivate\" text);
    CREATE TABLE secrets (id int PRIMARY KEY, customer_id int NOT NULL, token text NOT NULL);
    CREATE TABLE archive.orders (id int PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2) NOT NULL, status text NOT NULL);
    INSERT INTO customers SELECT i, 'Customer ' || i, 'c' || i || '@example.com', '000-00-' || (1000 + i) FROM generate_series(1, 20) i;
    INSERT INTO orders SELECT i, 1 + i % 20, i * 1.5, CASE WHEN i % 3 = 0 THEN 'open' ELSE 'paid' END FROM generate_series(1, 60) i;
    INSERT INTO notes SELECT i, 1 + i % 20, 'note ' || i, 'm', 'q', 'b', 'k', 'u', 'private ' || i FROM generate_series(1, 30) i;
    INSERT INTO secrets SELECT i, i, 'token-' || i FROM generate_series(1, 20) i;
    INSERT INTO archive.orders SELECT i, 1 + i % 20, i * 2.5, 'archived' FROM generate_series(1, 40) i;
    ANALYZE;
    COMMENT ON DATABASE cbi_diff IS '$DIFF_MARKER';"
fi

pg -d postgres -c "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cbi_diff_all') THEN
    CREATE ROLE cbi_diff_all LOGIN PASSWORD 'cbi_diff' NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cbi_diff_probe') THEN
    CREATE ROLE cbi_diff_probe LOGIN PASSWORD 'cbi_diff' NOSUPERUSER NOCREATEDB NOCREATEROLE;
  END IF; END \$\$;"
pg -d cbi_diff -c "
  REVOKE ALL ON DATABASE cbi_diff FROM PUBLIC;
  GRANT CONNECT ON DATABASE cbi_diff TO cbi_diff_all, cbi_diff_probe;
  REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  GRANT USAGE ON SCHEMA public, archive TO cbi_diff_all;
  GRANT SELECT ON ALL TABLES IN SCHEMA public, archive TO cbi_diff_all;
  GRANT USAGE ON SCHEMA public TO cbi_diff_probe;
  GRANT SELECT (id, full_name, email) ON customers TO cbi_diff_probe;
  GRANT SELECT ON orders TO cbi_diff_probe;
  GRANT SELECT (id, customer_id, body, \"Mixed Case\", \"q\"\"uote\", \"b\`tick\", \"br]ack\", \"ünï\") ON notes TO cbi_diff_probe;"

if [ "$FORCE" = 1 ] || [ "$(my_marker cbi_diff)" != "$DIFF_MARKER" ]; then
  echo "load-test-data.sh: creating cbi_diff and cbi_diff_other in MariaDB"
  my -e "DROP DATABASE IF EXISTS cbi_diff; DROP DATABASE IF EXISTS cbi_diff_other;
         CREATE DATABASE cbi_diff CHARACTER SET utf8mb4; CREATE DATABASE cbi_diff_other CHARACTER SET utf8mb4;"
  my cbi_diff -e "
    CREATE TABLE customers (id INT NOT NULL, full_name VARCHAR(100) NOT NULL, email VARCHAR(200) NOT NULL, ssn VARCHAR(20) NOT NULL);
    CREATE TABLE orders (id INT NOT NULL, customer_id INT NOT NULL, amount DECIMAL(10,2) NOT NULL, status VARCHAR(20) NOT NULL);
    CREATE TABLE notes (id INT NOT NULL, customer_id INT NOT NULL, body TEXT, \`Mixed Case\` TEXT, \`q\"uote\` TEXT,
                        \`b\`\`tick\` TEXT, \`br]ack\` TEXT, \`ünï\` TEXT, \`pr\"ivate\` TEXT);
    CREATE TABLE secrets (id INT NOT NULL, customer_id INT NOT NULL, token VARCHAR(100) NOT NULL);
    INSERT INTO customers SELECT seq, CONCAT('Customer ', seq), CONCAT('c', seq, '@example.com'), CONCAT('000-00-', 1000 + seq) FROM seq_1_to_20;
    INSERT INTO orders SELECT seq, 1 + seq % 20, seq * 1.5, IF(seq % 3 = 0, 'open', 'paid') FROM seq_1_to_60;
    INSERT INTO notes SELECT seq, 1 + seq % 20, CONCAT('note ', seq), 'm', 'q', 'b', 'k', 'u', CONCAT('private ', seq) FROM seq_1_to_30;
    INSERT INTO secrets SELECT seq, seq, CONCAT('token-', seq) FROM seq_1_to_20;"
  my cbi_diff_other -e "
    CREATE TABLE orders (id INT NOT NULL, customer_id INT NOT NULL, amount DECIMAL(10,2) NOT NULL, status VARCHAR(20) NOT NULL);
    CREATE TABLE secrets (id INT NOT NULL, customer_id INT NOT NULL, token VARCHAR(100) NOT NULL);
    INSERT INTO orders SELECT seq, 1 + seq % 20, seq * 2.5, 'archived' FROM seq_1_to_40;
    INSERT INTO secrets SELECT seq, seq, CONCAT('other-token-', seq) FROM seq_1_to_20;"
  my -e "ALTER DATABASE cbi_diff COMMENT = '$DIFF_MARKER'"
fi

for host in localhost 127.0.0.1 '%'; do
  my -e "CREATE USER IF NOT EXISTS 'cbi_diff_all'@'$host' IDENTIFIED BY 'cbi_diff';
         GRANT SELECT ON cbi_diff.* TO 'cbi_diff_all'@'$host';
         GRANT SELECT ON cbi_diff_other.* TO 'cbi_diff_all'@'$host';
         CREATE USER IF NOT EXISTS 'cbi_diff_probe'@'$host' IDENTIFIED BY 'cbi_diff';
         GRANT SELECT (id, full_name, email) ON cbi_diff.customers TO 'cbi_diff_probe'@'$host';
         GRANT SELECT ON cbi_diff.orders TO 'cbi_diff_probe'@'$host';
         GRANT SELECT (id, customer_id, body, \`Mixed Case\`, \`q\"uote\`, \`b\`\`tick\`, \`br]ack\`, \`ünï\`)
           ON cbi_diff.notes TO 'cbi_diff_probe'@'$host';"
done
my -e "FLUSH PRIVILEGES"
echo "load-test-data.sh: cbi_diff is loaded on PostgreSQL and MariaDB"
