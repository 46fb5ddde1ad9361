//! The token estimate of prompt text.
//!
//! Providers count tokens with their own tokenizers, which the engine does not ship. The
//! estimate is deterministic, needs no model and errs on the high side for schema text (names,
//! types, punctuation), where byte-pair tokenizers split words into pieces of about four
//! characters:
//!
//! - each run of letters and digits counts one token per four characters, rounded up;
//! - every other visible character (punctuation, quotes, brackets) counts one token;
//! - a line break counts one token; other white space counts nothing (tokenizers fold a space
//!   into the word after it).
//!
//! The estimate of two texts joined by a line break is the sum of their estimates plus one, so
//! a schema's estimate is the sum of its lines'.

/// The estimated number of tokens of `text`.
pub fn estimate_tokens(text: &str) -> usize {
    let mut tokens = 0usize;
    let mut run = 0usize;
    for c in text.chars() {
        if c.is_alphanumeric() {
            run += 1;
            continue;
        }
        tokens += run.div_ceil(4);
        run = 0;
        if c == '\n' || !c.is_whitespace() {
            tokens += 1;
        }
    }
    tokens + run.div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::estimate_tokens;

    #[test]
    fn words_punctuation_and_line_breaks() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("a"), 1);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("CustomerId INTEGER"), 3 + 2);
        assert_eq!(estimate_tokens("Invoice(Total)"), 2 + 1 + 2 + 1);
        assert_eq!(estimate_tokens("  a  \n  b "), 3);
        assert_eq!(estimate_tokens("São Paulo"), 1 + 2);
    }

    #[test]
    fn the_estimate_is_additive_over_lines() {
        let a = "Customer(CustomerId INTEGER PRIMARY KEY, Country TEXT)";
        let b = "Invoice(InvoiceId INTEGER, Total NUMERIC(10,2)) -- sales";
        assert_eq!(
            estimate_tokens(&format!("{a}\n{b}\n")),
            estimate_tokens(a) + estimate_tokens(b) + 2
        );
    }
}
