//! Metrics skeleton; filled in below.
