//! Integration tests of the v1 and v2 APIs against the real server (one binary, one module
//! per route group). Each test gets its own port and database.

// The test kit; `pub` so that the part of it this binary does not use is not
// reported as dead code (see tests/common/mod.rs).
pub mod common;

mod api {
    mod at_rest;
    mod burn;
    mod concurrency;
    mod expiry;
    mod generate;
    mod health;
    mod hostile;
    mod lifecycle;
    mod metadata;
    mod metrics;
    mod params;
    mod requests;
    mod reveal;
    mod share;
    mod status;
    /// API v2 (`api-v2.md`), and v1's receipt aliases, over the same store.
    mod v2 {
        mod auth;
        mod bodies;
        mod cors;
        mod cross_api;
        mod generate;
        mod receipts;
        mod reveal;
        mod routes;
    }
}
