//! # otsd
//!
//! A self-hosted server for sharing secrets through links that work exactly once,
//! speaking the Onetime Secret REST API v1.
//!
//! Module map, from the wire inwards, with the section of the wire contract
//! (`docs/api-notes.md` says where otsd chose what the contract leaves open)
//! each part keeps:
//! - [`app`]: builds the actix-web server from [`config::Settings`] (every
//!   fallible step first, then the threads); `main` and the tests call the same
//!   [`app::Application::build`]. Holds [`app::AppState`], what handlers share.
//! - [`api`]: the v1 routes (§3) and their JSON shapes, and the one place the
//!   [`Error`] becomes a v1 error (§2: 404, `X-OTS-Intended-Status`).
//! - [`web`]: the pages people use in a browser (§6), the same-origin check on
//!   their form posts, and the one place the [`Error`] becomes an HTML page.
//! - [`request`]: what both faces extract from a request (§1): the caller
//!   (Basic auth, anonymous `Basic Og==`, trusted `X-Forwarded-For`), parameters
//!   in every shape clients send, the key in the path.
//! - [`service`]: the rules both faces share (§2–§4): who may create, caller
//!   limits, rate limits, failed-passphrase counting, share domains, recipients
//!   and email-then-rollback; one operation per route, each taking a
//!   [`service::Caller`].
//! - [`error`]: the one error type of a request, with its intended status.
//! - [`health`]: `/healthz`, `/readyz`, and HEAD wherever GET works.
//! - [`vault`]: the secret lifecycle (create, reveal once, receipt, burn),
//!   joining crypto and storage; durable before it returns (§5).
//! - [`domain`]: validated values (keys, TTL, passphrase, limits, generated
//!   passwords, share domain; §4 limits).
//! - [`crypto`]: AES-256-GCM sealing, key derivation, keys that locate their
//!   record (§4 keys, §5).
//! - [`store`]: everything sled — typed records, atomic transitions, group
//!   commit, the on-disk format (§5 durability).
//! - [`reaper`]: the background sweep that deletes expired records (§5).
//! - [`supervisor`]: the one place background threads start and the one way
//!   they stop. Each layer owns the threads it starts: [`app`] starts all of
//!   the server's (admin socket, reaper and compaction, full-disk recovery,
//!   watchdog) on one [`supervisor::Supervisor`], after the last step that
//!   can fail; the [`store`] starts and stops its own group-commit thread when
//!   it opens and closes, since it also runs without a server. A panic in any
//!   of them stops the server cleanly, with a failing exit status.
//! - [`accounts`]: accounts and API tokens (§1: the same time for unknown
//!   names); [`admin`]: the local socket through which `otsd user …` manages
//!   them while the server runs.
//! - [`mail`]: the email that tells a recipient about a secret (link only), and
//!   its `[smtp]` settings.
//! - [`ratelimit`]: fixed-window limits per client address and account (§4).
//! - [`config`], [`cli`]: layered configuration parsed into types, and the
//!   command line; [`clock`]: the one clock.

pub mod accounts;
pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
mod format;
pub mod http;
pub mod mail;
pub mod memory;
pub mod notify;
pub mod ratelimit;
pub mod reaper;
pub mod service;
pub mod startup;
pub mod store;
pub mod supervisor;
pub mod telemetry;
pub mod vault;

pub use config::Settings;
pub use error::Error;
pub use startup::Application;
