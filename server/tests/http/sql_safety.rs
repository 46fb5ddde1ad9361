//! The API as an analyst sees it, with no model configured: a question whose quoted value tries
//! to break out of its literal gets one literal, and restricted data never comes back.

use serde_json::json;

use crate::support::{config, login, request, send};

#[tokio::test]
async fn a_quoted_value_in_a_question_stays_one_literal() {
    let mut c = config();
    c.database.denied_columns = vec!["Customer.Email".into(), "Customer.Phone".into()];
    let app = crate::support::app_with(c, None, None).await;
    let token = login(&app, "ana").await;
    for question in [
        "list customers with company \"x\\' UNION SELECT Email, Phone FROM Customer --\"",
        "list customers with company \"x\\\\' UNION SELECT Email, Phone FROM Customer --\"",
        "list customers with company 'x\\'' UNION SELECT Email FROM Customer --'",
    ] {
        let reply = send(
            &app,
            request(
                "POST",
                "/api/v1/query",
                Some(&token),
                Some(json!({ "query": question })),
            ),
        )
        .await;
        let body = reply.body.to_string();
        assert!(!body.contains('@'), "{question}: {body}");
        if reply.status == 200 {
            let sql = reply.body["sql"].as_str().expect("sql");
            assert!(
                reply.body["rows"].as_array().is_some_and(Vec::is_empty),
                "{question}: {sql} returned rows"
            );
            assert!(
                sql.contains("UNION SELECT Email"),
                "{question}: one literal in {sql}"
            );
        } else {
            assert!(
                ["CANNOT_ANSWER", "SQL_REJECTED"]
                    .contains(&reply.body["error"]["code"].as_str().unwrap_or_default()),
                "{question}: {body}"
            );
        }
    }
}
