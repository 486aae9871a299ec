//! The secret lifecycle: create, reveal once, read the receipt, burn.
//!
//! The vault joins `crypto` (sealing) and `store` (sled) so that HTTP handlers stay
//! thin. Each operation that changes state waits for the group commit before it
//! returns: when a handler gets `Ok`, the change is on disk.
//!
//! PBKDF2 (only for secrets with a passphrase) runs on the blocking pool, never on an
//! async worker: it is deliberately slow.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::crypto::{CryptoError, KeyKind, Keyring, RecordId, Stretch, ValueKey};
use crate::domain::{MetadataKey, Passphrase, SecretKey, SecretValue, Ttl};
use crate::store::{ReceiptRecord, SecretRecord, Store, StoreError, StoredState};
use zeroize::Zeroizing;

/// The `custid` of receipts made without an account.
pub const ANONYMOUS: &str = "anon";

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(thiserror::Error)]
pub enum VaultError {
    /// Unknown, consumed, expired — or a wrong passphrase on reveal: deliberately the
    /// same answer. `key` is what the caller sent, echoed back as the spec says.
    #[error("Unknown secret")]
    UnknownSecret { key: String },
    /// A reveal with a missing or wrong passphrase. Answered exactly like
    /// `UnknownSecret`; kept apart only so failed attempts can be rate limited.
    #[error("Unknown secret")]
    WrongPassphrase { key: String },
    #[error("Incorrect passphrase")]
    IncorrectPassphrase,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("a background task failed")]
    Background,
}

impl std::fmt::Debug for VaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The key is a capability: never in a log line.
            Self::UnknownSecret { .. } => f.write_str("UnknownSecret"),
            Self::WrongPassphrase { .. } => f.write_str("WrongPassphrase"),
            other => write!(f, "{other}"),
        }
    }
}

impl VaultError {
    fn unknown(key: &str) -> Self {
        Self::UnknownSecret {
            key: key.to_owned(),
        }
    }
}

/// Everything needed to store a new secret; built by the API from validated params.
#[derive(Debug)]
pub struct NewSecret {
    pub custid: String,
    pub value: SecretValue,
    pub passphrase: Option<Passphrase>,
    pub ttl: Ttl,
    /// Custom share domain, or empty.
    pub share_domain: String,
    /// Already obfuscated addresses.
    pub recipients: Vec<String>,
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
    pub custid: String,
    pub metadata_key: MetadataKey,
    /// `Some` only while the secret is live.
    pub secret_key: Option<SecretKey>,
    pub ttl: u64,
    pub metadata_ttl: u64,
    /// Seconds the secret has left; `Some` only while live.
    pub secret_ttl: Option<u64>,
    pub state: State,
    pub created: u64,
    pub updated: u64,
    pub received: Option<u64>,
    pub recipients: Vec<String>,
    pub share_domain: String,
    pub passphrase_required: bool,
}

/// What a successful reveal hands back. The value is wiped when this is dropped.
#[derive(Debug)]
pub struct Revealed {
    pub value: SecretValue,
    pub secret_key: SecretKey,
    /// Custom share domain of the secret, or empty for the server's own.
    pub share_domain: String,
}

/// The service behind the v1 API and the web pages. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    store: Store,
    keyring: Arc<Keyring>,
}

impl Vault {
    pub fn new(store: Store, keyring: Arc<Keyring>) -> Self {
        Self { store, keyring }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Seals and stores a new secret. Durable when `Ok`: a crash after this returns
    /// does not lose the secret.
    pub async fn create(&self, new: NewSecret) -> Result<Receipt, VaultError> {
        let now = unix_now();
        let (secret_key, metadata_key) = (SecretKey::generate(), MetadataKey::generate());
        let secret_id = self.keyring.record_id(KeyKind::Secret, secret_key.expose());
        let receipt_id = self
            .keyring
            .record_id(KeyKind::Metadata, metadata_key.expose());
        let stretch = new
            .passphrase
            .as_ref()
            .map(|_| self.keyring.new_stretch())
            .transpose()?;
        let value_key = self
            .value_key(&secret_key, new.passphrase.clone(), stretch)
            .await?;
        let sealed_value =
            self.keyring
                .seal_value(&value_key, &secret_id, new.value.expose().as_bytes())?;
        let ttl = new.ttl.seconds();
        let secret = SecretRecord {
            receipt_id,
            sealed_value,
            stretch,
            share_domain: new.share_domain.clone(),
            expires_at: now + ttl,
        };
        let receipt = ReceiptRecord {
            sealed_secret_key: self.keyring.seal_secret_key(
                &metadata_key,
                &receipt_id,
                &secret_key,
            )?,
            sealed_metadata_key: (new.custid != ANONYMOUS)
                .then(|| self.keyring.seal_metadata_key(&receipt_id, &metadata_key))
                .transpose()?,
            listing: (new.custid != ANONYMOUS)
                .then(|| self.store.next_listing())
                .transpose()?,
            custid: new.custid,
            secret_id,
            ttl,
            created: now,
            updated: now,
            received: None,
            state: StoredState::New,
            secret_expires_at: now + ttl,
            expires_at: now + 2 * ttl,
            passphrase_required: stretch.is_some(),
            recipients: new.recipients,
            share_domain: new.share_domain,
        };
        self.store
            .insert(&secret_id, &secret, &receipt_id, &receipt)?;
        self.store.commit().await?;
        // Just made: `new`, and the secret key is at hand (no need to read back).
        Ok(present(
            metadata_key,
            &receipt,
            now,
            State::New,
            Some(secret_key),
        ))
    }

    /// Reveals the secret and destroys it. Exactly one caller ever gets `Ok` for a
    /// given secret, and when it does the destruction is already on disk. A wrong or
    /// missing passphrase is `UnknownSecret` and leaves the secret in place.
    pub async fn reveal(
        &self,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
    ) -> Result<Revealed, VaultError> {
        let now = unix_now();
        let id = self.keyring.record_id(KeyKind::Secret, key.expose());
        let record = self
            .store
            .secret(&id, now)?
            .ok_or_else(|| VaultError::unknown(key.expose()))?;
        let value = self
            .open_value(key, passphrase, &id, &record)
            .await?
            .ok_or_else(|| VaultError::WrongPassphrase {
                key: key.expose().to_owned(),
            })?;
        if !self.store.reveal_once(&id, &record, unix_now())? {
            return Err(VaultError::unknown(key.expose()));
        }
        self.store.commit().await?;
        Ok(Revealed {
            value,
            secret_key: key.clone(),
            share_domain: record.share_domain,
        })
    }

    /// The receipt for a metadata key. Reading it changes nothing.
    pub fn receipt(&self, key: &MetadataKey) -> Result<Receipt, VaultError> {
        let now = unix_now();
        let id = self.keyring.record_id(KeyKind::Metadata, key.expose());
        let record = self
            .store
            .receipt(&id, now)?
            .ok_or_else(|| VaultError::unknown(key.expose()))?;
        Ok(self.describe(key.clone(), &record, now))
    }

    /// Destroys an unread secret through its receipt. A secret with a passphrase needs
    /// it (`IncorrectPassphrase` otherwise). Anything not live is `UnknownSecret`.
    /// Durable when `Ok`. Returns the burned receipt and the secret's short key.
    pub async fn burn(
        &self,
        key: &MetadataKey,
        passphrase: Option<Passphrase>,
    ) -> Result<(Receipt, String), VaultError> {
        let now = unix_now();
        let unknown = || VaultError::unknown(key.expose());
        let id = self.keyring.record_id(KeyKind::Metadata, key.expose());
        let record = self.store.receipt(&id, now)?.ok_or_else(unknown)?;
        let secret_key = self
            .keyring
            .open_secret_key(key, &id, &record.sealed_secret_key)
            .ok_or(StoreError::Corrupt)?;
        if !self.describe(key.clone(), &record, now).state.is_live() {
            return Err(unknown());
        }
        if record.passphrase_required {
            let secret = self
                .store
                .secret(&record.secret_id, now)?
                .ok_or_else(unknown)?;
            let opened = match passphrase {
                Some(p) => {
                    self.open_value(&secret_key, Some(p), &record.secret_id, &secret)
                        .await?
                }
                None => None,
            };
            if opened.is_none() {
                return Err(VaultError::IncorrectPassphrase);
            }
        }
        let burned = self.store.burn(&id, unix_now())?.ok_or_else(unknown)?;
        self.store.commit().await?;
        let short = secret_key.short().to_owned();
        Ok((self.describe(key.clone(), &burned, unix_now()), short))
    }

    /// Removes a just-created secret and its receipt (its delivery failed), durably.
    pub async fn discard(&self, key: &MetadataKey) -> Result<(), VaultError> {
        let receipt_id = self.receipt_id(key);
        if let Some(record) = self.store.receipt(&receipt_id, unix_now())? {
            self.store.discard(&record.secret_id, &receipt_id)?;
            self.store.commit().await?;
        }
        Ok(())
    }

    /// An account's receipts, newest first (at most `limit`), for `recent`.
    pub fn recent(&self, custid: &str, limit: usize) -> Result<Vec<Receipt>, VaultError> {
        let now = unix_now();
        let mut out = Vec::new();
        for (id, record) in self.store.recent(custid, limit, now)? {
            let sealed = record
                .sealed_metadata_key
                .as_deref()
                .ok_or(StoreError::Corrupt)?;
            let key = self
                .keyring
                .open_metadata_key(&id, sealed)
                .ok_or(StoreError::Corrupt)?;
            out.push(self.describe(key, &record, now));
        }
        Ok(out)
    }

    /// Marks a receipt `viewed` because the secret's page was opened in a browser.
    /// Changes nothing for unknown or no-longer-live secrets.
    pub fn mark_viewed(&self, key: &SecretKey) -> Result<(), VaultError> {
        let now = unix_now();
        let id = self.keyring.record_id(KeyKind::Secret, key.expose());
        if let Some(secret) = self.store.secret(&id, now)? {
            self.store.mark_viewed(&secret.receipt_id, now)?;
        }
        Ok(())
    }

    /// Whether a secret exists and is live, and whether it needs a passphrase.
    pub fn peek(&self, key: &SecretKey) -> Result<Option<bool>, VaultError> {
        let id = self.keyring.record_id(KeyKind::Secret, key.expose());
        Ok(self
            .store
            .secret(&id, unix_now())?
            .map(|s| s.stretch.is_some()))
    }

    /// Works out the client-visible receipt: `expired` when the secret's time is up,
    /// `orphaned` when a live-looking receipt has lost its secret.
    fn describe(&self, metadata_key: MetadataKey, record: &ReceiptRecord, now: u64) -> Receipt {
        let mut state = match record.state {
            StoredState::New => State::New,
            StoredState::Viewed => State::Viewed,
            StoredState::Received => State::Received,
            StoredState::Burned => State::Burned,
        };
        if state.is_live() {
            if now >= record.secret_expires_at {
                state = State::Expired;
            } else if !matches!(self.store.secret(&record.secret_id, now), Ok(Some(_))) {
                state = State::Orphaned;
            }
        }
        let secret_key = if state.is_live() {
            self.keyring.open_secret_key(
                &metadata_key,
                &self.receipt_id(&metadata_key),
                &record.sealed_secret_key,
            )
        } else {
            None
        };
        present(metadata_key, record, now, state, secret_key)
    }

    fn receipt_id(&self, key: &MetadataKey) -> RecordId {
        self.keyring.record_id(KeyKind::Metadata, key.expose())
    }

    /// Derives the value key, on the blocking pool when PBKDF2 is involved.
    async fn value_key(
        &self,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
        stretch: Option<Stretch>,
    ) -> Result<ValueKey, VaultError> {
        match (passphrase, stretch) {
            (Some(pass), Some(stretch)) => {
                let (keyring, key) = (Arc::clone(&self.keyring), key.clone());
                tokio::task::spawn_blocking(move || {
                    keyring.value_key(&key, Some((&pass, &stretch)))
                })
                .await
                .map_err(|_| VaultError::Background)
            }
            _ => Ok(self.keyring.value_key(key, None)),
        }
    }

    /// The plaintext, or `None` when the passphrase does not open it.
    async fn open_value(
        &self,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
        id: &RecordId,
        record: &SecretRecord,
    ) -> Result<Option<SecretValue>, VaultError> {
        if record.stretch.is_some() && passphrase.is_none() {
            return Ok(None);
        }
        let value_key = self.value_key(key, passphrase, record.stretch).await?;
        let Some(mut plain) = value_key.open(id, &record.sealed_value) else {
            return Ok(None);
        };
        // Values went in as UTF-8 strings; anything else means the record is damaged.
        // Moving the buffer (not copying it) leaves no unwiped plaintext behind.
        let text = String::from_utf8(std::mem::take(&mut *plain)).map_err(|e| {
            zeroize::Zeroize::zeroize(&mut e.into_bytes());
            StoreError::Corrupt
        })?;
        Ok(Some(SecretValue::from_trusted(Zeroizing::new(text))))
    }
}

/// The client-visible receipt for a record whose state is worked out; the secret
/// key is shown only while the secret is live.
fn present(
    metadata_key: MetadataKey,
    record: &ReceiptRecord,
    now: u64,
    state: State,
    secret_key: Option<SecretKey>,
) -> Receipt {
    Receipt {
        custid: record.custid.clone(),
        secret_ttl: secret_key
            .as_ref()
            .map(|_| record.secret_expires_at.saturating_sub(now)),
        secret_key,
        metadata_key,
        ttl: record.ttl,
        metadata_ttl: record.expires_at.saturating_sub(now),
        state,
        created: record.created,
        updated: record.updated,
        received: record.received.filter(|_| state == State::Received),
        recipients: record.recipients.clone(),
        share_domain: record.share_domain.clone(),
        passphrase_required: record.passphrase_required,
    }
}
