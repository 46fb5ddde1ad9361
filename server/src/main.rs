//! The `heliosdb-conversational-bi` command.
fn main() {}
