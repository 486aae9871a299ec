//! # otsd
//!
//! A self-hosted server for sharing secrets through links that work exactly once,
//! speaking the Onetime Secret REST API v1.
//!
//! Module map, from the wire inwards:
//! - [`app`]: builds the actix-web server from [`config::Settings`]; `main` and the
//!   tests call the same [`app::Application::build`].
//! - [`web`]: the pages people use in a browser (create, receipt, reveal, burn).
//! - [`api`]: the v1 routes, parameter parsing, callers, and the one error type that
//!   maps every failure to the v1 wire format.
//! - [`vault`]: the secret lifecycle (create, reveal once, receipt, burn), joining
//!   crypto and storage; durable before it returns.
//! - [`domain`]: validated values (keys, TTL, passphrase, limits, generated passwords).
//! - [`crypto`]: AES-256-GCM sealing, key derivation, keyed record ids.
//! - [`store`]: everything sled — typed records, atomic transitions, group commit.
//! - [`reaper`]: the background sweep that deletes expired records.
//! - [`accounts`]: accounts and API tokens; [`admin`]: the local socket through
//!   which `otsd user …` manages them while the server runs.
//! - [`mail`]: the email that tells a recipient about a secret (link only).
//! - [`ratelimit`]: fixed-window limits per client address and account.
//! - [`config`], [`cli`]: layered configuration and the command line.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
mod format;
pub mod mail;
mod memory;
pub mod ratelimit;
pub mod reaper;
pub mod request;
pub mod service;
pub mod store;
pub mod vault;
pub mod web;

pub use app::Application;
pub use config::Settings;
pub use error::Error;
