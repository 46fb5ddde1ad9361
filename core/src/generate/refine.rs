//! The scope of an answer (the parts of its query a front end shows as removable chips) and
//! the turn that removes one of them ([`Ask::remove_scope`](crate::Ask::remove_scope)).
//!
//! Only a generator's structured form of a query (its state, kept with the turn) has parts:
//! the offline rules' [`QueryIr`] today. An answer without a state has no scope, never a guessed
//! one. Removing a part is the generator's [`SqlGenerator::refine`]: the state is patched and
//! written again as a follow-up's is, and the engine validates and runs the SQL as any
//! generated SQL.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Generation, GenerationRequest, SqlGenerator, rule::QueryIr};
use crate::{
    answer::ScopeItem,
    error::{Error, Result},
};

/// The scope items of a state: those of the rules' query it holds; none for any other state.
pub fn scope(state: &serde_json::Value) -> Vec<ScopeItem> {
    QueryIr::from_state(state)
        .map(|ir| super::rule::scope::items(&ir))
        .unwrap_or_default()
}

/// The refusal of a generator that cannot remove a part of an answer.
pub fn cannot_refine() -> Error {
    Error::CannotAnswer {
        message:
            "this answer cannot be refined by removing a part; ask the question again without it"
                .into(),
        unknown_words: Vec::new(),
    }
}

/// Checks a removal before anything is loaded: the question must be empty (a removal has no
/// question of its own) and `id` of the form of a scope id ([`check_id`]).
pub fn check_removal(question: &str, id: &str) -> Result<()> {
    check_id(id)?;
    if question.trim().is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "send either a question or remove_scope, not both: remove_scope asks for the previous answer without one of its parts, with an empty question",
        ))
    }
}

/// Checks the form of a scope id: `filter:N`, `having:N`, `group:N`, `order` or `limit`.
pub fn check_id(id: &str) -> Result<()> {
    const FORM: &str = "a scope item's id is `filter:N`, `having:N`, `group:N`, `order` or `limit`: send the `id` of one of the previous answer's `scope` items";
    if id.len() > super::rule::scope::MAX_ID_LEN {
        return Err(Error::invalid_input(format!(
            "remove_scope is {} bytes long; {FORM}",
            id.len()
        )));
    }
    let positional = id.split_once(':').is_some_and(|(kind, n)| {
        matches!(kind, "filter" | "having" | "group")
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
    });
    if positional || id == "order" || id == "limit" {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "remove_scope '{}' is not a scope item's id; {FORM}",
            id.escape_debug()
        )))
    }
}

/// The question a removal is saved as: `without "top 5"`, and the parts that went with it
/// (`without "sorted by ..., largest first" and "top 5"`).
pub fn question(removed: &[ScopeItem]) -> String {
    let quoted: Vec<String> = removed.iter().map(|i| format!("\"{}\"", i.label)).collect();
    match quoted.as_slice() {
        [] => "without that part".into(),
        [one] => format!("without {one}"),
        [init @ .., last] => format!("without {} and {last}", init.join(", ")),
    }
}

/// What a removal took away: `asked`, then the items of `before` that `after` no longer has
/// (compared by kind and label, as positions shift).
pub fn removed(before: &[ScopeItem], after: &[ScopeItem], asked: &ScopeItem) -> Vec<ScopeItem> {
    let mut left: Vec<&ScopeItem> = after.iter().collect();
    let mut gone = Vec::new();
    for item in before {
        match left
            .iter()
            .position(|a| a.kind == item.kind && a.label == item.label)
        {
            Some(i) => {
                left.remove(i);
            }
            None => gone.push(item.clone()),
        }
    }
    match gone.iter().position(|i| i.id == asked.id) {
        Some(i) => {
            let first = gone.remove(i);
            gone.insert(0, first);
        }
        None => gone.insert(0, asked.clone()),
    }
    gone
}

/// A generator that answers each request with `generator`'s refinement of `state`: what the
/// engine hands the self-correction loop for a removal, so that its SQL is validated and run
/// exactly as generated SQL is.
#[derive(Debug)]
pub struct Refining {
    /// The generator that wrote the state.
    pub generator: Arc<dyn SqlGenerator>,
    /// The previous answer's state.
    pub state: serde_json::Value,
    /// The id of the part to remove.
    pub remove: String,
}

#[async_trait]
impl SqlGenerator for Refining {
    fn name(&self) -> String {
        self.generator.name()
    }

    async fn generate(&self, request: &GenerationRequest) -> Result<Generation> {
        self.generator
            .refine(request, &self.state, Some(&self.remove))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::ScopeKind;

    fn item(id: &str, kind: ScopeKind, label: &str) -> ScopeItem {
        ScopeItem {
            id: id.into(),
            kind,
            label: label.into(),
        }
    }

    #[test]
    fn ids_are_checked_for_their_form() {
        for ok in ["filter:0", "having:12", "group:1", "order", "limit"] {
            check_id(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let long = "x".repeat(10_000);
        for bad in [
            "",
            "filter",
            "filter:",
            "filter:-1",
            "filter:+1",
            "filter:1:2",
            "Filter:0",
            "order:0",
            "'; DROP TABLE x; --",
            long.as_str(),
        ] {
            let e = check_id(bad).expect_err(bad);
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput, "{bad}");
            assert!(e.to_string().contains("scope"), "{e}");
            assert!(e.to_string().len() < 400, "the id is not echoed whole");
        }
    }

    #[test]
    fn the_question_names_what_was_removed() {
        let top = item("limit", ScopeKind::Limit, "top 5");
        let sort = item("order", ScopeKind::Order, "sorted by x, largest first");
        let year = item("filter:0", ScopeKind::Filter, "in 2024");
        assert_eq!(question(std::slice::from_ref(&top)), "without \"top 5\"");
        let before = [year.clone(), sort.clone(), top.clone()];
        let gone = removed(&before, std::slice::from_ref(&year), &sort);
        assert_eq!(gone, [sort.clone(), top.clone()]);
        assert_eq!(
            question(&gone),
            "without \"sorted by x, largest first\" and \"top 5\""
        );
        // Positions shift; labels decide.
        let after = [item("filter:0", ScopeKind::Filter, "in 2024")];
        let x = item("filter:0", ScopeKind::Filter, "x is 1");
        let before = [x.clone(), year.clone()];
        assert_eq!(removed(&before, &after, &x), [x]);
    }
}
