//! The record types and their on-disk encoding (a version byte, then postcard).
//!
//! No record holds a key, a value, a passphrase or an address in the clear:
//! values and keys are sealed by `crypto` before they get here.

use crate::crypto::{Check, Stretch};
use serde::{Deserialize, Serialize};

use super::StoreError;

/// The format every record is written in.
const FORMAT: u8 = 3;
/// The format before API v2: secrets without `kind`, `previewed`, a memo or a
/// handover, accounts without an `extid`. Still read (see [`Record::from_format_2`]).
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
    /// How the value came to be: sent by its creator, or generated (v2's `kind`).
    pub kind: Kind,
    /// When the secret was first looked at without being revealed (its page
    /// opened, or a v2 preview), while it was live.
    pub previewed: Option<u64>,
    /// The creator's memo (v2), sealed under the server's key: it says what the
    /// secret is for, which is nobody's business who reads the database.
    pub sealed_memo: Option<Vec<u8>>,
    /// A generated value sealed under a key derived from the receipt key, for
    /// the receipt's first v2 read within [`HANDOVER_SECONDS`] of its creation
    /// (the reference's way of handing a generated password to its creator).
    /// Gone once read, and with the sealed value.
    pub handover: Option<Vec<u8>>,
}

/// How long after a generate the receipt's first read still carries the value.
pub const HANDOVER_SECONDS: u64 = 60;

/// How a secret's value came to be (v2's `kind`; v1's share is `Conceal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    Conceal,
    Generate,
}

/// A change to a secret's record that is not a change of its state: each is
/// one conditional write, like a state change, and durable when `Ok`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amendment {
    /// A v2 preview: `previewed` is set at the first one, the state stays.
    Previewed,
    /// The memo set (sealed) or cleared by the owner.
    Memo(Option<Vec<u8>>),
    /// The handover was read: it goes.
    HandoverTaken,
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
            self.previewed.get_or_insert(now);
        }
        fresh
    }

    /// Applies `amendment` at `now`; `false` (nothing changed) when there is
    /// nothing to change: a preview of a secret previewed before or no longer
    /// live, the memo it already has, no handover left.
    pub(super) fn amend(&mut self, now: u64, amendment: &Amendment) -> bool {
        match amendment {
            Amendment::Previewed => {
                let first = self.previewed.is_none() && self.is_live(now);
                if first {
                    self.previewed = Some(now);
                }
                first
            }
            Amendment::Memo(sealed) => {
                let differs = self.sealed_memo != *sealed;
                if differs {
                    self.sealed_memo = sealed.clone();
                    self.updated = now;
                }
                differs
            }
            Amendment::HandoverTaken => self.handover.take().is_some(),
        }
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
        let had = self.sealed_value.is_some()
            || self.sealed_secret_key.is_some()
            || self.handover.is_some();
        self.sealed_value = None;
        self.sealed_secret_key = None;
        self.handover = None;
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
    /// The private key sealed under the server's key, so the account that
    /// asked can find its requests again; `None` for anonymous requests, which
    /// nobody can list.
    pub sealed_private_key: Option<Vec<u8>>,
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
    /// The account's "customer extid" (`ur` and lower-case letters and digits,
    /// random): the name the official client can send, which refuses any
    /// other shape. Empty only in a record of format 2, until the store gives
    /// it one when it opens.
    pub extid: String,
    /// The web password's Argon2id hash (a PHC string), when one is set.
    pub password_hash: Option<String>,
    /// Changes (to a fresh random number) whenever every web session of the
    /// account must end: its password or token changed. A session records the
    /// value it began under.
    pub sessions: u64,
    /// The single sign-on identity (`issuer` and `sub`) the account was made
    /// for or bound to, when it signs in that way.
    pub oidc_subject: Option<String>,
}

/// A web session: who signed in, under which of the account's sessions
/// generations, and until when. Stored under a keyed hash of its cookie's
/// value (the value itself is never stored), shared by every node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub account: String,
    /// The account's [`AccountRecord::sessions`] when it began: a session of
    /// another generation has ended.
    pub generation: u64,
    pub created: u64,
    /// Unix seconds; the absolute end, however active the session.
    pub expires_at: u64,
    /// Unix seconds; the end if nothing happens before (moved on as the
    /// session is used).
    pub idle_until: u64,
}

impl SessionRecord {
    /// When it ends if nothing changes: the earlier of its two ends.
    pub fn ends_at(&self) -> u64 {
        self.expires_at.min(self.idle_until)
    }
}

/// The characters of an extid after its `ur`.
const EXTID_ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// Random characters after `ur`: about 93 bits, so two accounts never share one.
const EXTID_RANDOM: usize = 18;

/// A fresh extid for an account (see [`AccountRecord::extid`]), from the CSPRNG.
pub fn new_extid() -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    let mut extid = String::from("ur");
    extid.extend(
        (0..EXTID_RANDOM)
            .map(|_| EXTID_ALPHABET[rng.random_range(0..EXTID_ALPHABET.len())] as char),
    );
    extid
}

/// Whether `name` has the shape of an extid (`^ur[a-z0-9]+$`, in any case,
/// as the official client checks it).
pub fn looks_like_extid(name: &str) -> bool {
    name.len() > 2
        && name[..2].eq_ignore_ascii_case("ur")
        && name.bytes().skip(2).all(|b| b.is_ascii_alphanumeric())
}

/// A record type the store keeps (its *type*; a record as read is a
/// [`super::Fetched`]), and its stored form (a format byte, then
/// postcard), for what checks the decoder from outside the store: the fuzz
/// targets and their replay.
pub trait Record: Serialize + for<'de> Deserialize<'de> {
    /// Decodes the body of a record of format 2. Types whose shape did not
    /// change since read it as it is.
    fn from_format_2(body: &[u8]) -> Result<Self, StoreError> {
        postcard::from_bytes(body).map_err(|_| StoreError::Corrupt)
    }

    fn to_stored_bytes(&self) -> Result<Vec<u8>, StoreError> {
        encode(self)
    }

    /// Decodes bytes as the store reads them: any input is refused or decoded,
    /// never a panic.
    fn from_stored_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        decode(bytes)
    }
}

impl Record for SecretRecord {
    fn from_format_2(body: &[u8]) -> Result<Self, StoreError> {
        let old: SecretRecordV2 = postcard::from_bytes(body).map_err(|_| StoreError::Corrupt)?;
        Ok(Self {
            // A page opened before the upgrade set `viewed`, and `updated` with it.
            previewed: (old.state == StoredState::Viewed).then_some(old.updated),
            secret_check: old.secret_check,
            receipt_check: old.receipt_check,
            owner: old.owner,
            sealed_value: old.sealed_value,
            stretch: old.stretch,
            sealed_secret_key: old.sealed_secret_key,
            sealed_receipt_key: old.sealed_receipt_key,
            ttl: old.ttl,
            created: old.created,
            updated: old.updated,
            received: old.received,
            state: old.state,
            secret_expires_at: old.secret_expires_at,
            expires_at: old.expires_at,
            recipients: old.recipients,
            share_domain: old.share_domain,
            kind: Kind::Conceal,
            sealed_memo: None,
            handover: None,
        })
    }
}

impl Record for AccountRecord {
    fn from_format_2(body: &[u8]) -> Result<Self, StoreError> {
        let old: AccountRecordV2 = postcard::from_bytes(body).map_err(|_| StoreError::Corrupt)?;
        Ok(Self {
            token_hash: old.token_hash,
            created: old.created,
            updated: old.updated,
            listed_from: old.listed_from,
            extid: String::new(),
            password_hash: None,
            sessions: 0,
            oidc_subject: None,
        })
    }
}

impl Record for SessionRecord {}

impl Record for RequestRecord {
    fn from_format_2(body: &[u8]) -> Result<Self, StoreError> {
        let old: RequestRecordV2 = postcard::from_bytes(body).map_err(|_| StoreError::Corrupt)?;
        Ok(Self {
            request_check: old.request_check,
            private_check: old.private_check,
            owner: old.owner,
            ttl: old.ttl,
            created: old.created,
            updated: old.updated,
            answered: old.answered,
            state: old.state,
            open_until: old.open_until,
            answer_until: old.answer_until,
            expires_at: old.expires_at,
            key_for_request: old.key_for_request,
            key_for_private: old.key_for_private,
            sealed_request_key: old.sealed_request_key,
            sealed_note: old.sealed_note,
            sealed_answer: old.sealed_answer,
            sealed_private_key: None,
        })
    }
}

/// [`RequestRecord`] as format 2 wrote it.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct RequestRecordV2 {
    request_check: Check,
    private_check: Check,
    owner: String,
    ttl: u64,
    created: u64,
    updated: u64,
    answered: Option<u64>,
    state: RequestState,
    open_until: u64,
    answer_until: Option<u64>,
    expires_at: u64,
    key_for_request: Option<Vec<u8>>,
    key_for_private: Option<Vec<u8>>,
    sealed_request_key: Option<Vec<u8>>,
    sealed_note: Option<Vec<u8>>,
    sealed_answer: Option<Vec<u8>>,
}

/// [`SecretRecord`] as format 2 wrote it (postcard is not self-describing:
/// the old shape is needed to read the old bytes).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct SecretRecordV2 {
    secret_check: Check,
    receipt_check: Check,
    owner: String,
    sealed_value: Option<Vec<u8>>,
    stretch: Option<Stretch>,
    sealed_secret_key: Option<Vec<u8>>,
    sealed_receipt_key: Option<Vec<u8>>,
    ttl: u64,
    created: u64,
    updated: u64,
    received: Option<u64>,
    state: StoredState,
    secret_expires_at: u64,
    expires_at: u64,
    recipients: Vec<String>,
    share_domain: String,
}

/// [`AccountRecord`] as format 2 wrote it.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct AccountRecordV2 {
    token_hash: [u8; 32],
    created: u64,
    updated: u64,
    listed_from: u64,
}

pub(super) fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT];
    postcard::to_io(record, &mut out).map_err(|_| StoreError::Corrupt)?;
    Ok(out)
}

pub(super) fn decode<T: Record>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT, body)) => postcard::from_bytes(body).map_err(|_| StoreError::Corrupt),
        Some((&FORMAT_V2, body)) => T::from_format_2(body),
        _ => Err(StoreError::Corrupt),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_2<T: Serialize>(old: &T) -> Vec<u8> {
        let mut bytes = vec![FORMAT_V2];
        postcard::to_io(old, &mut bytes).unwrap();
        bytes
    }

    #[test]
    fn records_of_format_2_are_read_with_the_new_fields_worked_out() {
        let old = SecretRecordV2 {
            secret_check: [1; 16],
            receipt_check: [2; 16],
            owner: "alice".into(),
            sealed_value: Some(vec![3; 30]),
            stretch: None,
            sealed_secret_key: Some(vec![4; 40]),
            sealed_receipt_key: None,
            ttl: 600,
            created: 1_000,
            updated: 1_200,
            received: None,
            state: StoredState::Viewed,
            secret_expires_at: 1_600,
            expires_at: 2_200,
            recipients: vec!["a***@b***.c".into()],
            share_domain: String::new(),
        };
        let read = SecretRecord::from_stored_bytes(&format_2(&old)).unwrap();
        assert_eq!(read.kind, Kind::Conceal);
        assert_eq!(
            read.previewed,
            Some(1_200),
            "viewed before: at its last update"
        );
        assert_eq!((read.sealed_memo, read.handover), (None, None));
        assert_eq!((read.owner.as_str(), read.ttl), ("alice", 600));
        let fresh = SecretRecordV2 {
            state: StoredState::New,
            ..old
        };
        let read = SecretRecord::from_stored_bytes(&format_2(&fresh)).unwrap();
        assert_eq!(read.previewed, None);
        // Written again, it is format 3 and reads back the same.
        let again = read.to_stored_bytes().unwrap();
        assert_eq!(again[0], FORMAT);
        assert_eq!(SecretRecord::from_stored_bytes(&again).unwrap(), read);

        let account = AccountRecordV2 {
            token_hash: [5; 32],
            created: 1,
            updated: 2,
            listed_from: 3,
        };
        let read = AccountRecord::from_stored_bytes(&format_2(&account)).unwrap();
        assert_eq!((read.listed_from, read.extid.as_str()), (3, ""));
        assert_eq!((read.password_hash, read.oidc_subject), (None, None));

        let request = RequestRecordV2 {
            request_check: [1; 16],
            private_check: [2; 16],
            owner: "bob".into(),
            ttl: 60,
            created: 1,
            updated: 1,
            answered: None,
            state: RequestState::Waiting,
            open_until: 61,
            answer_until: None,
            expires_at: 121,
            key_for_request: Some(vec![1]),
            key_for_private: Some(vec![2]),
            sealed_request_key: Some(vec![3]),
            sealed_note: None,
            sealed_answer: None,
        };
        let read = RequestRecord::from_stored_bytes(&format_2(&request)).unwrap();
        assert_eq!(
            (read.owner.as_str(), read.sealed_private_key),
            ("bob", None)
        );
        assert!(SecretRecord::from_stored_bytes(&[9, 1, 2]).is_err());
    }

    #[test]
    fn extids_have_the_shape_the_official_client_checks_and_differ() {
        let (a, b) = (new_extid(), new_extid());
        assert_ne!(a, b);
        for extid in [&a, &b] {
            assert!(looks_like_extid(extid), "{extid}");
            assert_eq!(extid.len(), 20);
            assert!(
                extid
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            );
        }
        assert!(looks_like_extid("URabc123"));
        assert!(!looks_like_extid("ur"));
        assert!(!looks_like_extid("alice"));
        assert!(!looks_like_extid("ur-abc"));
    }

    #[test]
    fn amendments_change_only_what_they_name_and_a_preview_only_once() {
        let mut record = SecretRecord::from_stored_bytes(&format_2(&SecretRecordV2 {
            secret_check: [1; 16],
            receipt_check: [2; 16],
            owner: "anon".into(),
            sealed_value: Some(vec![3; 30]),
            stretch: None,
            sealed_secret_key: Some(vec![4; 40]),
            sealed_receipt_key: None,
            ttl: 600,
            created: 1_000,
            updated: 1_000,
            received: None,
            state: StoredState::New,
            secret_expires_at: 1_600,
            expires_at: 2_200,
            recipients: vec![],
            share_domain: String::new(),
        }))
        .unwrap();
        assert!(record.amend(1_100, &Amendment::Previewed));
        assert!(!record.amend(1_150, &Amendment::Previewed));
        assert_eq!(
            (record.previewed, record.state),
            (Some(1_100), StoredState::New)
        );
        assert!(record.amend(1_200, &Amendment::Memo(Some(vec![7; 20]))));
        assert!(!record.amend(1_300, &Amendment::Memo(Some(vec![7; 20]))));
        assert_eq!(record.updated, 1_200);
        assert!(!record.amend(1_300, &Amendment::HandoverTaken));
        record.handover = Some(vec![8; 10]);
        assert!(record.settle(1_400, Settlement::Received));
        assert_eq!(record.handover, None, "a reveal takes the handover too");
        assert!(
            !record.amend(1_500, &Amendment::Previewed),
            "not live: no preview"
        );
    }
}
