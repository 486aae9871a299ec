//! The test kit: what every test binary that talks to a server shares. Each such
//! binary is one file `tests/<name>.rs` whose own modules live in `tests/<name>/`,
//! and pulls the kit in with `pub mod common;` (no `#[path]`).
//!
//! - [`app`]: the real server in-process (`spawn_app`, `TestApp`), its settings;
//! - [`process`]: the compiled `otsd` binary (`Otsd`, `Server`);
//! - [`client`]: one HTTP client for both, with the v1 calls and ways to dress a
//!   request up as a caller (`as_account`, `forwarded_for`, …);
//! - [`assert`]: `ok_json` and the v1 error assertions;
//! - [`accounts`]: accounts made through the running server's admin socket;
//! - [`api`]: routes, messages and keys the API is specified with;
//! - [`clock`]: the Unix clock as the server counts it;
//! - [`engine`]: sled or PostgreSQL under every server a test starts
//!   (`OTSD_TEST_STORE=postgres`), and the store of a stopped server;
//! - [`postgres`]: a real PostgreSQL cluster, its faults and its standby;
//! - [`raw_http`]: HTTP/1.1 over a bare socket, for what no client library sends;
//! - [`v2`]: API v2's calls, its success and error assertions, its JSON types;
//! - [`oidc`]: a real OpenID provider (Node's `oidc-provider`, tests/oidc) on
//!   loopback for web sign-in; not re-exported, its names are used as
//!   `oidc::Provider`, `oidc::Client`, `oidc::User`;
//! - [`lemonldap`]: a second one, Debian's LemonLDAP::NG portal with its Demo
//!   users, configured as the README's recipe says; not re-exported, used as
//!   `lemonldap::Portal`;
//! - [`postgres`]: a real PostgreSQL cluster the test starts (`Cluster`), its faults
//!   and standbys; not re-exported, its names are used as `postgres::Cluster`.
//!
//! Why `pub mod common;` and not `mod common;`: every binary uses only part of the
//! kit, and rustc reports unused items of a private module as dead code. Items a
//! test crate makes public from its root are not dead code, so the kit needs no
//! `#[allow(dead_code)]`; what nothing in the kit itself uses is still reported.

pub mod accounts;
pub mod api;
pub mod app;
pub mod assert;
pub mod client;
pub mod clock;
pub mod engine;
pub mod lemonldap;
pub mod oidc;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod raw_http;
pub mod v2;
pub mod watch;

pub use accounts::*;
pub use api::*;
pub use app::*;
pub use assert::*;
pub use client::*;
pub use clock::*;
pub use engine::*;
pub use ports::*;
pub use process::*;
pub use v2::*;
pub use watch::*;
