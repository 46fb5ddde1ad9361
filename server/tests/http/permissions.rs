//! Data permissions through the server: two tenants on two databases, three users with their
//! own data roles and attributes. Answers, sessions, cache entries and rate limits never cross
//! tenants or users.

use conversational_bi::config::{StoreKind, TenantQuota};
use serde_json::json;
use testkit::db::Backend;

use crate::support::{ask, config, login, request, send, user};

const ACCESS: &str = r#"
[access.roles.sales_rep]
row_filters = { Customer = "SupportRepId = {user.employee_id}" }
columns = { "Customer.Email" = "hash", "Employee.BirthDate" = "deny" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_three_users_nothing_crosses() {
    if !Backend::Mysql.require() {
        return;
    }
    let access: conversational_bi::Config =
        conversational_bi::Config::from_toml_str(ACCESS, None).expect("access");
    let mut c = config();
    c.access = access.access;
    c.tenants.insert(
        "globex".into(),
        toml::from_str(&format!(
            "database_url = \"{}\"",
            Backend::Mysql.chinook_url()
        ))
        .expect("tenant"),
    );
    let rep = |name: &str, tenant: &str, employee: i64| {
        let mut u = user(name, tenant, &["analyst", "sales_rep"]);
        u.attributes.insert("employee_id".into(), json!(employee));
        u
    };
    c.auth.users = vec![
        rep("ana", "acme", 3),
        rep("carol", "acme", 4),
        rep("bob", "globex", 5),
    ];
    c.cache.enabled = true;
    c.cache.store = Some(StoreKind::Memory);
    c.session.store = Some(StoreKind::Memory);
    c.production.rate_limiting.enabled = true;
    c.production.rate_limiting.store = Some(StoreKind::Memory);
    c.production.rate_limiting.tenants.insert(
        "acme".into(),
        TenantQuota {
            queries_per_minute: 1,
            burst_allowance: 4,
        },
    );
    let app = crate::support::app_with(c, None, None).await;
    let (ana, carol, bob) = (
        login(&app, "ana").await,
        login(&app, "carol").await,
        login(&app, "bob").await,
    );
    let question = "How many customers are there?";

    let a = ask(&app, &ana, "s", question).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(
        a.body["rows"],
        json!([[21]]),
        "ana sees employee 3's customers"
    );
    assert!(
        !a.body["sql"]
            .as_str()
            .unwrap_or_default()
            .contains("SupportRepId")
    );
    let ana_session = a.body["session_id"].as_str().expect("id").to_string();

    // The same question by carol may come from the cache, but runs under her policy.
    let c1 = ask(&app, &carol, "s", question).await;
    assert_eq!(c1.status, 200, "{:?}", c1.body);
    assert_eq!(c1.body["rows"], json!([[20]]));
    // Ana's conversation is not carol's: she gets a new one.
    let c2 = ask(
        &app,
        &carol,
        &ana_session,
        "How many customers are there in Brazil?",
    )
    .await;
    assert_eq!(c2.status, 200, "{:?}", c2.body);
    assert_ne!(c2.body["session_id"], ana_session.as_str());
    let path = format!("/api/v1/sessions/{ana_session}");
    let peek = send(&app, request("GET", &path, Some(&carol), None)).await;
    peek.assert_error(404, "NOT_FOUND");

    // Bob's tenant has its own database (MariaDB), its own cache namespace and limit.
    let b = ask(&app, &bob, "s", question).await;
    assert_eq!(b.status, 200, "{:?}", b.body);
    assert_eq!(
        b.body["rows"],
        json!([[18]]),
        "employee 5's customers, in globex's database"
    );
    assert_eq!(b.body["cache_hit"], false, "acme's cache is not globex's");
    assert_ne!(
        a.body["columns"][0]["type"], b.body["columns"][0]["type"],
        "answered by another database: {:?} vs {:?}",
        a.body["columns"], b.body["columns"]
    );
    let peek = send(&app, request("GET", &path, Some(&bob), None)).await;
    peek.assert_error(404, "NOT_FOUND");

    // Acme spends its burst; globex does not feel it.
    let mut limited = false;
    for _ in 0..6 {
        let r = ask(&app, &ana, "s", question).await;
        if r.status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "acme reaches its limit");
    let b2 = ask(&app, &bob, "s", question).await;
    assert_eq!(b2.status, 200, "{:?}", b2.body);

    // Health lists the tenant's database.
    let health = send(&app, request("GET", "/health", None, None)).await;
    assert_eq!(health.body["checks"]["tenants"][0]["tenant_id"], "globex");
}
