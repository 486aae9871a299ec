//! Integration tests of the v1 API against the real server (one binary, one module
//! per route group). Each test gets its own port and database.

#[path = "common/raw_http.rs"]
mod raw_http;

mod api {
    mod at_rest;
    mod burn;
    mod concurrency;
    mod expiry;
    mod generate;
    mod helpers;
    mod hostile;
    mod lifecycle;
    mod metadata;
    mod params;
    mod reveal;
    mod share;
    mod status;
}
