//! Words only the rule grammar reads: sales verbs and duration units. Words that any reader of
//! questions needs (tokens, singulars, stop and neutral words, months, money words) are in
//! [`crate::text`].

/// Words naming an item count in sales ("sold", "purchased").
pub fn is_sold_verb(w: &str) -> bool {
    matches!(
        w,
        "sold" | "purchased" | "bought" | "ordered" | "sell" | "sells" | "selling"
    )
}

/// A duration unit and its length in milliseconds.
pub fn duration_unit_ms(w: &str) -> Option<f64> {
    Some(match w {
        "millisecond" | "milliseconds" | "ms" => 1.0,
        "second" | "seconds" | "sec" | "secs" => 1000.0,
        "minute" | "minutes" | "min" | "mins" => 60_000.0,
        "hour" | "hours" | "hr" | "hrs" => 3_600_000.0,
        _ => return None,
    })
}
