//! Everything sled: the only module that names a sled type.
//!
//! Trees:
//! - `secrets`:  record id → [`SecretRecord`]
//! - `receipts`: record id → [`ReceiptRecord`]
//! - `expiry`:   `expires_at (u64 BE) ‖ kind ‖ record id` → `()`, so the reaper finds
//!   everything due by scanning a prefix range in time order.
//! - `owners`:   `account name ‖ 0 ‖ listing (u64 BE) ‖ record id` → `()`: an
//!   account's receipts in creation order, for `recent`.
//! - `accounts`: account name → [`AccountRecord`]
//!
//! No sled transactions: sled 0.34 writes out its log buffer for each one (twice),
//! which cost more than the rest of a create or a reveal (`benches/load.sh`).
//! Instead, each write that must happen at most once is a single compare-and-swap
//! (a receipt leaving `new`/`viewed`, see [`Store::reveal_once`]), and multi-record
//! changes are ordered so that whatever a crash leaves half-done is harmless and
//! found again: expiry entries are written first and removed last. Every read
//! checks expiry itself, so an expired record is never served even before the
//! reaper reaches it. Writes are in memory until [`Store::commit`] returns.

mod commit;
mod durable;
mod records;

pub use records::{AccountRecord, ReceiptRecord, SecretRecord, StoredState};

use crate::crypto::RecordId;
use commit::GroupCommit;
use durable::Flusher;
use records::{decode, encode};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database at {path} is in use by another process (is otsd already running?)")]
    Locked { path: PathBuf },
    #[error("cannot open the database at {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
    #[error("a stored record could not be decoded")]
    Corrupt,
    #[error("the database could not be flushed to disk")]
    NotDurable,
}

const KIND_SECRET: u8 = b's';
const KIND_RECEIPT: u8 = b'r';

/// Handle to the database; clones share it.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    secrets: sled::Tree,
    receipts: sled::Tree,
    expiry: sled::Tree,
    owners: sled::Tree,
    accounts: sled::Tree,
    commits: Arc<GroupCommit>,
    /// sled's flush made power-cut safe; the committer shares it.
    flusher: Arc<Flusher>,
    /// Counts the clones of this handle: sled releases the database lock only when
    /// the last one is dropped, and shutdown waits for that.
    handles: Arc<()>,
}

impl Store {
    /// Opens (or creates) the database in `path` with a page cache of about
    /// `cache_bytes`. A locked, unreadable or emptied database is an error naming
    /// the path; sled panics on some corruptions, and that too becomes an error.
    ///
    /// sled treats a damaged log as a torn write and truncates it, so a data file
    /// that was overwritten or emptied would open as an empty database and every
    /// secret and account would be gone without a word. To tell "new" from "lost",
    /// a database is created in a staging directory with a format marker, flushed,
    /// and only then moved into place; a database at `path` without the marker is
    /// refused.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let error = |reason: String| StoreError::Open {
            path: path.to_owned(),
            reason,
        };
        let db = if is_absent_or_empty(path) {
            create(path, cache_bytes).map_err(|e| error(e.to_string()))?;
            reopen_created(path, cache_bytes)?
        } else {
            open_sled(path, cache_bytes)?
        };
        match db.get(FORMAT_KEY)? {
            Some(version) if *version == *FORMAT_VERSION => {}
            Some(_) => {
                return Err(error(
                    "it was written by an incompatible version of otsd".into(),
                ));
            }
            None => {
                return Err(error(
                    "it has lost its contents or is not an otsd database (its format marker \
                     is missing); restore it from a backup, or move it away to start empty"
                        .into(),
                ));
            }
        }
        let flusher = Arc::new(Flusher::new(db.clone(), path).map_err(|e| error(e.to_string()))?);
        let commits = GroupCommit::start(Arc::clone(&flusher)).map_err(|e| error(e.to_string()))?;
        Ok(Self {
            secrets: db.open_tree("secrets")?,
            receipts: db.open_tree("receipts")?,
            expiry: db.open_tree("expiry")?,
            owners: db.open_tree("owners")?,
            accounts: db.open_tree("accounts")?,
            db,
            commits: Arc::new(commits),
            flusher,
            handles: Arc::new(()),
        })
    }

    /// Waits until every write made before this call is on disk (group commit).
    /// Call it before acknowledging a create, reveal or burn.
    pub async fn commit(&self) -> Result<(), StoreError> {
        if self.commits.wait().await {
            Ok(())
        } else {
            Err(StoreError::NotDurable)
        }
    }

    /// Waits (at most `limit`) until this is the last handle to the database, so
    /// that dropping it releases the lock: after a graceful stop the server's
    /// worker threads may still be dropping theirs. `false` if others remain.
    pub fn wait_until_sole_handle(&self, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while Arc::strong_count(&self.handles) > 1 {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        true
    }

    /// Flushes synchronously and stops the committer; for shutdown.
    pub fn close(&self) -> Result<(), StoreError> {
        self.commits.stop();
        self.flusher.flush()?;
        Ok(())
    }

    /// The next number for [`ReceiptRecord::listing`]: increasing, also across
    /// restarts (sled persists its id generator ahead of use).
    pub fn next_listing(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    /// Stores a new secret and its receipt. Durable only after [`Store::commit`].
    ///
    /// The ids are fresh, so nothing can conflict. A crash can only interrupt a
    /// create that was not yet acknowledged: the expiry entries are written
    /// first, so whatever part of it reached the disk is found and removed by the
    /// reaper, and a secret whose receipt did not make it can never be revealed.
    pub fn insert(
        &self,
        secret_id: &RecordId,
        secret: &SecretRecord,
        receipt_id: &RecordId,
        receipt: &ReceiptRecord,
    ) -> Result<(), StoreError> {
        let secret_bytes = encode(secret)?;
        let receipt_bytes = encode(receipt)?;
        self.expiry.insert(
            &expiry_key(secret.expires_at, KIND_SECRET, secret_id)[..],
            &[][..],
        )?;
        self.expiry.insert(
            &expiry_key(receipt.expires_at, KIND_RECEIPT, receipt_id)[..],
            &[][..],
        )?;
        self.secrets.insert(&secret_id[..], secret_bytes)?;
        self.receipts.insert(&receipt_id[..], receipt_bytes)?;
        if let Some(key) = owner_key(receipt, receipt_id) {
            self.owners.insert(key, &[][..])?;
        }
        Ok(())
    }

    /// The secret, unless it does not exist or has expired at `now`.
    pub fn secret(&self, id: &RecordId, now: u64) -> Result<Option<SecretRecord>, StoreError> {
        let Some(bytes) = self.secrets.get(id)? else {
            return Ok(None);
        };
        let record: SecretRecord = decode(&bytes)?;
        Ok((now < record.expires_at).then_some(record))
    }

    /// The receipt, unless it does not exist or has expired at `now`.
    pub fn receipt(&self, id: &RecordId, now: u64) -> Result<Option<ReceiptRecord>, StoreError> {
        let Some(bytes) = self.receipts.get(id)? else {
            return Ok(None);
        };
        let record: ReceiptRecord = decode(&bytes)?;
        Ok((now < record.expires_at).then_some(record))
    }

    /// Consumes `secret`, the record the caller read under `id`: its receipt
    /// becomes `received`. Returns `true` to exactly one caller per secret: every
    /// other (concurrent or later) call, and any call after expiry, gets `false`.
    /// Durable only after [`Store::commit`].
    ///
    /// No sled transaction (each one forces sled to write out its log buffer, which
    /// cost more than the rest of a reveal). The receipt decides instead: moving
    /// it out of `new`/`viewed` is one atomic compare-and-swap, which exactly one
    /// reveal or burn wins, and which fails once the secret has expired or its
    /// receipt is gone. So the secret need not be read again (a secret record
    /// never changes). It is removed after the swap. If a crash falls between
    /// the two, the receipt says `received` and the secret that remains can never
    /// be revealed: the next attempt loses the swap and removes it.
    pub fn reveal_once(
        &self,
        id: &RecordId,
        secret: &SecretRecord,
        now: u64,
    ) -> Result<bool, StoreError> {
        let won = now < secret.expires_at
            && self
                .settle(&secret.receipt_id, now, |receipt| {
                    receipt.state = StoredState::Received;
                    receipt.received = Some(now);
                })?
                .is_some();
        self.secrets.remove(&id[..])?;
        Ok(won)
    }

    /// Destroys an unread secret and marks its receipt burned: decided by the same
    /// swap as [`Store::reveal_once`], so a burn and a reveal never both succeed.
    /// Returns the updated receipt, or `None` when there is nothing to burn (unknown
    /// receipt, or secret already received, burned or expired). Durable only after
    /// `commit`.
    pub fn burn(
        &self,
        receipt_id: &RecordId,
        now: u64,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        let Some(receipt) = self.receipt(receipt_id, now)? else {
            return Ok(None);
        };
        if self.secret(&receipt.secret_id, now)?.is_none() {
            return Ok(None);
        }
        let burned = self.settle(receipt_id, now, |receipt| {
            receipt.state = StoredState::Burned;
        })?;
        if burned.is_some() {
            self.secrets.remove(&receipt.secret_id[..])?;
        }
        Ok(burned)
    }

    /// Moves a live receipt (`new` or `viewed`, not expired at `now`) to its final
    /// state with `finish`, atomically; the receipt as written, or `None` when it
    /// was missing or no longer live (somebody else settled it first).
    fn settle(
        &self,
        receipt_id: &RecordId,
        now: u64,
        finish: impl Fn(&mut ReceiptRecord),
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        self.update_receipt(receipt_id, |receipt| {
            if now < receipt.secret_expires_at
                && matches!(receipt.state, StoredState::New | StoredState::Viewed)
            {
                finish(receipt);
                receipt.updated = now;
                true
            } else {
                false
            }
        })
    }

    /// Removes a secret and its receipt entirely, as if never made: the undo of
    /// `insert` when the create could not be completed (email not sent). The
    /// expiry entries go last, so whatever a crash leaves behind the reaper finds.
    pub fn discard(&self, secret_id: &RecordId, receipt_id: &RecordId) -> Result<(), StoreError> {
        if let Some(bytes) = self.secrets.remove(&secret_id[..])? {
            let secret: SecretRecord = decode(&bytes)?;
            self.expiry
                .remove(expiry_key(secret.expires_at, KIND_SECRET, secret_id))?;
        }
        if let Some(bytes) = self.receipts.get(&receipt_id[..])? {
            let receipt: ReceiptRecord = decode(&bytes)?;
            if let Some(key) = owner_key(&receipt, receipt_id) {
                self.owners.remove(key)?;
            }
            self.receipts.remove(&receipt_id[..])?;
            self.expiry
                .remove(expiry_key(receipt.expires_at, KIND_RECEIPT, receipt_id))?;
        }
        Ok(())
    }

    /// Moves a receipt from `new` to `viewed` (the secret's page was opened). Not
    /// durable on its own: losing it in a crash only loses a hint.
    pub fn mark_viewed(&self, receipt_id: &RecordId, now: u64) -> Result<(), StoreError> {
        self.update_receipt(receipt_id, |receipt| {
            let fresh = receipt.state == StoredState::New && now < receipt.expires_at;
            if fresh {
                receipt.state = StoredState::Viewed;
                receipt.updated = now;
            }
            fresh
        })?;
        Ok(())
    }

    /// Applies `change` to a receipt atomically: a compare-and-swap, retried
    /// when another write got there first. `change` says whether it changed
    /// anything. The receipt as written, or `None` if it is missing or `change`
    /// left it alone (then nothing is written).
    fn update_receipt(
        &self,
        id: &RecordId,
        change: impl Fn(&mut ReceiptRecord) -> bool,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        loop {
            let Some(old) = self.receipts.get(&id[..])? else {
                return Ok(None);
            };
            let mut receipt: ReceiptRecord = decode(&old)?;
            if !change(&mut receipt) {
                return Ok(None);
            }
            let new = encode(&receipt)?;
            if self
                .receipts
                .compare_and_swap(&id[..], Some(&old), Some(new))?
                .is_ok()
            {
                return Ok(Some(receipt));
            }
        }
    }

    /// Removes every secret and receipt that expired at or before `now`, at most
    /// `limit` of them; returns how many index entries were handled.
    pub fn purge_expired(&self, now: u64, limit: usize) -> Result<usize, StoreError> {
        let upper = (now.saturating_add(1)).to_be_bytes();
        let due: Vec<sled::IVec> = self
            .expiry
            .range(..&upper[..])
            .keys()
            .take(limit)
            .collect::<Result<_, _>>()?;
        // The index entry goes last: a crash part-way leaves it, and the next
        // round does the rest.
        for key in &due {
            let (kind, id) = (key[8], &key[9..]);
            if kind == KIND_SECRET {
                self.secrets.remove(id)?;
            } else if let Some(bytes) = self.receipts.get(id)? {
                let receipt: ReceiptRecord = decode(&bytes)?;
                let id: RecordId = id.try_into().map_err(|_| StoreError::Corrupt)?;
                if let Some(key) = owner_key(&receipt, &id) {
                    self.owners.remove(key)?;
                }
                self.receipts.remove(&id[..])?;
            }
            self.expiry.remove(key)?;
        }
        Ok(due.len())
    }

    /// How many secrets and receipts are stored (expired or not): for tests and stats.
    pub fn counts(&self) -> (usize, usize) {
        (self.secrets.len(), self.receipts.len())
    }

    /// The newest receipts of `custid` that have not expired at `now`, newest
    /// first, at most `limit`.
    pub fn recent(
        &self,
        custid: &str,
        limit: usize,
        now: u64,
    ) -> Result<Vec<(RecordId, ReceiptRecord)>, StoreError> {
        let Some(account) = self.account(custid)? else {
            return Ok(Vec::new());
        };
        let prefix = owner_prefix(custid);
        let mut out = Vec::new();
        for key in self.owners.scan_prefix(&prefix).keys().rev() {
            let key = key?;
            let (listing, id) = key[prefix.len()..]
                .split_at_checked(8)
                .ok_or(StoreError::Corrupt)?;
            let listing = u64::from_be_bytes(listing.try_into().map_err(|_| StoreError::Corrupt)?);
            if listing <= account.listed_from {
                break; // made before this account existed: an earlier holder's
            }
            let id: RecordId = id.try_into().map_err(|_| StoreError::Corrupt)?;
            if let Some(receipt) = self.receipt(&id, now)? {
                out.push((id, receipt));
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Creates an account; `false` (and no change) if the name is taken. Durable
    /// when it returns.
    pub fn create_account(&self, name: &str, record: &AccountRecord) -> Result<bool, StoreError> {
        let swapped = self.accounts.compare_and_swap(
            name.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(record)?),
        )?;
        self.flusher.flush()?;
        Ok(swapped.is_ok())
    }

    /// Replaces an existing account's record; `false` if there is no such account.
    /// Durable when it returns.
    pub fn update_account(&self, name: &str, record: &AccountRecord) -> Result<bool, StoreError> {
        let bytes = encode(record)?;
        let mut found = false;
        self.accounts.fetch_and_update(name.as_bytes(), |old| {
            found = old.is_some();
            old.map(|_| bytes.clone())
        })?;
        self.flusher.flush()?;
        Ok(found)
    }

    /// Deletes an account; `false` if there was none. Durable when it returns.
    pub fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        // The name may later be given to someone else: its listing goes (the
        // receipts stay readable by their keys). `listed_from` hides whatever a
        // crash or a racing create leaves behind here.
        let mut unlist = sled::Batch::default();
        for key in self.owners.scan_prefix(owner_prefix(name)).keys() {
            unlist.remove(key?);
        }
        self.owners.apply_batch(unlist)?;
        let removed = self.accounts.remove(name.as_bytes())?.is_some();
        self.flusher.flush()?;
        Ok(removed)
    }

    /// One account's record.
    pub fn account(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.accounts
            .get(name.as_bytes())?
            .map(|b| decode(&b))
            .transpose()
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<(String, AccountRecord)>, StoreError> {
        self.accounts
            .iter()
            .map(|entry| {
                let (name, bytes) = entry?;
                Ok((String::from_utf8_lossy(&name).into_owned(), decode(&bytes)?))
            })
            .collect()
    }
}

/// The default tree's record that marks a complete otsd database, and its value.
const FORMAT_KEY: &[u8] = b"otsd.format";
const FORMAT_VERSION: &[u8] = b"1";

fn is_absent_or_empty(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Creates a marked database at `path` (see [`Store::open`]). A staging directory
/// left by a creation that was interrupted holds nothing and is started over.
fn create(path: &Path, cache_bytes: u64) -> std::io::Result<()> {
    let mut staging = path.as_os_str().to_owned();
    staging.push(".new");
    let staging = PathBuf::from(staging);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    {
        let db = open_sled(&staging, cache_bytes).map_err(std::io::Error::other)?;
        db.insert(FORMAT_KEY, FORMAT_VERSION)
            .map_err(std::io::Error::other)?;
        Flusher::new(db, &staging)?
            .flush()
            .map_err(std::io::Error::other)?;
    }
    // sled does not sync directories: make the staged files' names durable
    // before the rename publishes them.
    std::fs::File::open(&staging)?.sync_all()?;
    if path.exists() {
        std::fs::remove_dir(path)?;
    }
    std::fs::rename(&staging, path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Opens the database `create` just closed. A child process forked by this one in
/// that instant (tests start servers and helpers side by side) holds the lock's
/// file until it execs, so "locked" is retried for a moment here.
fn reopen_created(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let mut tries = 0;
    loop {
        match open_sled(path, cache_bytes) {
            Err(StoreError::Locked { .. }) if tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// sled's open, with a held lock and a panic on corruption turned into errors.
fn open_sled(path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new().path(path).cache_capacity(cache_bytes);
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(sled::Error::Io(err)))
            if err.kind() == std::io::ErrorKind::WouldBlock || err.to_string().contains("lock") =>
        {
            Err(StoreError::Locked {
                path: path.to_owned(),
            })
        }
        Ok(Err(err)) => Err(StoreError::Open {
            path: path.to_owned(),
            reason: err.to_string(),
        }),
        Err(_) => Err(StoreError::Open {
            path: path.to_owned(),
            reason: "the database is corrupt".into(),
        }),
    }
}

fn expiry_key(expires_at: u64, kind: u8, id: &RecordId) -> [u8; 41] {
    let mut key = [0u8; 41];
    key[..8].copy_from_slice(&expires_at.to_be_bytes());
    key[8] = kind;
    key[9..].copy_from_slice(id);
    key
}

/// The owner-index key of an account's receipt; `None` for anonymous receipts
/// (nobody can list those).
fn owner_key(receipt: &ReceiptRecord, id: &RecordId) -> Option<Vec<u8>> {
    receipt.sealed_metadata_key.as_ref()?;
    let mut key = owner_prefix(&receipt.custid);
    key.extend_from_slice(&receipt.listing?.to_be_bytes());
    key.extend_from_slice(id);
    Some(key)
}

/// `name ‖ 0`: the start of every `owners` key of one account.
fn owner_prefix(custid: &str) -> Vec<u8> {
    let mut prefix = custid.as_bytes().to_vec();
    prefix.push(0);
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_000_000;

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), 1 << 20).unwrap();
        (dir, store)
    }

    /// Stores a fresh anonymous secret (ttl 100 s) and its receipt; their ids.
    fn create(store: &Store, n: u8) -> (RecordId, RecordId) {
        let (secret_id, receipt_id) = ([n; 32], [n.wrapping_add(100); 32]);
        let secret = SecretRecord {
            receipt_id,
            sealed_value: vec![7; 40],
            stretch: None,
            share_domain: String::new(),
            expires_at: NOW + 100,
        };
        let receipt = ReceiptRecord {
            custid: "anon".into(),
            secret_id,
            sealed_secret_key: vec![9; 40],
            sealed_metadata_key: None,
            listing: None,
            ttl: 100,
            created: NOW,
            updated: NOW,
            received: None,
            state: StoredState::New,
            secret_expires_at: NOW + 100,
            expires_at: NOW + 200,
            passphrase_required: false,
            recipients: Vec::new(),
            share_domain: String::new(),
        };
        store
            .insert(&secret_id, &secret, &receipt_id, &receipt)
            .unwrap();
        (secret_id, receipt_id)
    }

    /// A reveal as the vault makes it: read the secret, then consume it.
    fn reveal(store: &Store, secret_id: &RecordId, now: u64) -> bool {
        match store.secrets.get(secret_id).unwrap() {
            Some(bytes) => store
                .reveal_once(secret_id, &decode(&bytes).unwrap(), now)
                .unwrap(),
            None => false,
        }
    }

    fn state(store: &Store, receipt_id: &RecordId) -> StoredState {
        store.receipt(receipt_id, NOW).unwrap().unwrap().state
    }

    #[test]
    fn a_reveal_settles_the_receipt_and_removes_the_secret_once() {
        let (_dir, store) = open();
        let (secret_id, receipt_id) = create(&store, 1);
        assert!(reveal(&store, &secret_id, NOW + 1));
        assert!(store.secret(&secret_id, NOW + 1).unwrap().is_none());
        let receipt = store.receipt(&receipt_id, NOW + 1).unwrap().unwrap();
        assert_eq!(receipt.state, StoredState::Received);
        assert_eq!(receipt.received, Some(NOW + 1));
        assert!(!reveal(&store, &secret_id, NOW + 2));
        assert!(store.burn(&receipt_id, NOW + 2).unwrap().is_none());
        assert_eq!(state(&store, &receipt_id), StoredState::Received);
    }

    #[test]
    fn a_burned_secret_cannot_be_revealed() {
        let (_dir, store) = open();
        let (secret_id, receipt_id) = create(&store, 1);
        let burned = store.burn(&receipt_id, NOW + 1).unwrap().unwrap();
        assert_eq!(burned.state, StoredState::Burned);
        assert!(store.secret(&secret_id, NOW + 1).unwrap().is_none());
        assert!(!reveal(&store, &secret_id, NOW + 1));
        assert!(store.burn(&receipt_id, NOW + 1).unwrap().is_none());
    }

    /// What a crash between the receipt's swap and the secret's removal leaves:
    /// a settled receipt and its secret still stored. It is never revealed, and
    /// the attempt clears it away.
    #[test]
    fn a_secret_whose_receipt_is_settled_is_never_revealed_and_is_cleared() {
        let (_dir, store) = open();
        let (secret_id, receipt_id) = create(&store, 1);
        let mut receipt = store.receipt(&receipt_id, NOW).unwrap().unwrap();
        receipt.state = StoredState::Received;
        store
            .receipts
            .insert(&receipt_id[..], encode(&receipt).unwrap())
            .unwrap();
        assert!(store.secret(&secret_id, NOW).unwrap().is_some());
        assert!(!reveal(&store, &secret_id, NOW));
        assert!(store.secret(&secret_id, NOW).unwrap().is_none());
        assert!(store.burn(&receipt_id, NOW).unwrap().is_none());
    }

    /// What a crash in the middle of an unacknowledged create can leave: a secret
    /// without its receipt. Nobody was given its key, and it cannot be revealed.
    #[test]
    fn a_secret_without_its_receipt_is_never_revealed() {
        let (_dir, store) = open();
        let (secret_id, receipt_id) = create(&store, 1);
        store.receipts.remove(&receipt_id[..]).unwrap();
        assert!(!reveal(&store, &secret_id, NOW));
        assert!(store.secret(&secret_id, NOW).unwrap().is_none());
    }

    #[test]
    fn an_expired_secret_is_neither_revealed_nor_burned() {
        let (_dir, store) = open();
        let (secret_id, receipt_id) = create(&store, 1);
        assert!(!reveal(&store, &secret_id, NOW + 100));
        assert!(store.burn(&receipt_id, NOW + 100).unwrap().is_none());
        assert_eq!(state(&store, &receipt_id), StoredState::New);
    }

    #[test]
    fn viewing_moves_only_a_new_receipt_and_a_reveal_still_wins() {
        let (_dir, store) = open();
        let (secret_id, receipt_id) = create(&store, 1);
        store.mark_viewed(&receipt_id, NOW + 1).unwrap();
        assert_eq!(state(&store, &receipt_id), StoredState::Viewed);
        assert!(reveal(&store, &secret_id, NOW + 2));
        store.mark_viewed(&receipt_id, NOW + 3).unwrap();
        assert_eq!(state(&store, &receipt_id), StoredState::Received);
    }

    /// Reveals and burns from many threads at once, over many secrets: each secret
    /// is settled by exactly one of them.
    #[test]
    fn concurrent_reveals_and_burns_have_exactly_one_winner_per_secret() {
        let (_dir, store) = open();
        let ids: Vec<_> = (0..40).map(|n| create(&store, n)).collect();
        let winners = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for thread in 0..8 {
                let (store, ids, winners) = (&store, &ids, &winners);
                scope.spawn(move || {
                    for (secret_id, receipt_id) in ids {
                        let won = if thread % 2 == 0 {
                            reveal(store, secret_id, NOW)
                        } else {
                            store.burn(receipt_id, NOW).unwrap().is_some()
                        };
                        if won {
                            winners.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        assert_eq!(winners.into_inner(), ids.len());
        for (secret_id, receipt_id) in &ids {
            assert!(store.secret(secret_id, NOW).unwrap().is_none());
            assert_ne!(state(&store, receipt_id), StoredState::New);
        }
    }

    #[test]
    fn the_reaper_removes_what_expired_and_a_discard_leaves_nothing() {
        let (_dir, store) = open();
        let (secret_id, receipt_id) = create(&store, 1);
        let (other_secret, other_receipt) = create(&store, 2);
        store.discard(&other_secret, &other_receipt).unwrap();
        assert_eq!(store.counts(), (1, 1));
        assert_eq!(store.purge_expired(NOW + 99, 100).unwrap(), 0);
        assert_eq!(store.purge_expired(NOW + 100, 100).unwrap(), 1);
        assert!(store.secrets.get(secret_id).unwrap().is_none());
        assert_eq!(store.counts(), (0, 1));
        assert_eq!(store.purge_expired(NOW + 200, 100).unwrap(), 1);
        assert!(store.receipts.get(receipt_id).unwrap().is_none());
        assert_eq!(store.counts(), (0, 0));
        assert!(store.expiry.is_empty());
    }
}
