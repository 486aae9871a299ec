//! Integration tests of the v1 API against the real server (one binary, one module
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
}
