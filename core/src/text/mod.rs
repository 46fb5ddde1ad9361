//! Reading text: what every reader of a question shares, from the rule generator to the
//! semantic cache, the LLM prompt, the built-in embedder and the value index.
//!
//! - [`tokens`]: questions split into words, numbers and quoted literals; identifiers split
//!   into words (`BillingCountry` is "billing country").
//! - [`words`]: singular forms, BI synonyms, function and stop words, money words, months.
//! - [`fold`](mod@fold): accents folded away ("São Paulo" is "sao paulo").
//! - [`phrases`]: the one list of comparison and order phrases ("not more than", "highest")
//!   and the words of query that are never a value.
//!
//! Everything here is a pure function of its text: no catalog, no database, no generator.
//! A reader that needs a word list of its own (the rule grammar's neutral verbs, the cache's
//! slot marks) keeps it beside itself; a word or phrase that two readers must read alike
//! belongs here.

pub(crate) mod fold;
pub(crate) mod phrases;
pub(crate) mod tokens;
pub(crate) mod words;

pub use fold::{fold, fold_string};
pub use phrases::{Comparison, Sense, is_query_word, phrase_at};
pub use tokens::{Token, identifier_norms, identifier_words, tokenize, word_token};
pub use words::{
    canonical, is_function_word, is_money_noun, is_money_verb, is_neutral_word, is_stop_word,
    month, month_name, singular,
};
