//! The secret lifecycle: create, reveal once, read the receipt, burn; and the
//! request lifecycle (`requests`): ask, answer once, reveal once or cancel.
//!
//! The vault joins `crypto` (sealing) and `store` (sled or PostgreSQL) under
//! the service. Its refusals are the request [`Error`]s they become; a failure
//! of the store or of crypto is logged and answered as `Internal`. Each
//! operation that changes state is durable before it returns (the store's
//! guarantee): when a handler gets `Ok`, the change is on disk.
//!
//! PBKDF2 (only for secrets with a passphrase) runs on the blocking pool, never on an
//! async worker: it is deliberately slow.

use std::sync::Arc;

use crate::clock::unix_now;
use crate::crypto::{KeyKind, Keyring, RecordId, Stretch, ValueKey};
use crate::domain::{ANONYMOUS, Passphrase, ReceiptKey, SecretKey, SecretValue, ShareDomain, Ttl};
use crate::error::Error;
use crate::store::{
    Amendment, Fetched, Guess, SecretRecord, Settlement, Store, StoreError, StoredState,
};
pub use crate::store::{HANDOVER_SECONDS, Kind};

/// Wrong passphrases a secret takes in its whole life, from every address on
/// every node together (counted with the secret in the store); then it takes
/// no more guesses, the right one included. The per-address limit of the rate
/// limiter is per node, and a guesser with many addresses passes it.
pub const GUESSES_PER_SECRET: u32 = 5;
use zeroize::Zeroizing;

mod requests;

pub use requests::{Asked, NewRequest, OpenRequest, PrivateView, RequestStatus};

/// Everything needed to store a new secret; built by the API from validated params.
#[derive(Debug)]
pub struct NewSecret {
    pub owner: String,
    pub value: SecretValue,
    pub passphrase: Option<Passphrase>,
    pub ttl: Ttl,
    pub share_domain: Option<ShareDomain>,
    /// Already obfuscated addresses.
    pub recipients: Vec<String>,
    /// Sent by its creator, or generated (a generated value is also handed to
    /// the receipt's first read, see [`HANDOVER_SECONDS`]).
    pub kind: Kind,
}

/// The lifecycle state as clients see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    New,
    Viewed,
    Received,
    Burned,
    Expired,
    Orphaned,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Viewed => "viewed",
            Self::Received => "received",
            Self::Burned => "burned",
            Self::Expired => "expired",
            Self::Orphaned => "orphaned",
        }
    }

    /// Whether the secret can still be revealed or burned.
    pub fn is_live(self) -> bool {
        matches!(self, Self::New | Self::Viewed)
    }
}

/// A receipt as of one instant, with every derived field worked out.
#[derive(Debug)]
pub struct Receipt {
    pub owner: String,
    pub receipt_key: ReceiptKey,
    /// `Some` only while the secret is live.
    pub secret_key: Option<SecretKey>,
    pub ttl: u64,
    pub receipt_ttl: u64,
    /// Seconds the secret has left; `Some` only while live.
    pub secret_ttl: Option<u64>,
    pub state: State,
    pub created: u64,
    pub updated: u64,
    pub received: Option<u64>,
    pub recipients: Vec<String>,
    pub share_domain: Option<ShareDomain>,
    pub passphrase_required: bool,
    pub kind: Kind,
    /// When the secret was first looked at without being revealed.
    pub previewed: Option<u64>,
    /// The creator's memo, opened.
    pub memo: Option<String>,
    /// A generated value, for the receipt's first read that asks for it
    /// within [`HANDOVER_SECONDS`] (see [`Vault::receipt`]).
    pub handover: Option<SecretValue>,
}

/// A secret as its link's holder may see it, without its value.
#[derive(Debug, Clone)]
pub struct SecretFacts {
    pub secret_key: SecretKey,
    /// Who made it (an account's name, or `anon`): for `is_owner`, never
    /// shown.
    pub owner: String,
    /// Its state after the call that returned this.
    pub state: State,
    /// The creation TTL.
    pub ttl: u64,
    pub passphrase_required: bool,
    pub created: u64,
    pub updated: u64,
    pub previewed: Option<u64>,
    /// Seconds it has left (0 once revealed).
    pub expires_in: u64,
    pub share_domain: Option<ShareDomain>,
}

/// What a successful reveal hands back. The value is wiped when this is dropped.
#[derive(Debug)]
pub struct Revealed {
    pub value: SecretValue,
    pub secret_key: SecretKey,
    pub share_domain: Option<ShareDomain>,
    /// The secret as it is now: revealed.
    pub facts: SecretFacts,
}

/// What a look at a secret through its link does besides reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// A status check: changes nothing.
    Status,
    /// A preview (v2's GET): the first one sets `previewed`.
    Preview,
}

/// The secret lifecycle the service runs on. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    store: Store,
    keyring: Arc<Keyring>,
}

impl Vault {
    pub fn new(store: Store, keyring: Arc<Keyring>) -> Self {
        Self { store, keyring }
    }

    /// The store's counts, for `/metrics`.
    pub fn tally(&self) -> Arc<crate::store::Tally> {
        self.store.tally()
    }

    /// `(live secrets, receipts)`, for `/metrics` (see `Store::live_counts`).
    pub async fn live_counts(&self) -> Option<(u64, u64)> {
        self.store.live_counts().await
    }

    /// `sled` or `postgresql`, for `/metrics`.
    pub fn engine_name(&self) -> &'static str {
        self.store.engine_name()
    }

    /// How full the store's connection pool is (PostgreSQL), for `/metrics`.
    pub fn pool_status(&self) -> Option<crate::store::PoolStatus> {
        self.store.pool_status()
    }

    /// Whether its store can serve (see `Store::readiness`).
    pub async fn readiness(&self) -> Result<(), String> {
        self.store.readiness().await
    }

    /// Whether its store can write now (see `Store::is_available`).
    pub fn can_store(&self) -> bool {
        self.store.is_available()
    }

    /// Seals and stores a new secret. Durable when `Ok`: a crash after this returns
    /// does not lose the secret.
    pub async fn create(&self, new: NewSecret) -> Result<Receipt, Error> {
        let now = unix_now();
        let id = self.store.new_id().await?;
        let keys = self.keyring.issue_keys(id);
        let stretch = new.passphrase.as_ref().map(|_| self.keyring.new_stretch());
        let value_key = self
            .value_key(&keys.secret, new.passphrase.clone(), stretch)
            .await?;
        let sealed_value =
            self.keyring
                .seal_value(&value_key, id, new.value.expose().as_bytes())?;
        let ttl = new.ttl.seconds();
        let record = SecretRecord {
            secret_check: keys.secret_check,
            receipt_check: keys.receipt_check,
            sealed_value: Some(sealed_value),
            stretch,
            sealed_secret_key: Some(self.keyring.seal_secret_key(
                &keys.receipt,
                id,
                &keys.secret,
            )?),
            sealed_receipt_key: (new.owner != ANONYMOUS)
                .then(|| self.keyring.seal_receipt_key(id, &keys.receipt))
                .transpose()?,
            owner: new.owner,
            ttl,
            created: now,
            updated: now,
            received: None,
            state: StoredState::New,
            secret_expires_at: now + ttl,
            expires_at: now + 2 * ttl,
            recipients: new.recipients,
            // The record keeps the encoding it always had: empty is none.
            share_domain: new
                .share_domain
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
            kind: new.kind,
            previewed: None,
            sealed_memo: None,
            handover: (new.kind == Kind::Generate)
                .then(|| {
                    self.keyring
                        .seal_handover(&keys.receipt, id, new.value.expose().as_bytes())
                })
                .transpose()?,
        };
        self.store.insert(id, &record).await?;
        // Just made: `new`, and the secret key is at hand (no need to read back).
        Ok(present(
            keys.receipt,
            &record,
            now,
            State::New,
            Some(keys.secret),
        ))
    }

    /// Reveals the secret and destroys it. Exactly one caller ever gets `Ok` for a
    /// given secret, and when it does the destruction is already on disk. A wrong or
    /// missing passphrase is `WrongPassphraseToReveal` and leaves the secret in place.
    pub async fn reveal(
        &self,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
    ) -> Result<Revealed, Error> {
        let unknown = || Error::unknown(key.expose());
        let read = self
            .find(KeyKind::Secret, key.expose(), unix_now())
            .await?
            .filter(|read| read.record.is_live(unix_now()))
            .ok_or_else(unknown)?;
        let guesses = read.record.passphrase_required() && passphrase.is_some();
        if guesses {
            self.count_guess(&read).await?;
        }
        let Some(value) = self
            .open_value(key, passphrase, read.id, &read.record)
            .await?
        else {
            if !guesses && read.record.passphrase_required() {
                self.count_guess(&read).await?;
            }
            return Err(Error::WrongPassphraseToReveal {
                key: key.expose().to_owned(),
            });
        };
        // The one compare-and-swap that decides: a burn or another reveal that got
        // there first makes this `None`. The value opened above is the one settled
        // (a live record's sealed value never changes).
        let now = unix_now();
        let settled = self
            .store
            .settle(&read, now, Settlement::Received)
            .await?
            .ok_or_else(unknown)?;
        Ok(Revealed {
            value,
            secret_key: key.clone(),
            share_domain: ShareDomain::new(read.record.share_domain),
            facts: facts(key.clone(), &settled, State::Received, now),
        })
    }

    /// The receipt for a receipt key. Reading it changes nothing, unless
    /// `handover` asks for a generated value still waiting for its creator
    /// (within [`HANDOVER_SECONDS`] of the create): the first such read takes
    /// it, durably, and no later read has it.
    pub async fn receipt(&self, key: &ReceiptKey, handover: bool) -> Result<Receipt, Error> {
        let now = unix_now();
        let read = self
            .find(KeyKind::Receipt, key.expose(), now)
            .await?
            .ok_or_else(|| Error::unknown(key.expose()))?;
        let mut receipt = self.describe(key.clone(), read.id, &read.record, now);
        let waiting = read.record.handover.is_some()
            && now < read.record.created.saturating_add(HANDOVER_SECONDS);
        if handover && waiting {
            let opened = read
                .record
                .handover
                .as_deref()
                .and_then(|sealed| self.keyring.open_handover(key, read.id, sealed));
            // Taken before it is shown: of two reads racing for it, one has it.
            let taken = self
                .store
                .amend(&read, now, Amendment::HandoverTaken)
                .await?;
            if let (Some(mut plain), Some(_)) = (opened, taken) {
                receipt.handover = Some(SecretValue::from_trusted(utf8_text(&mut plain)?));
            }
        }
        Ok(receipt)
    }

    /// Sets (or, with `None`, clears) a receipt's memo. Who may is the
    /// service's rule; here the receipt must exist.
    pub async fn set_memo(&self, key: &ReceiptKey, memo: Option<&str>) -> Result<Receipt, Error> {
        let now = unix_now();
        let read = self
            .find(KeyKind::Receipt, key.expose(), now)
            .await?
            .ok_or_else(|| Error::unknown(key.expose()))?;
        let sealed = memo
            .map(|text| self.keyring.seal_memo(read.id, text))
            .transpose()?;
        let record = match self
            .store
            .amend(&read, now, Amendment::Memo(sealed))
            .await?
        {
            Some(amended) => amended,
            // The same memo already: nothing to write.
            None => read.record,
        };
        Ok(self.describe(key.clone(), read.id, &record, now))
    }

    /// A live secret as its link's holder may see it, without consuming it;
    /// `None` when there is no such live secret. A [`Look::Preview`] sets
    /// `previewed` the first time (durably); the state stays.
    pub async fn look(&self, key: &SecretKey, look: Look) -> Result<Option<SecretFacts>, Error> {
        let now = unix_now();
        let Some(read) = self
            .find(KeyKind::Secret, key.expose(), now)
            .await?
            .filter(|read| read.record.is_live(now))
        else {
            return Ok(None);
        };
        let record = match look {
            Look::Preview => self
                .store
                .amend(&read, now, Amendment::Previewed)
                .await?
                .unwrap_or(read.record),
            Look::Status => read.record,
        };
        let state = match record.state {
            StoredState::Viewed => State::Viewed,
            _ => State::New,
        };
        Ok(Some(facts(key.clone(), &record, state, now)))
    }

    /// Destroys an unread secret through its receipt. A secret with a passphrase needs
    /// it (`WrongPassphraseToBurn` otherwise). Anything not live is `UnknownSecret`.
    /// Durable when `Ok`. Returns the burned receipt and the secret's short key.
    pub async fn burn(
        &self,
        key: &ReceiptKey,
        passphrase: Option<Passphrase>,
    ) -> Result<(Receipt, String), Error> {
        let unknown = || Error::unknown(key.expose());
        let read = self
            .find(KeyKind::Receipt, key.expose(), unix_now())
            .await?
            .filter(|read| read.record.is_live(unix_now()))
            .ok_or_else(unknown)?;
        let (id, record) = (read.id, &read.record);
        let secret_key = record
            .sealed_secret_key
            .as_deref()
            .and_then(|sealed| self.keyring.open_secret_key(key, id, sealed))
            .ok_or(StoreError::Corrupt)?;
        if record.passphrase_required() {
            // Counted before it is tried (with or without a passphrase: a
            // burn without one is a failed attempt too).
            self.count_guess(&read).await?;
            let opened = match passphrase {
                Some(p) => self.open_value(&secret_key, Some(p), id, record).await?,
                None => None,
            };
            if opened.is_none() {
                return Err(Error::WrongPassphraseToBurn);
            }
        }
        let burned = self
            .store
            .settle(&read, unix_now(), Settlement::Burned)
            .await?
            .ok_or_else(unknown)?;
        let short = secret_key.short().to_owned();
        Ok((self.describe(key.clone(), id, &burned, unix_now()), short))
    }

    /// Removes a just-created secret and its receipt (its delivery failed), durably.
    pub async fn discard(&self, key: &ReceiptKey) -> Result<(), Error> {
        if let Some(read) = self
            .find(KeyKind::Receipt, key.expose(), unix_now())
            .await?
        {
            self.store.discard(read.id).await?;
        }
        Ok(())
    }

    /// An account's receipts, newest first (at most `limit`), for `recent`.
    pub async fn recent(&self, owner: &str, limit: usize) -> Result<Vec<Receipt>, Error> {
        let now = unix_now();
        let mut out = Vec::new();
        for Fetched { id, record, .. } in self.store.recent(owner, limit, now).await? {
            let sealed = record
                .sealed_receipt_key
                .as_deref()
                .ok_or(StoreError::Corrupt)?;
            let key = self
                .keyring
                .open_receipt_key(id, sealed)
                .ok_or(StoreError::Corrupt)?;
            out.push(self.describe(key, id, &record, now));
        }
        Ok(out)
    }

    /// Marks a receipt `viewed` because the secret's page was opened in a browser.
    /// Changes nothing for unknown or no-longer-live secrets.
    pub async fn mark_viewed(&self, key: &SecretKey) -> Result<(), Error> {
        let now = unix_now();
        if let Some(read) = self.find(KeyKind::Secret, key.expose(), now).await? {
            self.store.mark_viewed(&read, now).await?;
        }
        Ok(())
    }

    /// Whether a secret exists and is live, and whether it needs a passphrase.
    pub async fn peek(&self, key: &SecretKey) -> Result<Option<bool>, Error> {
        let now = unix_now();
        Ok(self
            .find(KeyKind::Secret, key.expose(), now)
            .await?
            .filter(|read| read.record.is_live(now))
            .map(|read| read.record.passphrase_required()))
    }

    /// Counts one passphrase guess against the secret `read` (see
    /// [`GUESSES_PER_SECRET`]); `PassphraseLocked` once it has had them all.
    async fn count_guess(&self, read: &Fetched) -> Result<(), Error> {
        match self.store.guess(read.id, GUESSES_PER_SECRET).await? {
            Guess::Counted => Ok(()),
            Guess::Exhausted => Err(Error::PassphraseLocked {
                retry_after: read.record.secret_expires_at.saturating_sub(unix_now()),
            }),
        }
    }

    /// The record a key of `kind` opens: the key must name a record (see
    /// `crypto::locator`) whose stored check it matches. A mistyped, forged or
    /// other-kind key finds nothing, exactly like an unknown one.
    async fn find(&self, kind: KeyKind, key: &str, now: u64) -> Result<Option<Fetched>, Error> {
        let Some(id) = self.keyring.locate(kind, key) else {
            return Ok(None);
        };
        let Some(read) = self.store.get(id, now).await? else {
            return Ok(None);
        };
        let check = match kind {
            KeyKind::Secret => &read.record.secret_check,
            KeyKind::Receipt => &read.record.receipt_check,
            KeyKind::Request | KeyKind::Private => return Ok(None),
        };
        Ok(self.keyring.verify(kind, key, check).then_some(read))
    }

    /// Works out the client-visible receipt: `expired` when the secret's time is up,
    /// `orphaned` when a live-looking record has lost its value.
    fn describe(
        &self,
        receipt_key: ReceiptKey,
        id: RecordId,
        record: &SecretRecord,
        now: u64,
    ) -> Receipt {
        let mut state = match record.state {
            StoredState::New => State::New,
            StoredState::Viewed => State::Viewed,
            StoredState::Received => State::Received,
            StoredState::Burned => State::Burned,
        };
        if state.is_live() {
            if now >= record.secret_expires_at {
                state = State::Expired;
            } else if record.sealed_value.is_none() {
                state = State::Orphaned;
            }
        }
        let secret_key = if state.is_live() {
            record
                .sealed_secret_key
                .as_deref()
                .and_then(|sealed| self.keyring.open_secret_key(&receipt_key, id, sealed))
        } else {
            None
        };
        let mut receipt = present(receipt_key, record, now, state, secret_key);
        receipt.memo = record
            .sealed_memo
            .as_deref()
            .and_then(|sealed| self.keyring.open_memo(id, sealed));
        receipt
    }

    /// Derives the value key, on the blocking pool when PBKDF2 is involved.
    async fn value_key(
        &self,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
        stretch: Option<Stretch>,
    ) -> Result<ValueKey, Error> {
        match (passphrase, stretch) {
            (Some(pass), Some(stretch)) => {
                let (keyring, key) = (Arc::clone(&self.keyring), key.clone());
                tokio::task::spawn_blocking(move || {
                    keyring.value_key(&key, Some((&pass, &stretch)))
                })
                .await
                .map_err(|e| crate::error::internal(&e))
            }
            _ => Ok(self.keyring.value_key(key, None)),
        }
    }

    /// The plaintext, or `None` when the passphrase does not open it.
    async fn open_value(
        &self,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
        id: RecordId,
        record: &SecretRecord,
    ) -> Result<Option<SecretValue>, Error> {
        let Some(sealed) = record.sealed_value.as_deref() else {
            return Ok(None);
        };
        if record.stretch.is_some() && passphrase.is_none() {
            return Ok(None);
        }
        let value_key = self.value_key(key, passphrase, record.stretch).await?;
        let Some(mut plain) = value_key.open(id, sealed) else {
            return Ok(None);
        };
        Ok(Some(SecretValue::from_trusted(utf8_text(&mut plain)?)))
    }
}

/// Opened bytes as text. Values and notes went in as UTF-8 strings; anything
/// else means the record is damaged. Moving the buffer (not copying it) leaves
/// no unwiped plaintext behind.
fn utf8_text(plain: &mut Zeroizing<Vec<u8>>) -> Result<Zeroizing<String>, Error> {
    let text = String::from_utf8(std::mem::take(&mut **plain)).map_err(|e| {
        zeroize::Zeroize::zeroize(&mut e.into_bytes());
        StoreError::Corrupt
    })?;
    Ok(Zeroizing::new(text))
}

/// What a secret's link holder may see of `record` in `state` at `now`.
fn facts(secret_key: SecretKey, record: &SecretRecord, state: State, now: u64) -> SecretFacts {
    SecretFacts {
        secret_key,
        owner: record.owner.clone(),
        state,
        ttl: record.ttl,
        passphrase_required: record.passphrase_required(),
        created: record.created,
        updated: record.updated,
        previewed: record.previewed,
        expires_in: if state.is_live() {
            record.secret_expires_at.saturating_sub(now)
        } else {
            0
        },
        share_domain: ShareDomain::new(record.share_domain.clone()),
    }
}

/// The client-visible receipt for a record whose state is worked out; the secret
/// key is shown only while the secret is live.
fn present(
    receipt_key: ReceiptKey,
    record: &SecretRecord,
    now: u64,
    state: State,
    secret_key: Option<SecretKey>,
) -> Receipt {
    Receipt {
        owner: record.owner.clone(),
        secret_ttl: secret_key
            .as_ref()
            .map(|_| record.secret_expires_at.saturating_sub(now)),
        secret_key,
        receipt_key,
        ttl: record.ttl,
        receipt_ttl: record.expires_at.saturating_sub(now),
        state,
        created: record.created,
        updated: record.updated,
        received: record.received.filter(|_| state == State::Received),
        recipients: record.recipients.clone(),
        share_domain: ShareDomain::new(record.share_domain.clone()),
        passphrase_required: record.passphrase_required(),
        kind: record.kind,
        previewed: record.previewed,
        memo: None,
        handover: None,
    }
}
