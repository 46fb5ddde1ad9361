//! Words of English questions: singular forms, BI synonyms, function, stop and neutral words,
//! money words and month names.

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
        "gender" => "sex",
        "opening" => "open",
        "enrollment" => "enrolment",
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
        "acc" | "acct" => "account",
        "bal" => "balance",
        "lat" => "latitude",
        "inst" => "institution",
        "org" => "organization",
        "cnt" => "count",
        "yr" => "year",
        "mgr" => "manager",
        "crs" => "course",
        "loc" => "location",
        "txn" => "transaction",
        "lang" => "language",
        "lng" | "lon" => "longitude",
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
            | "having"
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

/// The English names of the months, January first.
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The name of month `m` (1-12).
pub fn month_name(m: u32) -> Option<&'static str> {
    MONTH_NAMES.get((m as usize).wrapping_sub(1)).copied()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::word_token;

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
}
