//! A small RFC 4180 CSV reader for question sets: quoted fields, `""` for a quote inside a
//! quoted field, newlines inside quotes, `\r\n` or `\n` line ends.

/// Splits CSV text into records of fields. Blank lines are dropped.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records.retain(|r| !(r.len() == 1 && r[0].is_empty()));
    records
}

#[cfg(test)]
mod tests {
    use super::parse_csv;

    #[test]
    fn fields_may_hold_commas_quotes_and_newlines() {
        let rows = parse_csv(
            "database,question,sql\r\ndb,\"Hi, \"\"you\"\"\",SELECT 1\n\ndb,\"two\nlines\",SELECT 2",
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], ["db", "Hi, \"you\"", "SELECT 1"]);
        assert_eq!(rows[2], ["db", "two\nlines", "SELECT 2"]);
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_kept() {
        assert_eq!(parse_csv("a,b\"c\n"), [["a", "b\"c"]]);
    }
}
