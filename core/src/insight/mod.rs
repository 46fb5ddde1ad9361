//! What the engine answers besides rows: verified queries that answer the questions they were
//! written for ([`verified`]), empty results that say which condition emptied them
//! ([`empty`]), joins that count rows more than once ([`fanout`]), and follow-ups to ask next
//! ([`suggest`]). Every statement these build passes the asker's
//! [`View::validate`](crate::access::View::validate).

mod ast;
pub mod empty;
pub mod fanout;
pub mod suggest;
pub mod verified;

pub use empty::{EmptyExplanation, EmptyLimits, explain_empty};
pub use verified::{VerifiedMatch, bind_verified, match_verified};
