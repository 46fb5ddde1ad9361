//! A data source as one principal sees it.

/// A data source as one principal sees it: the catalog in scope, the known values of the rows
/// it may see, and the validator that applies its policy.
#[derive(Debug, Clone)]
pub struct View {}
