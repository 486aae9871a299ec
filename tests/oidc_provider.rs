//! The OpenID provider the web sign-in tests sign in against (tests/oidc,
//! started by `common::oidc::Provider`), proven on its own, without otsd: a
//! plain HTTP client plays the relying party through discovery, the
//! authorization code flow with PKCE, the provider's login page and the token
//! endpoint, and reads the ID token it gets.
//!
//! Only 127.0.0.1 is contacted; every request has a time limit.
//!
//! Run with `cargo test --test oidc_provider` (needs Node.js and npm; the first
//! run installs the provider's packages from the npm registry).

// The test kit; `pub` so that the part of it this binary does not use is not
// reported as dead code (see tests/common/mod.rs).
pub mod common;

mod oidc_provider {
    mod flow;
    mod relying_party;
}
