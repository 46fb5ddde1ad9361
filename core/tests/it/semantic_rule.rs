//! The offline rules reading a semantic model: measures, named filters, dimensions over
//! expressions, time dimensions and synonyms on the demo database (its bundled model), on
//! MariaDB's Chinook (the same model), and on Northwind with a model written here; the
//! clarifying questions they ask when a phrase has two readings; and the answer to the reply.
//! Every statement is validated and run; each construction has a near phrase that must abstain.

use std::path::PathBuf;

use conversational_bi::{
    Config, DataSource, ErrorKind,
    eval::rows_match,
    exec::Value,
    generate::{Generation, GenerationRequest, RuleGenerator, SqlGenerator},
    session::Turn,
};
use testkit::db::{Backend, SETUP_HINT};

/// A source and the rules over it.
struct Db {
    source: DataSource,
    rules: RuleGenerator,
}

impl Db {
    async fn open(config: &Config, url: Option<&str>) -> Self {
        let source = DataSource::connect(config, url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url:?}: {e}\n{SETUP_HINT}"));
        let rules = RuleGenerator::from_source(&source)
            .await
            .expect("generator");
        Self { source, rules }
    }

    /// The demo database with its bundled model.
    async fn demo() -> Self {
        Self::open(&Config::default(), None).await
    }

    /// `url` with the model `yaml`.
    async fn with_model(url: &str, yaml: &str, name: &str) -> Self {
        let path = model_file(yaml, name);
        let mut config = Config::default();
        config.semantic.model = vec![path];
        Self::open(&config, Some(url)).await
    }

    async fn generate(
        &self,
        question: &str,
        history: &[Turn],
    ) -> conversational_bi::Result<Generation> {
        let request = GenerationRequest {
            question: question.into(),
            catalog: self.source.visible_catalog().clone(),
            history: history.to_vec(),
            feedback: Vec::new(),
            max_rows: 100_000,
            view: None,
        };
        self.rules.generate(&request).await
    }

    /// The SQL and rows of the rules' answer, validated and run by the source.
    async fn ask(&self, question: &str, history: &[Turn]) -> (Generation, Vec<Vec<Value>>) {
        let g = self
            .generate(question, history)
            .await
            .unwrap_or_else(|e| panic!("{question}: {e}"));
        assert!(
            g.clarification.is_none(),
            "{question}: asked {:?}",
            g.clarification
        );
        let (_, result) = self
            .source
            .run(&g.sql)
            .await
            .unwrap_or_else(|e| panic!("{question}: {}: {e}", g.sql));
        (g, result.rows)
    }

    /// Rows of reference SQL.
    async fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        self.source
            .run(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .1
            .rows
    }

    /// Asserts the rules answer `question` with the rows of `gold`.
    async fn same(&self, question: &str, gold: &str, ordered: bool) -> Generation {
        let (g, rows) = self.ask(question, &[]).await;
        let want = self.rows(gold).await;
        assert!(!want.is_empty(), "{gold} returns nothing");
        assert!(
            rows_match(&rows, &want, ordered),
            "{question}: {}\n got {:?}\nwant {:?}",
            g.sql,
            &rows[..rows.len().min(5)],
            &want[..want.len().min(5)]
        );
        g
    }

    /// Asserts the rules abstain on `question`.
    async fn abstains(&self, question: &str) {
        match self.generate(question, &[]).await {
            Err(e) => assert_eq!(e.kind(), ErrorKind::CannotAnswer, "{question}: {e}"),
            Ok(g) => panic!(
                "{question} must abstain; wrote {:?} / {:?}",
                g.sql, g.clarification
            ),
        }
    }

    /// Asserts the rules ask back on `question`, with these option labels.
    async fn asks(&self, question: &str, labels: &[&str]) -> Turn {
        let g = self
            .generate(question, &[])
            .await
            .unwrap_or_else(|e| panic!("{question}: {e}"));
        assert!(g.sql.is_empty(), "{question}: {}", g.sql);
        let c = g
            .clarification
            .clone()
            .unwrap_or_else(|| panic!("{question} must ask"));
        let mut got: Vec<&str> = c.options.iter().map(|o| o.label.as_str()).collect();
        got.sort_unstable();
        let mut want = labels.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "{question}: {}", c.question);
        assert!(c.options.iter().all(|o| !o.detail.is_empty()));
        turn(question, &g)
    }
}

/// The turn the engine keeps of a generation.
fn turn(question: &str, g: &Generation) -> Turn {
    Turn {
        turn: 1,
        question: question.into(),
        sql: g.sql.clone(),
        explanation: g.explanation.clone(),
        columns: Vec::new(),
        row_count: 0,
        generator: "rule".into(),
        at: String::new(),
        state: g.state.clone(),
        clarification: g.clarification.clone(),
    }
}

fn model_file(yaml: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cbi-semantic-rule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, yaml).expect("model file");
    path
}

fn chinook_model() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/chinook.yaml"
    ))
    .expect("models/chinook.yaml")
}

/// The measures, filters, dimensions and dates of the Chinook model, checked against SQL
/// written by hand on `db`.
async fn chinook_constructions(db: &Db) {
    // A measure grouped by a dimension, by its name and by its synonym.
    let gold = "SELECT BillingCountry, SUM(Total) FROM Invoice GROUP BY BillingCountry";
    let g = db.same("revenue by country", gold, false).await;
    assert!(g.sql.contains("SUM(Total)"), "{}", g.sql);
    db.same("sales by country", gold, false).await;
    db.same("turnover per market", gold, false).await;
    db.abstains("revenue by planet").await;
    // Another measure of the same table, and one of another.
    db.same(
        "average invoice value by country",
        "SELECT BillingCountry, AVG(Total) FROM Invoice GROUP BY BillingCountry",
        false,
    )
    .await;
    db.same("units sold", "SELECT SUM(Quantity) FROM InvoiceLine", false)
        .await;
    // An aggregate the model does not define over its measure is the schema's own reading.
    db.same(
        "average revenue by country",
        "SELECT BillingCountry, AVG(Total) FROM Invoice GROUP BY BillingCountry",
        false,
    )
    .await;
    // A ranking by a measure, with the join to the entity.
    db.same(
        "top 3 customers by revenue",
        "SELECT c.FirstName, c.LastName, SUM(i.Total) AS r FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.CustomerId, c.FirstName, c.LastName ORDER BY r DESC LIMIT 3",
        true,
    )
    .await;
    db.abstains("top 5 customers by charisma").await;
    // A dimension over an expression, qualified once joined.
    let g = db
        .same(
            "revenue by customer name",
            "SELECT c.FirstName || ' ' || c.LastName, SUM(i.Total) FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.FirstName || ' ' || c.LastName",
            false,
        )
        .await;
    assert!(g.sql.contains("Customer.FirstName"), "{}", g.sql);
    db.abstains("revenue by customer nickname").await;
    // Named filters.
    db.same(
        "how many large invoices",
        "SELECT COUNT(*) FROM Invoice WHERE Total >= 10",
        false,
    )
    .await;
    db.same(
        "revenue of big orders by country",
        "SELECT BillingCountry, SUM(Total) FROM Invoice WHERE Total >= 10 GROUP BY BillingCountry",
        false,
    )
    .await;
    db.same(
        "list the business customers",
        "SELECT FirstName, LastName FROM Customer WHERE Company IS NOT NULL",
        false,
    )
    .await;
    db.abstains("how many enormous invoices").await;
    // "customers" is also what "buyers" folds to: the words written pick the item.
    db.same(
        "number of customers per country",
        "SELECT Country, COUNT(*) FROM Customer GROUP BY Country",
        false,
    )
    .await;
    db.same(
        "number of buyers",
        "SELECT COUNT(DISTINCT CustomerId) FROM Invoice",
        false,
    )
    .await;
    // The primary time dimension of the measure's table.
    db.same(
        "revenue by year",
        "SELECT strftime('%Y', InvoiceDate), SUM(Total) FROM Invoice GROUP BY 1",
        false,
    )
    .await;
    db.same(
        "number of invoices in 2024",
        "SELECT COUNT(*) FROM Invoice WHERE strftime('%Y', InvoiceDate) = '2024'",
        false,
    )
    .await;
    db.same(
        "revenue over time",
        "SELECT strftime('%Y-%m', InvoiceDate), SUM(Total) FROM Invoice GROUP BY 1",
        false,
    )
    .await;
    db.abstains("revenue over eternity").await;
}

#[tokio::test]
async fn demo_reads_its_bundled_model() {
    let db = Db::demo().await;
    assert!(
        db.source.semantic().is_some(),
        "the demo loads models/chinook.yaml"
    );
    chinook_constructions(&db).await;
}

#[tokio::test]
async fn mariadb_chinook_reads_the_same_model() {
    if !Backend::Mysql.require() {
        return;
    }
    // The verified queries are written for SQLite; the rest of the model is portable.
    let model = chinook_model();
    let model = model
        .split("\nverified_queries:")
        .next()
        .expect("model")
        .to_string();
    let db = Db::with_model(&Backend::Mysql.chinook_url(), &model, "chinook-mariadb").await;
    // Dates are bucketed in MariaDB's own functions, so the time checks are written here.
    let gold = "SELECT BillingCountry, SUM(Total) FROM Invoice GROUP BY BillingCountry";
    db.same("sales by country", gold, false).await;
    db.abstains("revenue by planet").await;
    db.same(
        "top 3 customers by revenue",
        "SELECT c.FirstName, c.LastName, SUM(i.Total) AS r FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.CustomerId, c.FirstName, c.LastName ORDER BY r DESC LIMIT 3",
        true,
    )
    .await;
    db.same(
        "revenue by customer name",
        "SELECT CONCAT(c.FirstName, ' ', c.LastName), SUM(i.Total) FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId GROUP BY c.CustomerId",
        false,
    )
    .await
    .sql
    .contains("Customer.FirstName")
    .then_some(())
    .expect("qualified");
    db.same(
        "how many large invoices",
        "SELECT COUNT(*) FROM Invoice WHERE Total >= 10",
        false,
    )
    .await;
    db.abstains("how many enormous invoices").await;
    db.same(
        "number of invoices in 2024",
        "SELECT COUNT(*) FROM Invoice WHERE YEAR(InvoiceDate) = 2024",
        false,
    )
    .await;
}

#[tokio::test]
async fn follow_ups_keep_the_model_items() {
    let db = Db::demo().await;
    let (g1, _) = db.ask("revenue by country", &[]).await;
    let mut history = vec![turn("revenue by country", &g1)];
    let (g2, rows) = db.ask("only 2024", &history).await;
    assert!(
        g2.sql.contains("SUM(Total)") && g2.sql.contains("2024"),
        "{}",
        g2.sql
    );
    let gold = db
        .rows("SELECT BillingCountry, SUM(Total) FROM Invoice WHERE strftime('%Y', InvoiceDate) = '2024' GROUP BY 1")
        .await;
    assert!(rows_match(&rows, &gold, false), "{}", g2.sql);
    history.push(turn("only 2024", &g2));
    let (g3, rows) = db.ask("top 3 instead", &history).await;
    assert_eq!(rows.len(), 3, "{}", g3.sql);
    assert!(g3.sql.contains("SUM(Total)"), "{}", g3.sql);
    history.push(turn("top 3 instead", &g3));
    let (g4, _) = db.ask("start over, revenue by month", &history).await;
    assert!(g4.sql.contains("InvoiceDate"), "{}", g4.sql);
}

#[tokio::test]
async fn two_dates_and_no_primary_one_is_asked_and_the_reply_answers() {
    let db = Db::demo().await;
    let asked = db
        .asks("how many employees in 2003", &["hire date", "birth date"])
        .await;
    // The reply names one option: the question asked then is answered with it.
    let (g, rows) = db.ask("the hire date", std::slice::from_ref(&asked)).await;
    assert!(g.sql.contains("HireDate"), "{}", g.sql);
    let gold = db
        .rows("SELECT COUNT(*) FROM Employee WHERE strftime('%Y', HireDate) = '2003'")
        .await;
    assert!(rows_match(&rows, &gold, false));
    let (g, _) = db.ask("birth", std::slice::from_ref(&asked)).await;
    assert!(g.sql.contains("BirthDate"), "{}", g.sql);
    // A reply that names no option is a question of its own.
    db.generate("what about the weather", std::slice::from_ref(&asked))
        .await
        .expect_err("abstains");
    // The measure's table has a primary date: no question.
    db.ask("number of invoices in 2023", &[]).await;
}

#[tokio::test]
async fn a_name_of_a_customer_and_of_an_employee_is_asked() {
    let db = Db::demo().await;
    // Steve Murray is a customer, Steve Johnson an employee.
    let asked = db
        .asks("number of invoices of Steve", &["customers", "employees"])
        .await;
    let (g, rows) = db.ask("customers", std::slice::from_ref(&asked)).await;
    assert!(g.sql.contains("Customer.FirstName"), "{}", g.sql);
    let gold = db
        .rows("SELECT COUNT(*) FROM Invoice i JOIN Customer c ON c.CustomerId = i.CustomerId WHERE c.FirstName = 'Steve'")
        .await;
    assert!(rows_match(&rows, &gold, false), "{}", g.sql);
    // A name of one table only is no question.
    db.ask("number of invoices of Leonie", &[]).await;
}

const NORTHWIND_MODEL: &str = r#"
name: northwind
tables:
  - name: orders
    table: Orders
    synonyms: [shipments]
    dimensions:
      - name: ship country
        expr: ShipCountry
        synonyms: [destination]
    time_dimensions:
      - name: order date
        expr: OrderDate
      - name: shipped date
        expr: ShippedDate
    measures:
      - name: freight cost
        expr: Freight
        aggregation: sum
        synonyms: [shipping cost]
      - name: number of orders
        expr: OrderID
        aggregation: count
        synonyms: [order count]
    filters:
      - name: heavy shipments
        expr: Freight > 100
        synonyms: [costly shipments]
  - name: order lines
    table: Order Details
    measures:
      - name: gross sales
        expr: UnitPrice * Quantity
        synonyms: [sales]
        description: List price times quantity, before discounts.
      - name: net sales
        expr: UnitPrice * Quantity * (1 - Discount)
        synonyms: [sales]
        description: After discounts.
"#;

fn northwind_url() -> String {
    let path = testkit::db::env_or(
        "CBI_NORTHWIND_SQLITE",
        "/work/shared/data/northwind/northwind.sqlite",
    );
    format!("sqlite://{path}?mode=ro")
}

#[tokio::test]
async fn northwind_with_a_model_written_here() {
    let db = Db::with_model(&northwind_url(), NORTHWIND_MODEL, "northwind").await;
    db.same(
        "shipping cost by destination",
        "SELECT ShipCountry, SUM(Freight) FROM Orders GROUP BY ShipCountry",
        false,
    )
    .await;
    db.abstains("shipping cost by galaxy").await;
    db.same(
        "order count of heavy shipments",
        "SELECT COUNT(OrderID) FROM Orders WHERE Freight > 100",
        false,
    )
    .await;
    db.abstains("order count of fragile shipments").await;
    // Two measures share a synonym: asked, then answered with the one named.
    let asked = db
        .asks("sales by destination", &["gross sales", "net sales"])
        .await;
    let (g, rows) = db.ask("net", std::slice::from_ref(&asked)).await;
    assert!(g.sql.contains("Discount"), "{}", g.sql);
    let gold = db
        .rows("SELECT o.ShipCountry, SUM(d.UnitPrice * d.Quantity * (1 - d.Discount)) FROM \"Order Details\" d JOIN Orders o ON o.OrderID = d.OrderID GROUP BY o.ShipCountry")
        .await;
    assert!(rows_match(&rows, &gold, false), "{}", g.sql);
    // Two dates, none primary: asked.
    let asked = db
        .asks("number of orders in 1997", &["order date", "shipped date"])
        .await;
    let (g, _) = db.ask("shipped date", std::slice::from_ref(&asked)).await;
    assert!(g.sql.contains("ShippedDate"), "{}", g.sql);
}

#[tokio::test]
async fn a_synonym_holding_sql_never_reaches_the_sql() {
    let hostile = chinook_model()
        .split("\nverified_queries:")
        .next()
        .expect("model")
        .replace(
            "synonyms: [sales, total sales, turnover, income, takings]",
            "synonyms: [\"sales'; DROP TABLE Invoice; --\", \"1=1 OR Total\"]",
        );
    let db = Db::with_model(&Backend::Sqlite.chinook_url(), &hostile, "hostile").await;
    for question in [
        "sales'; DROP TABLE Invoice; -- by country",
        "1=1 OR Total by country",
    ] {
        match db.generate(question, &[]).await {
            Ok(g) => {
                let upper = g.sql.to_uppercase();
                assert!(
                    !upper.contains("DROP") && !upper.contains("1=1"),
                    "{}",
                    g.sql
                );
                db.source.validator().validate(&g.sql).expect("validated");
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::CannotAnswer, "{question}: {e}"),
        }
    }
    db.same(
        "revenue by country",
        "SELECT BillingCountry, SUM(Total) FROM Invoice GROUP BY BillingCountry",
        false,
    )
    .await;
}

/// The first day of the month `n` months after January of year 0, as `YYYY-MM-DD`.
fn month_start(n: i32) -> String {
    format!("{}-{:02}-01", n.div_euclid(12), n.rem_euclid(12) + 1)
}

/// Periods relative to today ("last year", "this quarter", "previous month") on the measure's
/// primary time dimension, checked against SQL written here from today's date; "last name",
/// "last 5" and an unknown period keep their readings.
async fn relative_periods(db: &Db, year_of: &str) {
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let now = today.year() * 12 + today.month() as i32 - 1;
    let last_year = today.year() - 1;
    db.same(
        "revenue last year",
        &format!("SELECT SUM(Total) FROM Invoice WHERE {year_of} = '{last_year}'"),
        false,
    )
    .await;
    // Aggregates without grouping give one row whatever the data holds (the demo's invoices
    // end in 2025), so these checks hold in any year.
    db.same(
        "revenue this year",
        &format!(
            "SELECT SUM(Total) FROM Invoice WHERE {year_of} = '{}'",
            today.year()
        ),
        false,
    )
    .await;
    let quarter = now / 3 * 3;
    let g = db
        .same(
            "number of invoices last quarter",
            &format!(
                "SELECT COUNT(*) FROM Invoice WHERE InvoiceDate >= '{}' AND InvoiceDate < '{}'",
                month_start(quarter - 3),
                month_start(quarter)
            ),
            false,
        )
        .await;
    assert!(g.sql.contains(&month_start(quarter - 3)), "{}", g.sql);
    db.same(
        "how many invoices in the previous month",
        &format!(
            "SELECT COUNT(*) FROM Invoice WHERE InvoiceDate >= '{}' AND InvoiceDate < '{}'",
            month_start(now - 1),
            month_start(now)
        ),
        false,
    )
    .await;
    // The nearest phrases keep their own readings.
    db.same(
        "customers whose last name is Smith",
        "SELECT FirstName, LastName FROM Customer WHERE LastName = 'Smith'",
        false,
    )
    .await;
    db.abstains("revenue last decade").await;
}

#[tokio::test]
async fn periods_relative_to_today_on_the_demo() {
    relative_periods(&Db::demo().await, "strftime('%Y', InvoiceDate)").await;
}

#[tokio::test]
async fn periods_relative_to_today_on_mariadb() {
    if !Backend::Mysql.require() {
        return;
    }
    let model = chinook_model();
    let db = Db::with_model(&Backend::Mysql.chinook_url(), &model, "chinook-relative").await;
    relative_periods(&db, "CAST(YEAR(InvoiceDate) AS CHAR)").await;
}
