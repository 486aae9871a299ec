//! Email to recipients and the links the server builds (issue 6), proven over the
//! real server (in-process, `spawn_app_with`) and a real SMTP server process:
//! Debian's `python3-aiosmtpd`, run as `/usr/bin/python3 -m aiosmtpd` with its
//! Maildir handler on a free loopback port, one per test. Relays that are down,
//! silent or refusing are played by small fakes in this process.
//!
//! Nothing but 127.0.0.1 is ever contacted; every wait is bounded and the only
//! timing assertions are generous upper bounds.
//!
//! Run with `cargo test --test email`.

// The test kit; `pub` so that the part of it this binary does not use is not
// reported as dead code (see tests/common/mod.rs).
pub mod common;

mod email {
    mod delivery;
    mod domains;
    mod refusals;
    mod smtp;
    mod support;
}
