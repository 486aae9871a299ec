//! The embedded engine: sled, one process on one machine, the default. The
//! only module that names a sled type.
//!
//! Trees:
//! - `secrets`:  record id (u64 BE) → [`SecretRecord`]: one record per secret,
//!   holding its sealed value and its receipt together. Ids increase (sled's
//!   `generate_id`), so a create appends at the right edge of the tree, where the
//!   pages are already in memory, and secrets made close in time sit together.
//! - `expiry`:   `due (u64 BE) ‖ record id` → `()`: the reaper finds what is due by
//!   scanning a prefix range in time order. A record has one entry: at its
//!   secret's expiry (the sealed value goes), then at twice the TTL (the record goes).
//! - `owners`:   `account name ‖ 0 ‖ record id` → `()`: an account's records in
//!   creation order, for `recent`.
//! - `accounts`: account name → [`AccountRecord`]
//! - `requests`: record id (u64 BE) → [`RequestRecord`]: requests for a secret.
//!   Their ids come from the same sequence as secrets', so one `expiry` index
//!   serves both.
//!
//! No sled transactions: sled 0.34 writes out its log buffer for each one (twice),
//! which cost more than the rest of a create or a reveal (`benches/load.sh`).
//! Every change of a secret's state (its reveal, its burn, `viewed`, the reaper
//! dropping its value) is one compare-and-swap of its one record, so a reveal and
//! a burn cannot both win and no crash can leave half a settlement. Index entries
//! are written before their record and removed after it, so whatever a crash
//! leaves half-done is found again by the reaper. Every read checks expiry itself,
//! so an expired record is never served even before the reaper reaches it. Writes
//! are in memory until [`SledStore::commit`] returns.

mod accounts;
mod backup;
mod chunked;
mod commit;
mod compact;
mod copy;
mod durable;
mod meta;
mod open;
mod recover;
mod requests;
mod secrets;
mod sessions;

pub(super) use backup::restore;
pub(super) use chunked::Read;
pub use durable::Failure;
pub use open::{DATABASE_FORMAT, is_held, restore_staging};

use super::{
    AccountRecord, Amendment, Closing, Fetched, FetchedRequest, Guess, Options, Record,
    RequestRecord, SecretRecord, Settlement, StoreError, Version, records, tally,
};
use crate::crypto::RecordId;
use commit::GroupCommit;
use durable::Flusher;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The open database: sled's handle, its trees, the flusher of its writes and
/// its id floor. A compaction of the running server replaces it whole (see
/// `compact`).
pub(super) struct Open {
    db: sled::Db,
    secrets: chunked::RecordTree,
    expiry: sled::Tree,
    owners: sled::Tree,
    accounts: sled::Tree,
    requests: chunked::RecordTree,
    /// Wrong passphrase guesses per secret: id (u64) → count (u32).
    guesses: sled::Tree,
    /// Web sessions: a keyed hash of the cookie → the session. Not in
    /// backups, nor kept by a compaction: after either, people sign in again.
    sessions: sled::Tree,
    /// Every account's extid → its name: built from the accounts when the
    /// database opens, kept by every change of an account (accounts are few,
    /// and only this process writes the database).
    extids: RwLock<std::collections::HashMap<String, String>>,
    /// sled's flush made power-cut safe.
    flusher: Flusher,
    /// Added to every id sled issues (see `copy`).
    id_floor: u64,
}

impl Open {
    /// The value of `key` in `part` (the default tree for the key check),
    /// whole.
    fn get(&self, part: copy::Part, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        let plain = match part {
            copy::Part::KeyCheck => &self.db,
            copy::Part::Expiry => &self.expiry,
            copy::Part::Owners => &self.owners,
            copy::Part::Accounts => &self.accounts,
            copy::Part::Secrets | copy::Part::Requests => {
                return Ok(self.records(part).get(key)?.map(|read| read.bytes));
            }
        };
        Ok(plain.get(key)?)
    }

    /// The records of `part`: secrets' or requests' (secrets' for any other).
    fn records(&self, part: copy::Part) -> &chunked::RecordTree {
        match part {
            copy::Part::Requests => &self.requests,
            _ => &self.secrets,
        }
    }

    fn new(db: sled::Db, flusher: Flusher) -> Result<Self, StoreError> {
        let accounts = db.open_tree("accounts")?;
        let extids = RwLock::new(accounts::index_extids(&accounts, &flusher)?);
        Ok(Self {
            extids,
            secrets: chunked::RecordTree::open(&db, "secrets")?,
            expiry: db.open_tree("expiry")?,
            owners: db.open_tree("owners")?,
            accounts: db.open_tree("accounts")?,
            requests: chunked::RecordTree::open(&db, "requests")?,
            guesses: db.open_tree("guesses")?,
            sessions: db.open_tree("sessions")?,
            id_floor: copy::id_floor(&db)?,
            db,
            flusher,
        })
    }
}

/// Where the open database is: shared by every handle and the commit thread.
/// Empty only while a compaction swaps databases (under the write lock, so no
/// reader sees it), or after a swap that could open neither database.
pub(super) type Slot = Arc<RwLock<Option<Arc<Open>>>>;

/// The database in `slot` now.
pub(super) fn current(slot: &Slot) -> Result<Arc<Open>, StoreError> {
    slot.read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .ok_or(StoreError::Closed)
}

/// Handle to the embedded database; clones share it.
#[derive(Clone)]
pub(super) struct SledStore {
    slot: Slot,
    commits: Arc<GroupCommit>,
    /// Set once the database failed (shared by every flusher it has had).
    failure: Arc<Failure>,
    /// Where it is and how it was opened, for a compaction of the running server.
    path: Arc<PathBuf>,
    options: Arc<Options>,
    /// The data directory's size at the last open or compaction check, and what
    /// happened since (see [`SledStore::compact_if_worth_it`]).
    checked_size: Arc<std::sync::Mutex<compact::Checked>>,
    /// The counts `/metrics` shows.
    tally: Arc<tally::Tally>,
    /// The keys writes changed while a compaction copies (see `copy`).
    changes: Arc<copy::Changes>,
    /// Set when a compaction could not put its copy in place (a file system
    /// without `RENAME_EXCHANGE`): no more are tried.
    compaction_off: Arc<std::sync::atomic::AtomicBool>,
    /// Shared by every write, taken alone by a copy (see `copy`).
    gate: Arc<RwLock<()>>,
    /// Counts the clones of this handle: sled releases the database lock only when
    /// the last one is dropped, and shutdown waits for that.
    handles: Arc<()>,
}

impl SledStore {
    /// Opens (or creates) the database in `path` with a page cache of about
    /// `cache_bytes`. A locked, unreadable or emptied database is an error naming
    /// the path; sled panics on some corruptions, and that too becomes an error.
    ///
    /// sled treats a damaged log as a torn write and truncates it, so a data file
    /// that was overwritten or emptied would open as an empty database and every
    /// secret and account would be gone without a word. To tell "new" from "lost",
    /// a database is created in a staging directory with a format marker, flushed,
    /// and only then moved into place; a database at `path` without the marker is
    /// refused, and so is one whose marker names another format.
    ///
    /// A database that opens but has lost commits it acknowledged (see
    /// `durable::Mark`) is refused as [`StoreError::LostCommits`].
    #[cfg(test)]
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        Self::open_with(
            path,
            &Options {
                cache_bytes,
                ..Options::default()
            },
        )
    }

    /// [`SledStore::open`] with every option: a database that lost commits opened
    /// anyway, and a database left mostly empty by churn compacted (see
    /// `compact`).
    pub fn open_with(path: &Path, options: &Options) -> Result<Self, StoreError> {
        let cache_bytes = options.cache_bytes;
        let db = open::open_database(path, cache_bytes)?;
        let error = |e: std::io::Error| StoreError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let failure = Arc::<Failure>::default();
        let (flusher, found) =
            Flusher::new(db.clone(), path, Arc::clone(&failure)).map_err(error)?;
        if let durable::Found::Missing {
            in_database,
            acknowledged,
        } = found
        {
            let lost = StoreError::LostCommits {
                path: path.to_owned(),
                in_database,
                acknowledged,
            };
            if !options.accept_data_loss {
                return Err(lost);
            }
            log::warn!("starting with --accept-data-loss: {lost}");
            flusher.accept_loss().map_err(error)?;
        }
        let (db, flusher) = if compact::worth_it(&db, path, options.compact_above_bytes)? {
            drop(flusher);
            let db = compact::compact(db, path, cache_bytes)?;
            (
                db.clone(),
                Flusher::new(db, path, Arc::clone(&failure))
                    .map_err(error)?
                    .0,
            )
        } else {
            (db, flusher)
        };
        let slot: Slot = Arc::new(RwLock::new(Some(Arc::new(Open::new(db, flusher)?))));
        let tally = Arc::new(tally::Tally::default());
        let commits = GroupCommit::start(Arc::clone(&slot), Arc::clone(&tally)).map_err(error)?;
        let store = Self {
            slot,
            commits: Arc::new(commits),
            failure,
            path: Arc::new(path.to_owned()),
            options: Arc::new(options.clone()),
            checked_size: Arc::new(std::sync::Mutex::new(compact::Checked::at(
                compact::size_of(path).unwrap_or(0),
            ))),
            gate: Arc::default(),
            changes: Arc::default(),
            compaction_off: Arc::default(),
            tally,
            handles: Arc::new(()),
        };
        if options.count_records {
            let (unread, records) = store.counts()?;
            store.tally.start_from(unread, records);
        }
        Ok(store)
    }

    /// The counts `/metrics` shows.
    pub fn tally(&self) -> Arc<tally::Tally> {
        Arc::clone(&self.tally)
    }

    /// The database now (a compaction, or a reopening after a failure, may
    /// replace it between two calls). While it has failed, nothing is read or
    /// written: [`StoreError::Unavailable`] at once, rather than sled's error
    /// after the work that led up to it. So no reveal is shown that could not
    /// be recorded, and no write can reach a database that is about to be
    /// dropped.
    pub(super) fn current(&self) -> Result<Arc<Open>, StoreError> {
        if self.failure.is_set() {
            return Err(StoreError::Unavailable);
        }
        current(&self.slot)
    }

    /// Waits until every write made before this call is on disk (group commit).
    /// Call it before acknowledging a create, reveal or burn.
    pub async fn commit(&self) -> Result<(), StoreError> {
        if self.commits.wait().await {
            Ok(())
        } else if self.failure.is_set() {
            Err(StoreError::Unavailable)
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

    /// Whether the database can write now: `false` from a failure (a flush, or
    /// the reaper's sweep, hit an I/O error: see [`Failure`]) until it is
    /// reopened ([`SledStore::reopen_after_failure`]). Cheap (one atomic load), for
    /// what is polled often.
    pub fn is_available(&self) -> bool {
        !self.failure.is_set()
    }

    /// Whether the database can serve: it has not failed, its commit thread is
    /// alive, and it answers a read. `Err` says which is not so.
    pub fn readiness(&self) -> Result<(), &'static str> {
        if self.failure.is_set() {
            return Err(
                "the database cannot write (a full disk?); otsd reopens it once \
                        the disk has room",
            );
        }
        if !self.commits.is_running() {
            return Err("the commit thread has stopped");
        }
        self.key_check()
            .map(|_| ())
            .map_err(|_| "the database does not answer a read")
    }

    /// Whether the commit thread still serves. It stops at [`SledStore::close`],
    /// when the last handle is dropped, or if it panicked; before a close, so
    /// only by a panic, after which every commit is refused: the server then
    /// stops rather than serve without writes.
    pub fn is_committing(&self) -> bool {
        self.commits.is_running()
    }

    /// Notes an error some operation got: an I/O error means sled has failed.
    pub fn note(&self, err: &StoreError) {
        if matches!(err, StoreError::Sled(sled::Error::Io(_))) {
            self.failure.set();
        }
    }

    /// Flushes synchronously and stops the committer; for shutdown.
    pub fn close(&self) -> Result<(), StoreError> {
        self.commits.stop();
        self.current()?.flusher.flush()?;
        Ok(())
    }

    /// A fresh record id: larger than every id issued before, also across
    /// restarts (sled persists its id generator ahead of use).
    ///
    /// Issued under the write gate: a compaction of the running server sets
    /// the new database's id floor with writes paused, and no id may be issued
    /// by the old database after that.
    pub fn new_id(&self) -> Result<RecordId, StoreError> {
        let _writing = self.writing();
        self.next_free_id().map(RecordId::new)
    }

    fn next_free_id(&self) -> Result<u64, StoreError> {
        let open = self.current()?;
        copy::next_id(&open.db, open.id_floor)
    }
}

/// A fresh database in a temporary directory, for the store's tests.
#[cfg(test)]
pub(super) fn open_temp() -> (tempfile::TempDir, SledStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(&dir.path().join("db"), 1 << 20).unwrap();
    (dir, store)
}
