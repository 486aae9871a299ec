//! The two record types and their on-disk encoding (a version byte, then postcard).
//!
//! Neither record holds a key, a value, a passphrase or an address in the clear:
//! values and keys are sealed by `crypto` before they get here.

use crate::crypto::{RecordId, Stretch};
use serde::{Deserialize, Serialize};

use super::StoreError;

const FORMAT_V1: u8 = 1;

/// A sealed secret, stored under the keyed hash of its secret key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRecord {
    /// Where the receipt lives, so a reveal can mark it received.
    pub receipt_id: RecordId,
    /// `nonce ‖ AES-256-GCM(value) ‖ tag`.
    pub sealed_value: Vec<u8>,
    /// Present when the secret has a passphrase.
    pub stretch: Option<Stretch>,
    /// Custom share domain, or empty for the server's base URL.
    pub share_domain: String,
    /// Unix seconds; at or after this instant the secret no longer exists.
    pub expires_at: u64,
}

/// Where a receipt's lifecycle stands as stored. `expired` and `orphaned` are not
/// stored: they are worked out when the receipt is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredState {
    New,
    Viewed,
    Received,
    Burned,
}

/// The creator's receipt (the v1 "metadata"), stored under the keyed hash of its
/// metadata key. It lives twice as long as its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptRecord {
    pub custid: String,
    pub secret_id: RecordId,
    /// The secret key, sealed under a key derived from the metadata key.
    pub sealed_secret_key: Vec<u8>,
    /// The metadata key sealed under the server's key, so an account's receipts can
    /// be listed; `None` for anonymous receipts, which nobody can list.
    pub sealed_metadata_key: Option<Vec<u8>>,
    /// Where the receipt sorts in its account's `recent`: an increasing number
    /// from [`super::Store::next_listing`], finer than `created` (whole seconds).
    /// `None` for anonymous receipts.
    pub listing: Option<u64>,
    pub ttl: u64,
    pub created: u64,
    pub updated: u64,
    pub received: Option<u64>,
    pub state: StoredState,
    pub secret_expires_at: u64,
    pub expires_at: u64,
    pub passphrase_required: bool,
    /// Already obfuscated (`de*****@e*****.com`); the address itself is never stored.
    pub recipients: Vec<String>,
    pub share_domain: String,
}

pub(super) fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT_V1];
    postcard::to_io(record, &mut out).map_err(|_| StoreError::Corrupt)?;
    Ok(out)
}

pub(super) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_V1, body)) => postcard::from_bytes(body).map_err(|_| StoreError::Corrupt),
        _ => Err(StoreError::Corrupt),
    }
}

/// An account: only a keyed hash of its API token is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub token_hash: [u8; 32],
    pub created: u64,
    pub updated: u64,
    /// The [`ReceiptRecord::listing`] number current when the account was made:
    /// `recent` lists only receipts numbered after it, so an account given a
    /// removed account's name never sees what the earlier holder made, whatever
    /// a crash or a create racing the removal left in the index.
    pub listed_from: u64,
}
