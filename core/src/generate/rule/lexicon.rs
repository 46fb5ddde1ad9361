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

/// Whether `w` is a verb that relates two things a question names and adds nothing of its
/// own: "courses *taught* by Julio", "the channel *used* by the customer", "films *produced*
/// by each studio". The relation is the foreign key path between the two; the grammar reads
/// such a verb only between two named things, so "accepted students" (a state, not a
/// relation) stays unknown.
pub fn is_relation_verb(w: &str) -> bool {
    // Irregular past forms of the verbs below.
    const IRREGULAR: &[&str] = &[
        "took",
        "taken",
        "taught",
        "written",
        "wrote",
        "won",
        "led",
        "given",
        "gave",
        "driven",
        "drove",
        "built",
        "ran",
        "met",
        "chose",
        "chosen",
        "flew",
        "flown",
        "sent",
        "sung",
        "sang",
        "spoke",
        "spoken",
        "underwent",
        "undergone",
        "rode",
        "ridden",
    ];
    if IRREGULAR.contains(&w) {
        return true;
    }
    if is_state_participle(w) {
        return false;
    }
    let inflected = w.ends_with("ed") || w.ends_with("ing");
    RELATION_VERBS
        .iter()
        .chain(NOUN_LIKE_VERBS.iter().filter(|_| inflected))
        .any(|base| inflects(w, base))
}

/// Whether `w` is `base` or one of its regular forms: "teaches", "studies", "used", "enrolled",
/// "starring", "taking".
fn inflects(w: &str, base: &str) -> bool {
    let Some(rest) = w.strip_prefix(base) else {
        // "taking", "used": the final e dropped; "studies", "studied": y to i.
        if let Some(stem) = base.strip_suffix('e') {
            return w
                .strip_prefix(stem)
                .is_some_and(|r| matches!(r, "ing" | "ed"));
        }
        if let Some(stem) = base.strip_suffix('y') {
            return w
                .strip_prefix(stem)
                .is_some_and(|r| matches!(r, "ies" | "ied"));
        }
        return false;
    };
    match rest {
        "" | "s" | "es" | "ed" | "d" | "ing" => true,
        // "enrolled", "starring": the last consonant doubled.
        _ => {
            let last = base.as_bytes().last().copied();
            rest.len() > 1
                && rest.as_bytes().first().copied() == last
                && matches!(&rest[1..], "ed" | "ing")
        }
    }
}

/// Participles that name a state of one row ("accepted", "married"), which a condition must
/// express: never read as a relation.
fn is_state_participle(w: &str) -> bool {
    matches!(
        w,
        "accepted"
            | "rejected"
            | "approved"
            | "denied"
            | "married"
            | "retired"
            | "cancelled"
            | "canceled"
            | "completed"
            | "failed"
            | "passed"
            | "deleted"
            | "closed"
            | "opened"
            | "finished"
            | "started"
            | "expired"
            | "paid"
            | "unpaid"
            | "delivered"
            | "returned"
            | "refunded"
            | "shipped"
            | "confirmed"
            | "verified"
            | "registered"
            | "certified"
            | "qualified"
            | "released"
            | "rated"
            | "scored"
            | "ranked"
            | "sold"
    ) || w.starts_with("un")
}

/// Base forms of the relation verbs of [`is_relation_verb`].
const RELATION_VERBS: &[&str] = &[
    "teach",
    "take",
    "use",
    "play",
    "offer",
    "serve",
    "correspond",
    "participate",
    "produce",
    "publish",
    "write",
    "attend",
    "enroll",
    "enrol",
    "manage",
    "direct",
    "win",
    "perform",
    "interact",
    "receive",
    "provide",
    "affect",
    "operate",
    "train",
    "assign",
    "invest",
    "employ",
    "hire",
    "author",
    "edit",
    "compose",
    "sponsor",
    "organize",
    "organise",
    "conduct",
    "treat",
    "prescribe",
    "advise",
    "supervise",
    "coach",
    "drive",
    "fly",
    "rent",
    "borrow",
    "lend",
    "install",
    "purchase",
    "deliver",
    "carry",
    "insure",
    "submit",
    "join",
    "apply",
    "compete",
    "appear",
    "sing",
    "speak",
    "meet",
    "choose",
    "ride",
    "undergo",
    "own",
    "build",
    "develop",
    "make",
    "create",
    "establish",
    "affiliate",
    "connect",
    "attach",
    "allocate",
    "confer",
    "give",
    "send",
    "transfer",
    "reside",
    "stay",
    "reserve",
    "require",
    "contain",
    "include",
    "involve",
    "describe",
    "share",
];

/// Verbs that are also nouns ("the order", "a star"): relation verbs only as "-ed" or "-ing"
/// forms ("books ordered by ...").
const NOUN_LIKE_VERBS: &[&str] = &[
    "order", "record", "file", "star", "act", "store", "stock", "book", "link", "issue", "request",
    "access", "design", "award", "grant", "run", "sign", "found", "ship", "feature", "visit",
    "host", "review", "supply", "support", "lead", "cover", "study",
];
