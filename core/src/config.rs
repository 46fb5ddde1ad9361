//! Configuration; filled in below.
/// Placeholder.
#[derive(Debug, Clone, Default)]
pub struct Config;
