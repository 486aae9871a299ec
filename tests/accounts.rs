//! Accounts, authentication, limits by caller and rate limits (issue 3), proven
//! over the real server: in-process (`spawn_app_with`) for the HTTP behaviour, and
//! the compiled `otsd` binary for the `otsd user …` commands.
//!
//! Rate-limit tests use a window far longer than any test run: windows are
//! aligned to the clock, so a short one could end between two requests of a test.
//! Clients are told apart by `X-Forwarded-For` through a trusted proxy (the test
//! itself, on 127.0.0.1); nothing but 127.0.0.1 is ever contacted.
//!
//! Run with `cargo test --test accounts`.

// The test kit; `pub` so that the part of it this binary does not use is not
// reported as dead code (see tests/common/mod.rs).
pub mod common;

mod accounts {
    mod auth;
    mod cli;
    mod extid;
    mod limits;
    mod proxies;
    mod ratelimit;
    mod recent;
    mod signin;
}
