//! Demo database; filled in below.
