//! Evaluation on golden questions: reading question sets (Spider, SParC, CSV), execution
//! accuracy (whether predicted rows answer the gold query), scores broken down by the gold
//! query's SQL constructions, and how well the prompt's schema linking keeps what the gold SQL
//! needs.

mod accuracy;
mod breakdown;
mod constructions;
mod csv;
pub mod linking;
mod questions;

pub use accuracy::{has_top_level_order_by, rows_match};
pub use breakdown::{Breakdown, Outcome, Tally};
pub use constructions::{Construction, classify, classify_keywords};
pub use csv::parse_csv;
pub use questions::{Case, GoldTurn, load_cases, parse_cases};
