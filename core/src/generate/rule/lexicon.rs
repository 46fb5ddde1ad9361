//! Words: tokenizing questions and identifiers, singular forms, BI synonyms and the small
//! vocabularies of the grammar (stop words, neutral verbs, units, months).

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

/// Folds the accents of Latin letters away ("São Paulo" is looked up as "sao paulo").
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'ý' | 'ÿ' => 'y',
            other => other,
        })
        .collect()
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

/// A simple English singular.
pub fn singular(w: &str) -> String {
    const KEEP: &[&str] = &[
        "status", "address", "series", "news", "analysis", "business", "class", "gross", "bus",
        "campus", "virus", "process", "access", "sales", "less", "its", "this", "is", "has", "was",
        "does", "focus", "bonus", "census", "species", "us", "plus", "always", "hours",
    ];
    if w.len() <= 3 || KEEP.contains(&w) || w.ends_with("ss") || w.ends_with("us") {
        return match w {
            "hours" => "hour".into(),
            "ids" => "id".into(),
            _ => w.to_string(),
        };
    }
    match w {
        "people" => return "person".into(),
        "children" => return "child".into(),
        "men" => return "man".into(),
        "women" => return "woman".into(),
        "data" => return "data".into(),
        "indices" => return "index".into(),
        "movies" => return "movie".into(),
        "employees" => return "employee".into(),
        _ => {}
    }
    if let Some(stem) = w.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes", "zes", "uses"] {
        if let Some(stem) = w.strip_suffix(suffix) {
            return format!("{stem}{}", &suffix[..suffix.len() - 2]);
        }
    }
    if let Some(stem) = w.strip_suffix('s')
        && !stem.ends_with('s')
        && !stem.ends_with('i')
        && !stem.ends_with('u')
    {
        return stem.to_string();
    }
    w.to_string()
}

/// Folds BI synonyms to one canonical word (applied to singular forms).
pub fn canonical(w: &str) -> &str {
    match w {
        "client" | "buyer" | "patron" | "shopper" => "customer",
        "staff" | "worker" | "employe" | "personnel" => "employee",
        "representative" | "agent" => "rep",
        "song" => "track",
        "record" if false => "album",
        "movie" => "film",
        "vendor" | "provider" => "supplier",
        "kind" => "type",
        "nation" => "country",
        "town" => "city",
        "e-mail" | "mail" => "email",
        "telephone" | "tel" => "phone",
        "cost" => "price",
        "surname" => "last-name",
        "forename" => "first-name",
        "identifier" => "id",
        "qty" => "quantity",
        "length" | "runtime" => "duration",
        "dob" | "birthday" => "birth",
        "sale" => "sales",
        // Abbreviations common in column names.
        "dept" => "department",
        "apt" => "apartment",
        "emp" => "employee",
        "cust" => "customer",
        "addr" => "address",
        "amt" => "amount",
        "num" => "number",
        "prod" => "product",
        _ => w,
    }
}

/// Function words, request verbs and words about the data itself ("the", "which", "please",
/// "show", "records"): words that name nothing in a database. Both the rule generator's and
/// the cache's stop words start from these.
pub fn is_function_word(w: &str) -> bool {
    matches!(
        w,
        "a" | "an"
            | "the"
            | "is"
            | "are"
            | "was"
            | "were"
            | "be"
            | "been"
            | "being"
            | "do"
            | "does"
            | "did"
            | "have"
            | "has"
            | "had"
            | "there"
            | "what"
            | "which"
            | "who"
            | "whom"
            | "whose"
            | "me"
            | "my"
            | "our"
            | "us"
            | "we"
            | "i"
            | "you"
            | "your"
            | "it"
            | "its"
            | "their"
            | "them"
            | "they"
            | "these"
            | "those"
            | "that"
            | "all"
            | "any"
            | "please"
            | "can"
            | "could"
            | "would"
            | "will"
            | "shall"
            | "should"
            | "tell"
            | "give"
            | "show"
            | "list"
            | "display"
            | "find"
            | "get"
            | "return"
            | "see"
            | "know"
            | "want"
            | "like"
            | "need"
            | "some"
            | "as"
            | "about"
            | "how"
            | "then"
            | "here"
            | "so"
            | "such"
            | "if"
            | "than"
            | "whether"
            | "along"
            | "respective"
            | "respectively"
            | "corresponding"
            | "let"
            | "currently"
            | "many"
            | "much"
            | "whole"
            | "overall"
            | "together"
            | "altogether"
            | "recorded"
            | "listed"
            | "stored"
            | "data"
            | "database"
            | "value"
            | "values"
            | "record"
            | "records"
            | "entry"
            | "entries"
            | "row"
            | "rows"
            | "result"
            | "ever"
            | "exist"
    )
}

/// Words that carry no meaning for the query: the function words, and the prepositions and
/// quantifiers whose role the rules read from the sentence's shape instead.
pub fn is_stop_word(w: &str) -> bool {
    is_function_word(w)
        || matches!(
            w,
            "of" | "in"
                | "on"
                | "at"
                | "to"
                | "for"
                | "from"
                | "with"
                | "and"
                | "or"
                | "this"
                | "every"
                | "each"
                | "per"
                | "by"
                | "into"
                | "out"
                | "up"
                | "where"
                | "when"
                | "current"
                | "also"
                | "just"
                | "only"
                | "too"
                | "own"
                | "either"
                | "existing"
                | "available"
                | "present"
                | "across"
                | "among"
                | "compute"
                | "calculate"
                | "determine"
        )
}

/// Verbs and words that only say that something happened or exists; they explain nothing
/// further about the query and are accepted as understood.
pub fn is_neutral_word(w: &str) -> bool {
    matches!(
        w,
        "issued"
            | "placed"
            | "made"
            | "created"
            | "registered"
            | "live"
            | "lives"
            | "living"
            | "located"
            | "based"
            | "work"
            | "works"
            | "working"
            | "come"
            | "comes"
            | "belong"
            | "belongs"
            | "belonging"
            | "contain"
            | "contains"
            | "containing"
            | "include"
            | "includes"
            | "including"
            | "involve"
            | "involved"
            | "associated"
            | "related"
            | "appear"
            | "appears"
            | "exists"
            | "reside"
            | "resides"
            | "held"
            | "hold"
            | "holds"
            | "own"
            | "owns"
            | "owned"
            | "been"
            | "got"
            | "gets"
            | "named"
            | "called"
            | "titled"
            | "place"
            | "full"
            | "handled"
            | "processed"
            | "managed"
            | "served"
            | "all-time"
    )
}

/// Verbs that name money coming in or going out ("spent", "earned", "sold for").
pub fn is_money_verb(w: &str) -> bool {
    matches!(
        w,
        "spent"
            | "spend"
            | "spends"
            | "spending"
            | "earned"
            | "earn"
            | "earns"
            | "earning"
            | "generated"
            | "generate"
            | "generates"
            | "brought"
            | "bring"
            | "paid"
            | "pay"
            | "pays"
            | "billed"
            | "grossed"
            | "made-money"
    )
}

/// Canonical words naming a money measure.
pub fn is_money_noun(norm: &str) -> bool {
    matches!(
        norm,
        "revenue" | "sales" | "income" | "turnover" | "earning" | "money" | "spending" | "spend"
    )
}

/// Words naming an item count in sales ("sold", "purchased").
pub fn is_sold_verb(w: &str) -> bool {
    matches!(
        w,
        "sold" | "purchased" | "bought" | "ordered" | "sell" | "sells" | "selling"
    )
}

/// The month a word names (1-12).
pub fn month(w: &str) -> Option<u32> {
    let m = match w {
        "january" | "jan" => 1,
        "february" | "feb" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    };
    Some(m)
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
    fn singulars_and_synonyms() {
        assert_eq!(singular("countries"), "country");
        assert_eq!(singular("invoices"), "invoice");
        assert_eq!(singular("boxes"), "box");
        assert_eq!(singular("status"), "status");
        assert_eq!(singular("ids"), "id");
        assert_eq!(word_token("Clients").norm, "customer");
        assert_eq!(word_token("songs").norm, "track");
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
