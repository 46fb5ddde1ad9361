//! Tokens: questions split into words, numbers and quoted literals, and identifiers split
//! into words.

use super::words::{canonical, singular};

/// One token of a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The word as written, without surrounding punctuation.
    pub raw: String,
    /// Lower case.
    pub lower: String,
    /// Lower case, singular, synonyms folded to one canonical word.
    pub norm: String,
    /// The number it spells, when it is one (`5`, `2.5`, `1,000`, `five`).
    pub number: Option<f64>,
    /// Whether it was a quoted literal (`'Rock'`, `"Led Zeppelin"`).
    pub quoted: bool,
}

/// Splits a question into tokens: words, numbers and quoted literals.
pub fn tokenize(question: &str) -> Vec<Token> {
    let mut out = Vec::new();
    // Typographic apostrophes are apostrophes.
    let chars: Vec<char> = question
        .chars()
        .map(|c| if c == '’' { '\'' } else { c })
        .collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '“' || c == '”' || (c == '\'' && starts_quote(&chars, i)) {
            let close = match c {
                '“' => '”',
                other => other,
            };
            if let Some(end) = chars[i + 1..].iter().position(|&d| d == close || d == '”') {
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                let text = text.trim().to_string();
                if !text.is_empty() {
                    out.push(Token {
                        lower: text.to_lowercase(),
                        norm: text.to_lowercase(),
                        raw: text,
                        number: None,
                        quoted: true,
                    });
                }
                i += end + 2;
                continue;
            }
        }
        if let Some((words, n)) = comparison_symbol(&chars[i..]) {
            // "salary > 80000": the symbol read as the words it stands for.
            out.extend(words.iter().map(|w| word_token(w)));
            i += n;
            continue;
        }
        let negative = c == '-'
            && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            && (i == 0 || chars[i - 1].is_whitespace());
        if c.is_alphanumeric() || negative {
            let start = i;
            if negative {
                i += 1;
            }
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || ((chars[i] == '.' || chars[i] == ',')
                        && i + 1 < chars.len()
                        && chars[i + 1].is_ascii_digit()
                        && (chars[start].is_ascii_digit() || chars[start] == '-'))
                    || (chars[i] == '\''
                        && i + 1 < chars.len()
                        && chars[i + 1].is_alphabetic()
                        && !matches!(chars.get(i + 1), Some('s') if !chars.get(i + 2).is_some_and(|c| c.is_alphanumeric())))
                    || (chars[i] == '-' && i + 1 < chars.len() && chars[i + 1].is_alphanumeric()))
            {
                i += 1;
            }
            let raw: String = chars[start..i].iter().collect();
            // A possessive 's is dropped.
            if i + 1 < chars.len() && chars[i] == '\'' && chars[i + 1] == 's' {
                i += 2;
            }
            out.push(word_token(&raw));
            continue;
        }
        i += 1;
    }
    out
}

/// A comparison written as a symbol (`>`, `>=`, `<`, `<=`, `=`, `!=`, `<>`): the words it
/// stands for and its length.
fn comparison_symbol(chars: &[char]) -> Option<(&'static [&'static str], usize)> {
    Some(match chars {
        ['>', '=', ..] => (&["at", "least"], 2),
        ['<', '=', ..] => (&["at", "most"], 2),
        ['<', '>', ..] | ['!', '=', ..] => (&["not"], 2),
        ['>', ..] => (&["more", "than"], 1),
        ['<', ..] => (&["less", "than"], 1),
        ['=', ..] => (&["equals"], 1),
        _ => return None,
    })
}

fn starts_quote(chars: &[char], i: usize) -> bool {
    i == 0 || !chars[i - 1].is_alphanumeric()
}

/// A token for one word.
pub fn word_token(raw: &str) -> Token {
    let lower = raw.to_lowercase();
    let number = parse_number(&lower);
    let norm = if number.is_some() {
        lower.clone()
    } else {
        canonical(&singular(&lower)).to_string()
    };
    Token {
        raw: raw.to_string(),
        lower,
        norm,
        number,
        quoted: false,
    }
}

fn parse_number(w: &str) -> Option<f64> {
    if let Some(rest) = w.strip_prefix('-') {
        return parse_number(rest).map(|n| -n);
    }
    let cleaned: String = w.chars().filter(|c| *c != ',').collect();
    if cleaned.chars().next().is_some_and(|c| c.is_ascii_digit())
        && let Ok(n) = cleaned.parse::<f64>()
    {
        return Some(n);
    }
    let n = match w {
        "one" => 1.0,
        "two" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "eight" => 8.0,
        "nine" => 9.0,
        "ten" => 10.0,
        "twenty" => 20.0,
        _ => return None,
    };
    Some(n)
}

/// Splits an identifier into lower-case words: `BillingCountry`, `billing_country` and
/// `billingCountry` all give `billing country`; digits stay attached.
pub fn identifier_words(ident: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = ident.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let boundary = c.is_uppercase()
            && !cur.is_empty()
            && (chars[i - 1].is_lowercase()
                || chars[i - 1].is_ascii_digit()
                || chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
        if boundary {
            words.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The normalized words of an identifier (singular, synonyms folded), `id` kept.
pub fn identifier_norms(ident: &str) -> Vec<String> {
    identifier_words(ident)
        .iter()
        .map(|w| canonical(&singular(w)).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(identifier_words("BillingCountry"), ["billing", "country"]);
        assert_eq!(identifier_words("billing_country"), ["billing", "country"]);
        assert_eq!(identifier_words("SupportRepId"), ["support", "rep", "id"]);
        assert_eq!(identifier_words("HTMLPage"), ["html", "page"]);
        assert_eq!(identifier_norms("MediaTypes"), ["media", "type"]);
    }

    #[test]
    fn comparison_symbols_read_as_words() {
        let lower = |q: &str| {
            tokenize(q)
                .into_iter()
                .map(|t| t.lower)
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(lower("salary > 80000"), "salary more than 80000");
        assert_eq!(lower("age>=18"), "age at least 18");
        assert_eq!(
            lower("age <= 18 and x<5"),
            "age at most 18 and x less than 5"
        );
        assert_eq!(
            lower("year = 2000, code <> 3 or != 4"),
            "year equals 2000 code not 3 or not 4"
        );
        // A negative number stays a number.
        assert_eq!(tokenize("below -5")[1].number, Some(-5.0));
    }

    #[test]
    fn questions_tokenize_with_numbers_and_quotes() {
        let t = tokenize("Top 5 customers' totals in \"Sao Paulo\", 1,000 or more?");
        let raws: Vec<&str> = t.iter().map(|t| t.raw.as_str()).collect();
        assert_eq!(
            raws,
            [
                "Top",
                "5",
                "customers",
                "totals",
                "in",
                "Sao Paulo",
                "1,000",
                "or",
                "more"
            ]
        );
        assert_eq!(t[1].number, Some(5.0));
        assert_eq!(t[6].number, Some(1000.0));
        assert!(t[5].quoted);
        let t = tokenize("balance below -5.5, not 5");
        assert_eq!(t[2].number, Some(-5.5));
        let t = tokenize("What's the artist's name?");
        assert_eq!(t[2].lower, "artist");
    }
}
