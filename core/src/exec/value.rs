//! Conversions from database values to [`Value`]: the pure formatting rules shared by the
//! backends (ISO-8601 dates and times, exact decimals, lowercase hex bytes).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Timelike, Utc};
use rust_decimal::Decimal;

use super::Value;

/// Bytes as lowercase hex.
pub(crate) fn bytes(b: &[u8]) -> Value {
    Value::Bytes(hex(b))
}

/// Lowercase hex of `b`.
pub(crate) fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for byte in b {
        s.push(char::from(DIGITS[usize::from(byte >> 4)]));
        s.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    s
}

/// An exact decimal as its canonical string, scale kept (`1.50` stays `1.50`).
pub(crate) fn decimal(d: Decimal) -> Value {
    Value::Decimal(d.to_string())
}

/// An unsigned integer: `Int` when it fits in `i64`, else an exact `Decimal` string.
pub(crate) fn unsigned(u: u64) -> Value {
    i64::try_from(u).map_or_else(|_| Value::Decimal(u.to_string()), Value::Int)
}

/// `YYYY-MM-DD`.
pub(crate) fn date(d: NaiveDate) -> Value {
    Value::Text(d.format("%Y-%m-%d").to_string())
}

/// `HH:MM:SS` with a fractional part only when there is one, without trailing zeros.
pub(crate) fn time(t: NaiveTime) -> Value {
    Value::Text(format!(
        "{}{}",
        t.format("%H:%M:%S"),
        fraction(t.nanosecond())
    ))
}

/// `YYYY-MM-DDTHH:MM:SS` with a fractional part only when there is one (no zone).
pub(crate) fn datetime(dt: NaiveDateTime) -> Value {
    Value::Text(format!(
        "{}{}",
        dt.format("%Y-%m-%dT%H:%M:%S"),
        fraction(dt.nanosecond())
    ))
}

/// `.5` for half a second, `.000123` for 123 µs, empty for none.
fn fraction(nanos: u32) -> String {
    if nanos == 0 {
        return String::new();
    }
    // A leap second is represented with nanos >= 1e9; it still prints as a fraction.
    let digits = format!("{:09}", nanos % 1_000_000_000);
    format!(".{}", digits.trim_end_matches('0'))
}

/// An instant in UTC, `YYYY-MM-DDTHH:MM:SSZ` (fraction only when there is one).
pub(crate) fn timestamptz(dt: DateTime<Utc>) -> Value {
    Value::Text(dt.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// The value shown for a type the engine cannot decode: the type's name, so that a reader sees
/// why the value is missing rather than a silent NULL.
pub(crate) fn undecodable(type_name: &str) -> Value {
    Value::Text(format!("<{type_name} value not displayable>"))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[0xde, 0xad, 0x00, 0x0f]), "dead000f");
        assert_eq!(bytes(&[]), Value::Bytes(String::new()));
        assert_eq!(bytes(&[0xAB]), Value::Bytes("ab".into()));
    }

    #[test]
    fn decimals_stay_exact() {
        assert_eq!(
            decimal(Decimal::from_str("1.50").expect("dec")),
            Value::Decimal("1.50".into())
        );
        assert_eq!(
            decimal(Decimal::from_str("12345678901234567890.01").expect("dec")),
            Value::Decimal("12345678901234567890.01".into())
        );
        assert_eq!(unsigned(7), Value::Int(7));
        assert_eq!(
            unsigned(u64::MAX),
            Value::Decimal("18446744073709551615".into())
        );
    }

    #[test]
    fn dates_and_times_are_iso_8601() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).expect("date");
        assert_eq!(date(d), Value::Text("2024-02-29".into()));
        let t = NaiveTime::from_hms_milli_opt(7, 5, 3, 250).expect("time");
        assert_eq!(time(t), Value::Text("07:05:03.25".into()));
        assert_eq!(fraction(123_000), ".000123");
        let dt = d.and_hms_opt(13, 0, 9).expect("dt");
        assert_eq!(datetime(dt), Value::Text("2024-02-29T13:00:09".into()));
        assert_eq!(
            timestamptz(dt.and_utc()),
            Value::Text("2024-02-29T13:00:09Z".into())
        );
    }

    #[test]
    fn undecodable_names_the_type() {
        assert_eq!(
            undecodable("GEOMETRY"),
            Value::Text("<GEOMETRY value not displayable>".into())
        );
    }
}
