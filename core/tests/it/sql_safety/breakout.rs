//! C1: a literal or a quoted name must stay one token from the validator to the database.
//!
//! Each statement below was approved as a literal or a name and then, once re-rendered, read by
//! the database as code that read restricted data. The checks hold for the class: whatever the
//! validator accepts must give exactly what the database returns for the statement as written
//! (here: the literal itself), and nothing restricted.

use conversational_bi::{Engine, Error, ErrorKind, engine::Ask};

use super::{Db, assert_nothing_leaked, cells, run};
use testkit::db::Backend;

/// Statements that read restricted data once a literal or a name was broken open.
fn payloads(db: Db) -> Vec<String> {
    match db {
        Db::Sqlite => {
            let reads = "(SELECT group_concat(Email) FROM Customer) AS emails, (SELECT sum(Total) FROM Invoice) AS revenue";
            vec![
                // The review's statement: `'x\''` holds a quote after a backslash.
                format!("SELECT 'x\\'', {reads} --'"),
                format!("SELECT 'x\\\\'', {reads} --'"),
                format!("SELECT '\\'', {reads} /*'"),
                format!("SELECT 1 AS \"a\\\"\", {reads} --\""),
                format!("SELECT 1 AS `a\\``, {reads} --`"),
                format!("SELECT 1 AS [a]], {reads} AS [b]"),
            ]
        }
        Db::Postgres => {
            let reads = "(SELECT max(ssn) FROM customers) AS s, (SELECT max(token) FROM secrets) AS t, \
                         (SELECT max(datname) FROM pg_database) AS d, current_user AS u, version() AS v, \
                         (SELECT pg_sleep(2)) AS z";
            vec![
                format!("SELECT 'x\\'', {reads} --'"),
                format!("SELECT 'x\\\\'', {reads} --'"),
                format!("SELECT 1 AS \"a\\\"\", {reads} --\""),
                format!("SELECT E'x\\'', {reads} --'"),
            ]
        }
        Db::Mysql => {
            let reads = "(SELECT max(ssn) FROM customers) AS s, (SELECT max(customer) FROM cbi_audit_other.orders) AS o, \
                         (SELECT max(token) FROM secrets) AS t, USER() AS u, @@version AS v, SLEEP(1) AS z";
            vec![
                // `'a\\'` is `a\`, and rendered as `'a\'` it swallowed the next quote.
                format!("SELECT 'a\\\\', ', {reads} -- ' AS pad"),
                format!("SELECT \"a\\\\\", \", {reads} -- \" AS pad"),
                format!("SELECT 'a\\\\\\'', {reads} -- '"),
                format!("SELECT 1 AS `a\\``, {reads} -- `"),
            ]
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literals_and_names_never_break_open_on_any_database() {
    for db in Db::available() {
        let source = db.source().await;
        assert_eq!(source.validator().dialect(), db.dialect());
        for sql in payloads(db) {
            match run(&source, &sql).await {
                Ok((validated, result)) => {
                    assert_nothing_leaked(db, &sql, &result);
                    // The database reads the statement as written the same way: as literals.
                    let direct = source
                        .executor()
                        .execute(&sql)
                        .await
                        .unwrap_or_else(|e| panic!("{db:?}: {sql} as written fails: {e}"));
                    assert_eq!(
                        cells(&result),
                        cells(&direct),
                        "{db:?}: the engine ran {}\nwhich does not return what the database reads in {sql}",
                        validated.exec_sql
                    );
                    assert_eq!(result.rows.len(), 1, "{db:?}: {sql}");
                }
                Err(Error::SqlRejected { rule, reason, .. }) => {
                    assert!(
                        !reason.is_empty(),
                        "{db:?}: {sql} refused by {rule} without a reason"
                    );
                }
                Err(e) => panic!("{db:?}: {sql} failed at the database: {e}"),
            }
        }
    }
}

#[tokio::test]
async fn a_bracket_name_cannot_hold_its_closing_bracket() {
    let source = Db::Sqlite.source().await;
    let err = run(
        &source,
        "SELECT 1 AS [a]], (SELECT group_concat(Email) FROM Customer) AS [b]",
    )
    .await
    .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::SqlRejected, "{err}");
    assert!(err.to_string().contains("double quotes"), "{err}");
}

#[tokio::test]
async fn mysql_backslashes_are_written_back_escaped() {
    if !Db::Mysql.require() {
        return;
    }
    let source = Db::Mysql.source().await;
    let validated = source.validate(r"SELECT 'a\\' AS x").expect("accepted");
    assert_eq!(validated.sql, r"SELECT 'a\\' AS x LIMIT 1000");
    let (_, result) = run(&source, r"SELECT 'a\\' AS x, 'it''s', 'b\'c'")
        .await
        .expect("runs");
    assert_eq!(cells(&result), vec![r"a\", "it's", "b'c"]);
}

/// The offline rule generator builds its literals with the same escaper: a quoted value from the
/// question is one literal on every database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_generator_values_stay_literals() {
    let question =
        "list customers with company \"x\\' UNION SELECT Email, Phone FROM Customer --\"";
    for backend in Backend::available() {
        let mut config = conversational_bi::Config::default();
        config.database.denied_columns = vec![format!(
            "{}.{}",
            backend.name("Customer", "customer"),
            backend.name("Email", "email")
        )];
        let engine = Engine::builder()
            .config(config)
            .database_url(backend.chinook_url())
            .build()
            .await
            .unwrap_or_else(|e| panic!("{backend:?}: {e}"));
        match engine.ask(Ask::new(question)).await {
            Ok(answer) => {
                assert!(
                    answer.rows.is_empty(),
                    "{backend:?}: {}\n{:?}",
                    answer.sql,
                    answer.rows
                );
                assert!(
                    answer
                        .sql
                        .contains("UNION SELECT Email, Phone FROM Customer --"),
                    "{backend:?}: the value is one literal: {}",
                    answer.sql
                );
            }
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::CannotAnswer | ErrorKind::SqlRejected),
                "{backend:?}: {e}"
            ),
        }
    }
}
