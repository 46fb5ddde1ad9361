//! The HTTP server: the API through `app()` without a socket (endpoints, JWT verification,
//! error statuses, the OpenAPI document) and the real binary (one instance, and three instances
//! sharing Redis).

mod api;
mod binary;
mod cluster;
mod deploy;
mod errors;
mod feedback;
mod idp;
mod idp_web;
mod jwt;
mod login;
mod openapi;
mod permissions;
mod scope;
mod sessions;
mod sql_safety;
mod support;
mod web;
