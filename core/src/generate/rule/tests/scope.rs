//! Scope items: the parts of an answer's query in plain words (the chips a front end shows),
//! and the query without one of them, written again as a follow-up's is.

use super::{generator, turn, validated};
use crate::{
    ErrorKind,
    answer::{ScopeItem, ScopeKind},
    generate::{
        Generation,
        rule::{
            QueryIr, RuleGenerator,
            ir::{ColumnRef, Filter, Literal, Order, OrderKey},
            scope,
        },
    },
};

/// Asks `questions` as one conversation; returns the last answer.
fn last_answer(g: &RuleGenerator, questions: &[&str]) -> Generation {
    let mut history = Vec::new();
    let mut last = None;
    for q in questions {
        let a = g.answer(q, &history).unwrap_or_else(|e| panic!("{q}: {e}"));
        validated(g, &a.sql);
        history.push(turn(q, &a));
        last = Some(a);
    }
    last.expect("a turn")
}

fn items_of(a: &Generation) -> Vec<(String, ScopeKind, String)> {
    let ir = QueryIr::from_state(a.state.as_ref().expect("state")).expect("the rules' state");
    scope::items(&ir)
        .into_iter()
        .map(|ScopeItem { id, kind, label }| (id, kind, label))
        .collect()
}

fn owned(items: &[(&str, ScopeKind, &str)]) -> Vec<(String, ScopeKind, String)> {
    items
        .iter()
        .map(|(id, kind, label)| (id.to_string(), *kind, label.to_string()))
        .collect()
}

const SALES: &[&str] = &["Total sales by country", "Only in 2024", "Top 5 instead"];

#[tokio::test]
async fn each_part_is_named_in_the_explanations_words() {
    let (g, _) = generator("chinook").await;
    assert_eq!(
        items_of(&last_answer(&g, SALES)),
        owned(&[
            ("filter:0", ScopeKind::Filter, "in 2024"),
            ("group:0", ScopeKind::Group, "by invoice billing country"),
            (
                "order",
                ScopeKind::Order,
                "sorted by the total of invoice total, largest first"
            ),
            ("limit", ScopeKind::Limit, "top 5"),
        ])
    );
    assert_eq!(
        items_of(&last_answer(
            &g,
            &["How many tracks are there?", "only for Rock"]
        )),
        owned(&[("filter:0", ScopeKind::Filter, "genre name is Rock")])
    );
    assert_eq!(
        items_of(&last_answer(
            &g,
            &["Which genres have more than 100 tracks?"]
        )),
        owned(&[
            (
                "having:0",
                ScopeKind::Having,
                "the number of tracks is more than 100"
            ),
            ("group:0", ScopeKind::Group, "by genre"),
        ])
    );
    assert_eq!(
        items_of(&last_answer(
            &g,
            &["How many invoices were issued in March 2022?"]
        )),
        owned(&[("filter:0", ScopeKind::Filter, "in March 2022")])
    );
    assert_eq!(
        items_of(&last_answer(
            &g,
            &["List the customers in Canada or Brazil"]
        )),
        owned(&[(
            "filter:0",
            ScopeKind::Filter,
            "customer country is one of Canada, Brazil"
        )])
    );
    // A question with no condition, grouping, sort or limit has no scope.
    assert!(items_of(&last_answer(&g, &["How many tracks are there?"])).is_empty());
}

#[test]
fn a_limit_without_a_descending_sort_is_the_first_rows() {
    let mut ir = QueryIr::new("Track");
    ir.columns.push(ColumnRef::new("Track", "Name"));
    ir.limit = Some(10);
    ir.filters.push(Filter::Compare {
        column: ColumnRef::new("Track", "Milliseconds"),
        op: crate::generate::rule::ir::CmpOp::Gt,
        value: Literal::Number(300000.0),
    });
    let labels: Vec<String> = scope::items(&ir).into_iter().map(|i| i.label).collect();
    assert_eq!(
        labels,
        ["track milliseconds is more than 300000", "first 10"]
    );
    ir.order = Some(Order {
        key: OrderKey::Column {
            column: ColumnRef::new("Track", "Name"),
        },
        descending: false,
        words: None,
    });
    let labels: Vec<String> = scope::items(&ir).into_iter().map(|i| i.label).collect();
    assert_eq!(
        labels[1..],
        ["sorted by track name, smallest first", "first 10"]
    );
}

#[tokio::test]
async fn removing_a_part_writes_the_query_without_it() {
    let (g, _) = generator("chinook").await;
    let top = last_answer(&g, SALES);
    let state = top.state.clone().expect("state");
    // Nothing removed: the same statement.
    assert_eq!(g.refine_state(&state, None).expect("as is").sql, top.sql);
    let without = |id: &str| {
        let a = g
            .refine_state(&state, Some(id))
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        validated(&g, &a.sql);
        assert!(!a.explanation.is_empty());
        a
    };

    let all = without("limit");
    assert!(
        all.sql.ends_with("ORDER BY SUM(Total) DESC") && all.sql.contains("'2024'"),
        "{}",
        all.sql
    );
    let labels: Vec<String> = items_of(&all).into_iter().map(|(_, _, l)| l).collect();
    assert_eq!(
        labels,
        [
            "in 2024",
            "by invoice billing country",
            "sorted by the total of invoice total, largest first"
        ]
    );

    let every_year = without("filter:0");
    assert!(!every_year.sql.contains("2024"), "{}", every_year.sql);
    assert!(every_year.sql.ends_with("LIMIT 5"), "{}", every_year.sql);

    // The sort takes its limit along: five unsorted rows would be any five.
    let unsorted = without("order");
    assert!(
        !unsorted.sql.contains("ORDER BY") && !unsorted.sql.contains("LIMIT"),
        "{}",
        unsorted.sql
    );
    // The last grouping takes the sort and the limit: one total has nothing to rank.
    let total = without("group:0");
    assert_eq!(
        total.sql,
        "SELECT SUM(Total) AS total FROM Invoice WHERE strftime('%Y', InvoiceDate) = '2024'"
    );
    assert_eq!(
        items_of(&total),
        owned(&[("filter:0", ScopeKind::Filter, "in 2024")])
    );

    // A condition on totals goes alone.
    let many = last_answer(&g, &["Which genres have more than 100 tracks?"]);
    let a = g
        .refine_state(many.state.as_ref().expect("state"), Some("having:0"))
        .expect("removes");
    assert!(
        !a.sql.contains("HAVING") && a.sql.contains("GROUP BY"),
        "{}",
        a.sql
    );

    // A follow-up continues from the query without the part.
    let next = g
        .answer("top 3 instead", &[turn("without \"top 5\"", &all)])
        .expect("follows up");
    assert!(
        next.sql.ends_with("LIMIT 3") && next.sql.contains("'2024'"),
        "{}",
        next.sql
    );
}

#[tokio::test]
async fn ids_that_name_no_part_and_foreign_states_are_refused() {
    let (g, _) = generator("chinook").await;
    let top = last_answer(&g, SALES);
    let state = top.state.clone().expect("state");
    let long = "filter:".to_string() + &"9".repeat(10_000);
    for id in [
        "filter:99",
        "filter:1",
        "filter:-1",
        "filter:01",
        "filter:+0",
        "having:0",
        "group:1",
        "Order",
        "'; DROP TABLE x; --",
        "",
        long.as_str(),
    ] {
        let e = g.refine_state(&state, Some(id)).expect_err(id);
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{id}: {e}");
        assert!(
            e.to_string()
                .contains("parts are filter:0, group:0, order, limit"),
            "{e}"
        );
    }
    // Once removed, a part is no more.
    let all = g.refine_state(&state, Some("limit")).expect("removes");
    let e = g
        .refine_state(all.state.as_ref().expect("state"), Some("limit"))
        .expect_err("no limit left");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // A state that is not the rules' has no parts.
    let e = g
        .refine_state(&serde_json::json!({ "plan": 1 }), Some("limit"))
        .expect_err("not the rules'");
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("ask the question again"), "{e}");
}

#[tokio::test]
async fn a_sort_reads_in_the_words_of_its_key() {
    let (g, _) = generator("chinook").await;
    let order_of = |a: &Generation| {
        items_of(a)
            .into_iter()
            .find(|(id, ..)| id == "order")
            .map(|(.., label)| label)
    };
    for (questions, label, explained) in [
        (
            &["List the customers sorted by last name"][..],
            "A to Z",
            "(A to Z)",
        ),
        (
            &["List the customers sorted by last name descending"][..],
            "Z to A",
            "(Z to A)",
        ),
        (
            &["List the 5 most recent invoices"][..],
            "newest first",
            "(newest first)",
        ),
        (
            &["Top 5 genres by number of tracks"][..],
            "largest first",
            "(largest first)",
        ),
    ] {
        let a = last_answer(&g, questions);
        let order = order_of(&a).unwrap_or_else(|| panic!("{questions:?}: no sort in {a:?}"));
        assert!(order.ends_with(label), "{questions:?}: {order}");
        assert!(
            a.explanation.contains(explained),
            "{questions:?}: {}",
            a.explanation
        );
    }
    // A state saved before the words existed reads as numbers do.
    let mut ir = QueryIr::new("Track");
    ir.order = Some(Order {
        key: OrderKey::Column {
            column: ColumnRef::new("Track", "Name"),
        },
        descending: false,
        words: None,
    });
    let state = serde_json::json!({ "rule": ir });
    assert!(!state.to_string().contains("words"), "absent, not null");
    assert_eq!(
        scope::items(&QueryIr::from_state(&state).expect("state"))
            .last()
            .map(|i| i.label.clone()),
        Some("sorted by track name, smallest first".into())
    );
}
