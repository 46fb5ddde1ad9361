//! The command-line tool end to end: the real binary, the embedded demo database, and the
//! PostgreSQL and MariaDB test databases (see `scripts/load-test-data.sh`).

use std::process::{Command, Output};

use serde_json::Value;
use testkit::db::{Backend, SETUP_HINT};

const BIN: &str = env!("CARGO_BIN_EXE_heliosdb-conversational-bi");

/// Runs the binary from an empty directory with a private cache folder, so that the demo
/// database must be written out by the binary itself.
fn cli(args: &[&str]) -> (Output, tempfile::TempDir) {
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(args)
        .current_dir(home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
        .expect("binary runs");
    (out, home)
}

fn stdout_json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): stdout={text} stderr={}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn version_is_printed() {
    let (out, _home) = cli(&["--version"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("heliosdb-conversational-bi "), "{text}");
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
}

#[test]
fn schema_of_the_demo_database_needs_no_setup() {
    let (out, home) = cli(&["schema", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let catalog = stdout_json(&out);
    assert_eq!(catalog["dialect"], "sqlite");
    let tables: Vec<&str> = catalog["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(tables.len(), 11, "{tables:?}");
    for name in [
        "Album",
        "Artist",
        "Customer",
        "Invoice",
        "InvoiceLine",
        "Track",
    ] {
        assert!(tables.contains(&name), "{name} missing from {tables:?}");
    }
    // The demo database was written out read-only into the private cache folder.
    let cached: Vec<_> = std::fs::read_dir(home.path().join("cache/heliosdb-conversational-bi"))
        .expect("cache folder")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sqlite"))
        .collect();
    assert_eq!(cached.len(), 1);
    assert!(cached[0].metadata().expect("meta").permissions().readonly());

    let (text, _home) = cli(&["schema"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("InvoiceLine (table)"), "{text}");
    assert!(
        text.contains("-> Invoice.InvoiceId"),
        "foreign keys are shown: {text}"
    );
}

#[test]
fn schema_leaves_out_what_the_access_policy_restricts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.toml");
    std::fs::write(
        &path,
        "[database]\nallowed_tables = [\"Customer\", \"Employee\", \"Artist\"]\n\
         denied_columns = [\"Customer.Email\", \"Employee.Title\"]\n",
    )
    .expect("write");
    let config = path.to_str().expect("utf-8");
    let (out, _h) = cli(&["--config", config, "schema", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let catalog = stdout_json(&out);
    let tables = catalog["tables"].as_array().expect("tables");
    let names: Vec<&str> = tables
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Artist", "Customer", "Employee"]);
    for table in tables {
        let columns: Vec<&str> = table["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c["name"].as_str().expect("name"))
            .collect();
        match table["name"].as_str() {
            Some("Customer") => assert!(!columns.contains(&"Email"), "{columns:?}"),
            Some("Employee") => {
                assert!(!columns.contains(&"Title"), "{columns:?}");
                assert!(columns.contains(&"Email"), "only Customer.Email is denied");
            }
            _ => {}
        }
        assert!(
            !table.to_string().contains("Invoice"),
            "no key into a hidden table: {table}"
        );
    }
    let (out, _h) = cli(&["--config", config, "schema"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 tables and views"), "{text}");
    assert!(
        !text.contains("Invoice") && !text.contains("Title"),
        "{text}"
    );
    // The validator still knows the denied column.
    let (out, _h) = cli(&["--config", config, "validate", "SELECT Email FROM Customer"]);
    assert_eq!(out.status.code(), Some(3));
    let refused =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(refused.contains("restricted"), "{refused}");
}

#[test]
fn schema_run_and_ask_read_as_the_principal_the_arguments_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("access.toml");
    std::fs::write(
        &path,
        "[access.roles.sales_rep]\n\
         row_filters = { Customer = \"SupportRepId = {user.employee_id}\" }\n\
         columns = { \"Customer.Email\" = \"hash\", \"Employee.BirthDate\" = \"deny\" }\n\
         [access.roles.hr]\n",
    )
    .expect("write");
    let config = path.to_str().expect("utf-8");
    let rep = [
        "--role",
        "sales_rep",
        "--attr",
        "employee_id=4",
        "--as-user",
        "jane",
    ];
    let count = "SELECT count(*) FROM Customer";
    let mut args = vec!["--config", config, "run", "--json"];
    args.extend(rep);
    args.push(count);
    let (out, _h) = cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = stdout_json(&out);
    assert_eq!(json["rows"][0][0], 20, "{json}");
    assert_eq!(json["sql"], "SELECT count(*) FROM Customer LIMIT 1000");
    let (out, _h) = cli(&["--config", config, "run", "--json", "--role", "hr", count]);
    assert_eq!(stdout_json(&out)["rows"][0][0], 59);
    // No role: nothing may be read, and the error says what to do.
    let (out, _h) = cli(&["--config", config, "run", count]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no data role"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut args = vec!["--config", config, "schema", "--json"];
    args.extend(rep);
    let (out, _h) = cli(&args);
    let catalog = stdout_json(&out).to_string();
    assert!(!catalog.contains("BirthDate"), "denied for the rep");
    let mut args = vec!["--config", config, "ask", "--json"];
    args.extend(rep);
    args.push("How many customers are there?");
    let (out, _h) = cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("20"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (out, _h) = cli(&["--config", config, "run", "--attr", "oops", count]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NAME=VALUE"));
}

#[test]
fn validate_accepts_with_exit_0_and_rejects_with_exit_3() {
    let (out, _h) = cli(&[
        "validate",
        "--json",
        "SELECT Name FROM Artist -- trailing comment",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_eq!(v["accepted"], true);
    let sql = v["sql"].as_str().expect("sql");
    assert!(!sql.contains("comment"), "comments are stripped: {sql}");
    assert!(sql.contains("LIMIT 1000"), "the row cap is applied: {sql}");

    let (out, _h) = cli(&["validate", "--json", "DELETE FROM Artist"]);
    assert_eq!(out.status.code(), Some(3));
    let v = stdout_json(&out);
    assert_eq!(v["accepted"], false);
    assert!(v["rule"].is_string() && v["reason"].is_string(), "{v}");

    let (out, _h) = cli(&["validate", "--json", "SELECT Nmae FROM Artist"]);
    assert_eq!(out.status.code(), Some(3));
    let v = stdout_json(&out);
    assert!(
        v["reason"].as_str().expect("reason").contains("Name"),
        "did-you-mean: {v}"
    );

    let (out, _h) = cli(&["validate", "SELECT 1; DROP TABLE Artist"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("rejected ("));
}

#[test]
fn run_prints_typed_rows_and_truncation() {
    let (out, _h) = cli(&[
        "run",
        "--json",
        "SELECT ar.Name, count(*) AS tracks FROM Artist ar JOIN Album al ON al.ArtistId = ar.ArtistId \
         JOIN Track t ON t.AlbumId = al.AlbumId GROUP BY ar.Name ORDER BY tracks DESC LIMIT 5",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_eq!(v["row_count"], 5);
    assert_eq!(v["truncated"], false);
    assert_eq!(v["rows"][0][0], "Iron Maiden");
    assert_eq!(v["rows"][0][1], 213);
    assert_eq!(v["columns"][1]["name"], "tracks");

    let (out, _h) = cli(&["run", "--json", "SELECT TrackId FROM Track"]);
    let v = stdout_json(&out);
    assert_eq!(v["row_count"], 1000);
    assert_eq!(v["truncated"], true);

    let (out, _h) = cli(&["run", "SELECT Name FROM Genre ORDER BY Name LIMIT 2"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Alternative") && text.contains("(2 rows"),
        "{text}"
    );
}

#[test]
fn run_refuses_writes_with_exit_3_and_reports_errors_as_json() {
    let (out, _h) = cli(&["run", "--json", "UPDATE Artist SET Name = 'x'"]);
    assert_eq!(out.status.code(), Some(3));

    let (out, _h) = cli(&[
        "run",
        "--json",
        "--database",
        "postgres://nobody:hunter2@127.0.0.1:1/x",
        "SELECT 1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = stdout_json(&out);
    assert_eq!(v["error"]["code"], "DATABASE_UNAVAILABLE", "{v}");
    assert!(
        !v.to_string().contains("hunter2"),
        "no password in errors: {v}"
    );
}

#[test]
fn bad_configuration_is_a_usage_error_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[database]\nmax_rows = \"many\"\n").expect("write");
    let (out, _h) = cli(&["--config", path.to_str().expect("utf-8"), "schema"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("database.max_rows") && err.contains("bad.toml:2"),
        "{err}"
    );
}

#[test]
fn the_runbook_example_configuration_is_accepted() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/conversational-bi.toml"
    );
    let (out, _h) = cli(&["--config", example, "validate", "--json", "SELECT 1 AS one"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn schema_and_run_on_postgres_and_mariadb() {
    for (backend, table) in [
        (Backend::Postgres, "invoice_line"),
        (Backend::Mysql, "InvoiceLine"),
    ] {
        if !backend.require() {
            continue;
        }
        let url = backend.chinook_url();
        let (out, _h) = cli(&["schema", "--json", "--database", &url]);
        assert!(
            out.status.success(),
            "{table}: {}\n{SETUP_HINT}",
            String::from_utf8_lossy(&out.stderr)
        );
        let catalog = stdout_json(&out);
        assert!(
            catalog["tables"]
                .as_array()
                .expect("tables")
                .iter()
                .any(|t| t["name"] == table),
            "{table}"
        );

        let (out, _h) = cli(&[
            "run",
            "--json",
            "--database",
            &url,
            &format!("SELECT count(*) AS n FROM {table}"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout_json(&out)["rows"][0][0], 2240);
    }
}

/// Runs the binary as [`cli`] does, with `RUST_LOG` set to `rust_log` when given.
fn cli_with_log(args: &[&str], rust_log: Option<&str>) -> Output {
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
    if let Some(level) = rust_log {
        command.env("RUST_LOG", level);
    }
    command.output().expect("binary runs")
}

#[test]
fn a_failing_command_prints_its_error_once_and_no_log_line_unless_asked() {
    let question = "How happy were the customers?";
    let out = cli_with_log(&["ask", question], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("error [CANNOT_ANSWER]").count(),
        1,
        "the error once: {err}"
    );
    assert!(
        !err.contains("query failed") && !err.contains("WARN"),
        "no log line without RUST_LOG: {err}"
    );
    assert!(!err.contains('\u{1b}'), "no terminal colours: {err}");

    let out = cli_with_log(&["ask", question], Some("warn"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("WARN") && err.contains("query failed") && err.contains("CANNOT_ANSWER"),
        "RUST_LOG=warn shows the engine's log line: {err}"
    );
    assert_eq!(
        err.matches("error [CANNOT_ANSWER]").count(),
        1,
        "and the error once: {err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no colours when stderr is not a terminal: {err}"
    );

    let out = cli_with_log(&["--verbose", "ask", question], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("query failed"),
        "--verbose shows the log lines at [logging] level: {err}"
    );
}
