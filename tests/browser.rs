//! Real-browser end-to-end tests of the web pages (spec §6): headless Chromium,
//! driven through WebDriver (chromedriver), against the real server.
//!
//! Each test starts its own server and its own chromedriver; a test runs at most
//! two browsers at once (the creator's and the recipient's, each with its own
//! profile). Every page a test looks at is saved as a PNG under
//! `<CARGO_TARGET_TMPDIR>/screenshots` so a person can look at them.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`); without them the tests fail with a message saying so.

// The test kit; `pub` so that the part of it this binary does not use is not
// reported as dead code (see tests/common/mod.rs).
pub mod common;

mod browser {
    mod burn;
    mod closed;
    mod contrast;
    mod escaping;
    mod expiry;
    mod flow;
    mod generate;
    mod headers;
    mod keyboard;
    mod languages;
    mod lemonldap;
    mod nojs;
    mod passphrase;
    mod polish;
    mod requests;
    mod signin;
    mod states;
    mod support;
    mod webdriver;
}
