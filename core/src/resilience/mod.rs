//! Cross-cutting protections that wrap a seam: per-tenant rate limits.

pub mod rate_limit;
