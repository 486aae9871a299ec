//! The record types and their on-disk encoding (a version byte, then postcard).
//!
//! No record holds a key, a value, a passphrase or an address in the clear:
//! values and keys are sealed by `crypto` before they get here.

use crate::crypto::{Check, Stretch};
use serde::{Deserialize, Serialize};

use super::StoreError;

const FORMAT_V2: u8 = 2;

/// Where a secret's lifecycle stands as stored. `expired` and `orphaned` are not
/// stored: they are worked out when the record is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredState {
    New,
    Viewed,
    Received,
    Burned,
}

/// How a live secret is settled: by its one reveal, or by a burn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    Received,
    Burned,
}

/// Everything about one secret: the sealed value for its recipient and the
/// receipt (v1 says "metadata"; see `http::api::v1`) for its creator, in one record, so that every
/// change of state is one atomic write. Stored under its [`crate::crypto::RecordId`].
///
/// It lives until `expires_at`, twice the secret's TTL; the sealed value goes
/// when the secret is received, burned, or reaches `secret_expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRecord {
    /// Keyed hashes of the secret key and the receipt key: what a key presented
    /// must match (see `crypto::locator`).
    pub secret_check: Check,
    pub receipt_check: Check,
    pub owner: String,
    /// `nonce ‖ AES-256-GCM(value) ‖ tag`; `None` once the secret is gone.
    pub sealed_value: Option<Vec<u8>>,
    /// Present when the secret has a passphrase.
    pub stretch: Option<Stretch>,
    /// The secret key, sealed under a key derived from the receipt key, so the
    /// receipt can show it while the secret is live; `None` once it is gone.
    pub sealed_secret_key: Option<Vec<u8>>,
    /// The receipt key sealed under the server's key, so an account's receipts can
    /// be listed; `None` for anonymous secrets, which nobody can list.
    pub sealed_receipt_key: Option<Vec<u8>>,
    pub ttl: u64,
    pub created: u64,
    pub updated: u64,
    pub received: Option<u64>,
    pub state: StoredState,
    /// Unix seconds; at or after this instant the secret no longer exists.
    pub secret_expires_at: u64,
    /// Unix seconds; at or after this instant the receipt no longer exists either.
    pub expires_at: u64,
    /// Already obfuscated (`de*****@e*****.com`); the address itself is never stored.
    pub recipients: Vec<String>,
    /// Custom share domain, or empty for the server's base URL.
    pub share_domain: String,
}

impl SecretRecord {
    /// Whether the secret can still be revealed or burned at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        matches!(self.state, StoredState::New | StoredState::Viewed)
            && now < self.secret_expires_at
            && self.sealed_value.is_some()
    }

    pub fn passphrase_required(&self) -> bool {
        self.stretch.is_some()
    }

    /// Settles it (its reveal or its burn) at `now` if it is live: the state
    /// changes and the sealed value and secret key go. `false` (and nothing
    /// changed) if it was not live. The one transition every engine applies,
    /// each in one conditional write.
    pub(super) fn settle(&mut self, now: u64, how: Settlement) -> bool {
        if !self.is_live(now) {
            return false;
        }
        self.state = match how {
            Settlement::Received => StoredState::Received,
            Settlement::Burned => StoredState::Burned,
        };
        if how == Settlement::Received {
            self.received = Some(now);
        }
        self.updated = now;
        self.drop_sealed();
        true
    }

    /// `new` → `viewed` at `now` (its page was opened), if live and new.
    pub(super) fn mark_viewed(&mut self, now: u64) -> bool {
        let fresh = self.state == StoredState::New && self.is_live(now);
        if fresh {
            self.state = StoredState::Viewed;
            self.updated = now;
        }
        fresh
    }

    /// When the reaper next has something to do with it: at its secret's
    /// expiry while the sealed value is there, then at the record's end.
    pub fn due(&self) -> u64 {
        if self.sealed_value.is_some() {
            self.secret_expires_at
        } else {
            self.expires_at
        }
    }

    /// Drops what only a live secret needs; `true` if there was anything to drop.
    pub(super) fn drop_sealed(&mut self) -> bool {
        let had = self.sealed_value.is_some() || self.sealed_secret_key.is_some();
        self.sealed_value = None;
        self.sealed_secret_key = None;
        had
    }
}

/// Where a request stands as stored. `expired` is worked out when it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestState {
    /// Its request link takes one answer.
    Waiting,
    /// Answered: the answer waits for its requester.
    Answered,
    /// The requester read the answer (and it is gone).
    Revealed,
    /// The requester cancelled it (and any answer is gone).
    Cancelled,
}

/// How a request is closed by its requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    Revealed,
    Cancelled,
}

/// A request for a secret ("request a secret"): one record, changed only by
/// compare-and-swap, like a secret's. Stored under its own
/// [`crate::crypto::RecordId`] in the `requests` tree.
///
/// Nothing in it is readable without the master key and one of its two keys:
/// the note and the answer are sealed under a random answer key, and that key
/// is stored only sealed under the request key (until it is answered) and
/// under the private key (until it is closed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub request_check: Check,
    pub private_check: Check,
    pub owner: String,
    pub ttl: u64,
    pub created: u64,
    pub updated: u64,
    pub answered: Option<u64>,
    pub state: RequestState,
    /// Unix seconds; from then on the request link takes no answer.
    pub open_until: u64,
    /// Unix seconds; from then on an answer that arrived can no longer be read.
    pub answer_until: Option<u64>,
    /// Unix seconds; at or after this instant the record no longer exists.
    pub expires_at: u64,
    /// The answer key under the request key; `None` once answered or closed.
    pub key_for_request: Option<Vec<u8>>,
    /// The answer key under the private key; `None` once closed or expired.
    pub key_for_private: Option<Vec<u8>>,
    /// The request key under the private key, for the requester's page while it
    /// waits; `None` once answered or closed.
    pub sealed_request_key: Option<Vec<u8>>,
    /// The requester's note under the answer key; `None` without a note.
    pub sealed_note: Option<Vec<u8>>,
    /// The answer under the answer key, once answered, until read or gone.
    pub sealed_answer: Option<Vec<u8>>,
}

impl RequestRecord {
    /// Whether the request link still takes an answer at `now`.
    pub fn is_open(&self, now: u64) -> bool {
        self.state == RequestState::Waiting
            && now < self.open_until
            && self.key_for_request.is_some()
    }

    /// Whether an answer is there to be read at `now`.
    pub fn has_answer(&self, now: u64) -> bool {
        self.state == RequestState::Answered
            && self.answer_until.is_some_and(|until| now < until)
            && self.sealed_answer.is_some()
    }

    /// Takes the one answer of an open request at `now`: `sealed_answer` goes
    /// in, the request key's copy of the answer key goes out; the answer can
    /// be read for the request's TTL from `now`. `false` (nothing changed) if
    /// it is not open.
    pub(super) fn answer(&mut self, now: u64, sealed_answer: &[u8]) -> bool {
        if !self.is_open(now) {
            return false;
        }
        let answer_until = now.saturating_add(self.ttl);
        self.state = RequestState::Answered;
        self.answered = Some(now);
        self.updated = now;
        self.answer_until = Some(answer_until);
        self.expires_at = answer_until.saturating_add(self.ttl);
        self.key_for_request = None;
        self.sealed_request_key = None;
        self.sealed_answer = Some(sealed_answer.to_vec());
        true
    }

    /// Closes it for its requester at `now`, dropping everything sealed:
    /// `Revealed` needs an answer to be there, `Cancelled` a request that is
    /// open or answered. `false` (nothing changed) otherwise.
    pub(super) fn close(&mut self, now: u64, how: Closing) -> bool {
        let may = match how {
            Closing::Revealed => self.has_answer(now),
            Closing::Cancelled => self.is_open(now) || self.has_answer(now),
        };
        if !may {
            return false;
        }
        self.state = match how {
            Closing::Revealed => RequestState::Revealed,
            Closing::Cancelled => RequestState::Cancelled,
        };
        self.updated = now;
        self.drop_sealed();
        true
    }

    /// Whether its time ran out at `now` before it was closed.
    pub fn is_expired(&self, now: u64) -> bool {
        match self.state {
            RequestState::Waiting => now >= self.open_until,
            RequestState::Answered => self.answer_until.is_none_or(|until| now >= until),
            RequestState::Revealed | RequestState::Cancelled => false,
        }
    }

    /// When the reaper next has something to do: the end of what is live
    /// (open, or an answer waiting), then the record's own end.
    pub fn due(&self) -> u64 {
        if self.holds_sealed() {
            match self.state {
                RequestState::Waiting => self.open_until,
                _ => self.answer_until.unwrap_or(self.open_until),
            }
            .min(self.expires_at)
        } else {
            self.expires_at
        }
    }

    /// Whether anything sealed is still in it.
    pub fn holds_sealed(&self) -> bool {
        self.key_for_request.is_some()
            || self.key_for_private.is_some()
            || self.sealed_request_key.is_some()
            || self.sealed_note.is_some()
            || self.sealed_answer.is_some()
    }

    /// Drops everything sealed; `true` if there was anything to drop.
    pub fn drop_sealed(&mut self) -> bool {
        let had = self.holds_sealed();
        self.key_for_request = None;
        self.key_for_private = None;
        self.sealed_request_key = None;
        self.sealed_note = None;
        self.sealed_answer = None;
        had
    }
}

/// An account: only a keyed hash of its API token is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub token_hash: [u8; 32],
    pub created: u64,
    pub updated: u64,
    /// The last record id issued when the account was made: `recent` lists only
    /// records with a later id, so an account given a removed account's name never
    /// sees what the earlier holder made, whatever a crash or a create racing the
    /// removal left in the index.
    pub listed_from: u64,
}

/// A record type the store keeps (its *type*; a record as read is a
/// [`super::Fetched`]), and its stored form (a format byte, then
/// postcard), for what checks the decoder from outside the store: the fuzz
/// targets and their replay.
pub trait Record: Serialize + for<'de> Deserialize<'de> {
    fn to_stored_bytes(&self) -> Result<Vec<u8>, StoreError> {
        encode(self)
    }

    /// Decodes bytes as the store reads them: any input is refused or decoded,
    /// never a panic.
    fn from_stored_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        decode(bytes)
    }
}

impl Record for SecretRecord {}
impl Record for AccountRecord {}
impl Record for RequestRecord {}

pub(super) fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT_V2];
    postcard::to_io(record, &mut out).map_err(|_| StoreError::Corrupt)?;
    Ok(out)
}

pub(super) fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_V2, body)) => postcard::from_bytes(body).map_err(|_| StoreError::Corrupt),
        _ => Err(StoreError::Corrupt),
    }
}
