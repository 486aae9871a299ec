//! # otsd
//!
//! A self-hosted server for sharing secrets through links that work exactly once,
//! speaking the Onetime Secret REST API v1.
//!
//! Module map, from the wire inwards. Arrows only point down; no module
//! imports one above it, and `docs/architecture.md` draws the layers and says
//! which file holds each behaviour. The section of the wire contract each part
//! keeps is in brackets (`docs/api-notes.md` says where otsd chose what the
//! contract leaves open).
//!
//! - [`startup`]: builds and runs the server from [`config::Settings`] (every
//!   fallible step first, then every background thread, on one
//!   [`supervisor::Supervisor`]); `main` and the tests call the same
//!   [`startup::Application::build`]. Also the commands that are not the
//!   server: `otsd user`, backup and restore. The one place settings become
//!   running objects (`startup::convert`).
//! - [`http`]: the faces. [`http::api`]: the v1 routes (§3) and their JSON,
//!   and the one place the service's [`Error`] becomes a v1 answer (§2: 404,
//!   `X-OTS-Intended-Status`); `/api/requests` with real status codes.
//!   [`http::web`]: the pages (§6), the same-origin check on their forms, and
//!   the one place an error becomes a page in the reader's language.
//!   [`http::extract`]: what the faces extract (§1) — the caller (Basic auth,
//!   anonymous `Basic Og==`, trusted `X-Forwarded-For`), parameters in every
//!   shape clients send, the key in the path — each refused by the face's own
//!   error. [`http::health`], [`http::metrics`]; [`http::AppState`], what the
//!   handlers share.
//! - [`admin`]: the other face, a local socket through which `otsd user …`
//!   and `otsd backup` reach the running server.
//! - [`service`]: the rules every face shares (§2–§4): who may create, caller
//!   limits, rate limits, failed-passphrase counting, share domains,
//!   recipients and email-then-rollback; one operation per route, each taking
//!   a [`service::Caller`]. [`error`]: its one error type, with no HTTP in it.
//! - [`vault`]: the secret and request lifecycles (create, reveal once,
//!   receipt, burn; ask, answer once, reveal, cancel), joining crypto and
//!   storage; durable before it returns (§5). [`accounts`]: accounts and API
//!   tokens (§1: the same time for unknown names).
//! - [`store`]: one typed, async storage API over two engines (§5
//!   durability): sled, the embedded default (chunks below sled's blob
//!   threshold, group commit, the durable flush, the on-disk format,
//!   compaction), and PostgreSQL for several nodes (migrations, a pool,
//!   conditional updates); records, transitions and backups shared.
//! - Leaves, importing nothing above them: [`crypto`] (AES-256-GCM sealing,
//!   key derivation, keys that locate their record; §4 keys, §5), [`domain`]
//!   (validated values: keys, TTL, passphrase, limits, generated passwords,
//!   share domain; §4 limits), [`telemetry`] (the counters and histograms
//!   every layer counts with), [`ratelimit`] (fixed-window limits per client
//!   address and account; §4), [`supervisor`] (the one way background threads
//!   stop), [`mail`] (the recipient's email, link only), [`clock`], `format`,
//!   [`memory`] (the one module with `unsafe`).
//! - Background work: [`reaper`] (deletes what expired, asks for compaction;
//!   §5), [`notify`] (systemd readiness and watchdog). Each layer owns the
//!   threads it starts: [`startup`] starts all of the server's, the [`store`]
//!   its own group-commit thread (it also runs without a server). A panic in
//!   any of them stops the server cleanly, with a failing exit status.
//! - [`config`], [`cli`]: layered configuration as plain data, and the
//!   command line.

pub mod accounts;
pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod format;
pub mod http;
pub mod mail;
pub mod memory;
pub mod notify;
pub mod oidc;
pub mod ratelimit;
pub mod reaper;
pub mod service;
pub mod sessions;
pub mod startup;
pub mod store;
pub mod supervisor;
pub mod telemetry;
pub mod vault;

pub use config::Settings;
pub use error::Error;
pub use startup::Application;
