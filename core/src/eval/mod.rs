//! Evaluation on golden questions: reading question sets (Spider, SParC, CSV) and measuring
//! how well the prompt's schema linking keeps what the gold SQL needs.

pub mod csv;
pub mod linking;
mod questions;

pub use csv::parse_csv;
pub use questions::{Case, GoldTurn, load_cases, parse_cases};
