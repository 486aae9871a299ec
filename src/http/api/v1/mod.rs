//! The v1 handlers, one file per route group (`metadata.rs` is the reference's
//! `/private` and `/metadata` group), and their JSON shapes (`views.rs`).
//!
//! # The reference's words and otsd's
//!
//! The v1 wire speaks the reference's words; the rest of otsd has one word per
//! concept. This is the one place the two meet: a v1 word is spoken only here
//! (file, handler and JSON names), never below the HTTP face.
//!
//! | v1 wire (spec)                                     | otsd (code, pages)                                   |
//! |----------------------------------------------------|------------------------------------------------------|
//! | the "metadata" object, `/private/{metadata_key}`, `/metadata/{metadata_key}` | the receipt: [`crate::vault::Receipt`], the page `/private/{key}` |
//! | `metadata_key`                                     | the receipt key: [`crate::domain::ReceiptKey`]       |
//! | `metadata_ttl`                                     | `Receipt::receipt_ttl` (the record's whole life)     |
//! | `/private/recent`, `/metadata/recent`              | an account's receipts (`Service::recent`)            |
//! | `secret_key`, `/secret/{secret_key}`               | the secret key: [`crate::domain::SecretKey`]         |
//! | state `received`                                   | `State::Received`, reached by the one reveal         |
//! | `custid` (`"anon"` without one)                    | the owner: the account's name, or [`crate::domain::ANONYMOUS`] |
//!
//! "Private" in v1 names the creator's side of a secret (the receipt). otsd's own
//! requests API uses it the same way for a request's requester: its
//! `private_key` is a [`crate::domain::PrivateKey`], not a receipt key.

pub mod metadata;
pub mod secret;
pub mod share;
pub mod status;
mod views;
