//! The storage seam: one small typed API ([`Store`]) over two engines.
//!
//! - `embedded`: sled in the data directory, one process on one machine, the
//!   default (nothing to set up). Group commit, commit marks, chunked records,
//!   compaction and snapshot cleanup are its own and stay there.
//! - `postgres`: PostgreSQL, for several nodes sharing one database (chosen by
//!   `database_url`). Migrations, the connection pool and its runtime are its
//!   own and stay there.
//!
//! Nothing outside this module names a sled or PostgreSQL type. Both engines
//! keep the same sealed records (`records`): nothing in either is readable
//! without the master key and a link's key. Both give the same guarantees,
//! which is what the vault is written against:
//! - **durable when acknowledged**: a create, reveal, burn, answer, cancel or
//!   discard has reached the disk (sled's flush; PostgreSQL's `COMMIT`) when
//!   its method returns `Ok`;
//! - **exactly once**: every change of a record's state is one conditional
//!   write from the record as it was read ([`Fetched`]): sled's
//!   compare-and-swap, PostgreSQL's `UPDATE … WHERE version = $read AND state
//!   …`. Of any number of concurrent reveals and burns of one secret, on any
//!   number of nodes, one wins;
//! - **never served expired**: every read checks expiry itself, whether or not
//!   the reaper has run.
//!
//! Every data method is `async`; the threads that are not (the reaper, the
//! admin socket, the command line) run one with [`block_on`].

mod backup;
mod embedded;
mod postgres;
mod records;
mod tally;

pub use backup::{BACKUP_FORMAT, BackupError, BackupSummary, verify as verify_backup};
pub use embedded::{DATABASE_FORMAT, Failure, is_held, restore_staging};
pub use postgres::{
    PostgresOptions, SCHEMA_VERSION, check_url as check_database_url, redact as redact_database_url,
};
pub use records::{
    AccountRecord, Amendment, Closing, HANDOVER_SECONDS, Kind, Record, RequestRecord, RequestState,
    SecretRecord, SessionRecord, Settlement, StoredState, looks_like_extid, new_extid,
};
pub use tally::Tally;

use crate::crypto::RecordId;
use std::future::Future;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database at {path} is in use by another process (is otsd already running?)")]
    Locked { path: std::path::PathBuf },
    #[error("cannot open the database at {path}: {reason}")]
    Open {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("database error: {0}")]
    Sled(#[from] sled::Error),
    #[error(
        "the database at {path} has lost acknowledged changes: sled has its commits up \
         to number {in_database}, but number {acknowledged} was acknowledged (damage \
         sled recovered from by dropping the last {missing} commits, and with them \
         the secrets created, revealed or burned in them); restore the data directory \
         from a backup, or start once with --accept-data-loss to go on without them",
        missing = acknowledged - in_database
    )]
    LostCommits {
        path: std::path::PathBuf,
        in_database: u64,
        acknowledged: u64,
    },
    #[error("a stored record could not be decoded")]
    Corrupt,
    #[error("the database could not be flushed to disk")]
    NotDurable,
    #[error("the database is closed (a compaction could not reopen it)")]
    Closed,
    /// The database cannot write (sled: its disk is full, or failing, until it
    /// is reopened, see [`Failure`]; PostgreSQL: no server answers). Passing:
    /// the caller should try again later.
    #[error("the database cannot write (a full disk?) until it is reopened")]
    Unavailable,
    /// PostgreSQL is unreachable or refused the work; the reason names no
    /// password (see `postgres::describe`).
    #[error("the PostgreSQL database is unavailable: {0}")]
    Postgres(String),
    /// PostgreSQL's schema cannot be used by this otsd.
    #[error("{0}")]
    Schema(String),
}

impl StoreError {
    /// Whether this is the database being away (a full disk, PostgreSQL
    /// unreachable), which passes (the caller should try again later), rather
    /// than a fault of the database.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Unavailable | Self::Postgres(_) | Self::Sled(sled::Error::Io(_))
        )
    }
}

/// How to open the embedded database.
#[derive(Debug, Clone)]
pub struct Options {
    /// sled's page cache, about.
    pub cache_bytes: u64,
    /// Open a database that lost acknowledged commits, logging the loss.
    pub accept_data_loss: bool,
    /// Compact a data directory of at least this many bytes that is mostly
    /// empty; `u64::MAX` never does.
    pub compact_above_bytes: u64,
    /// Count the records when opening, for the gauges of `/metrics` (see
    /// [`Tally`]).
    pub count_records: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cache_bytes: 4 << 20,
            accept_data_loss: false,
            compact_above_bytes: 64 << 20,
            count_records: false,
        }
    }
}

/// A record (a secret's, or a request's) as fetched, with the version it was
/// read at: a change that follows the read ([`Store::settle`],
/// [`Store::mark_viewed`], [`Store::answer_request`]) is made only from that
/// version, so of two changes decided from one read, one wins.
#[derive(Debug, Clone)]
pub struct Fetched<R = SecretRecord> {
    pub id: RecordId,
    pub record: R,
    pub(crate) version: Version,
}

/// A request as read.
pub type FetchedRequest = Fetched<RequestRecord>;

/// What a record was read at, engine by engine.
#[derive(Debug, Clone)]
pub(crate) enum Version {
    /// sled: the bytes read (a compare-and-swap swaps from them).
    Sled(embedded::Read),
    /// PostgreSQL: the row's version column.
    Postgres(i64),
}

impl Version {
    /// The bytes sled read, to swap from (`None`: read afresh).
    fn sled(&self) -> Option<embedded::Read> {
        match self {
            Self::Sled(read) => Some(read.clone()),
            Self::Postgres(_) => None,
        }
    }
}

/// What a passphrase guess may do (see [`Store::guess`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guess {
    /// Counted; go on and try it.
    Counted,
    /// The secret has had its allowance of wrong guesses.
    Exhausted,
}

/// How full the connection pool is, for `/metrics` (PostgreSQL only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub max: usize,
    pub open: usize,
    pub idle: usize,
    pub waiting: usize,
}

/// Handle to the database; clones share it.
#[derive(Clone)]
pub struct Store {
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    Sled(embedded::SledStore),
    Postgres(postgres::PgStore),
}

/// Runs `$body` with `$e` bound to whichever engine this is.
macro_rules! each {
    ($self:expr, $e:ident => $body:expr) => {
        match &$self.engine {
            Engine::Sled($e) => $body,
            Engine::Postgres($e) => $body,
        }
    };
}

impl Store {
    /// Opens (or creates) the embedded database in `path` with a page cache of
    /// about `cache_bytes` (see [`Store::open_with`]).
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        Self::open_with(
            path,
            &Options {
                cache_bytes,
                ..Options::default()
            },
        )
    }

    /// Opens (or creates) the embedded database in `path`. A locked,
    /// unreadable or emptied database is an error naming the path; one that
    /// lost commits it acknowledged is [`StoreError::LostCommits`] unless
    /// `accept_data_loss`.
    pub fn open_with(path: &Path, options: &Options) -> Result<Self, StoreError> {
        Ok(Self {
            engine: Engine::Sled(embedded::SledStore::open_with(path, options)?),
        })
    }

    /// Connects to PostgreSQL and brings its schema up to date (see
    /// `postgres::migrate`). Waits (bounded) for a server that is not up yet.
    pub fn open_postgres(options: &PostgresOptions) -> Result<Self, StoreError> {
        Ok(Self {
            engine: Engine::Postgres(postgres::PgStore::open(options)?),
        })
    }

    /// Which engine this is, for logs and `/metrics`: `sled` or `postgresql`.
    pub fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Sled(_) => "sled",
            Engine::Postgres(_) => "postgresql",
        }
    }

    // ---- secrets ----

    /// A fresh record id, larger than every id issued before (on any node).
    pub async fn new_id(&self) -> Result<RecordId, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.new_id(),
            Engine::Postgres(p) => p.new_id().await,
        }
    }

    /// Stores a new secret under `id` (from [`Store::new_id`]). Durable when
    /// `Ok`.
    pub async fn insert(&self, id: RecordId, record: &SecretRecord) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                s.insert(id, record)?;
                s.commit().await
            }
            Engine::Postgres(p) => p.insert(id, record).await,
        }
    }

    /// The record stored under `id`, unless there is none or it has expired at
    /// `now` (twice its secret's TTL). Whether the secret itself is still live
    /// is [`SecretRecord::is_live`].
    pub async fn get(&self, id: RecordId, now: u64) -> Result<Option<Fetched>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.get(id, now),
            Engine::Postgres(p) => p.get(id, now).await,
        }
    }

    /// Settles a live secret (its reveal or its burn) from the record as
    /// `read`: the state changes and the sealed value and secret key go, in
    /// one conditional write. Exactly one caller per secret gets the record as
    /// written; every other (concurrent or later, on any node) gets `None`, and
    /// so does any call once the secret expired at `now`. Durable when `Ok`.
    pub async fn settle(
        &self,
        read: &Fetched,
        now: u64,
        how: Settlement,
    ) -> Result<Option<SecretRecord>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                let settled = s.settle(read, now, how)?;
                s.commit().await?;
                Ok(settled)
            }
            Engine::Postgres(p) => p.settle(read, now, how).await,
        }
    }

    /// Moves a secret from `new` to `viewed` (its page was opened). Not made
    /// durable on its own: losing it in a crash only loses a hint.
    pub async fn mark_viewed(&self, read: &Fetched, now: u64) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.mark_viewed(read, now),
            Engine::Postgres(p) => p.mark_viewed(read, now).await,
        }
    }

    /// Changes what is not a secret's state (see [`Amendment`]) from the
    /// record as `read`, in one conditional write: `None` when there was
    /// nothing to change, or the record is gone. Durable when `Ok`.
    pub async fn amend(
        &self,
        read: &Fetched,
        now: u64,
        amendment: Amendment,
    ) -> Result<Option<SecretRecord>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                let amended = s.amend(read, now, &amendment)?;
                if amended.is_some() {
                    s.commit().await?;
                }
                Ok(amended)
            }
            Engine::Postgres(p) => p.amend(read, now, amendment).await,
        }
    }

    /// Counts one passphrase guess against the secret under `id`, unless it
    /// has had `limit` already: counted before the guess is tried, so that
    /// concurrent guesses (on any number of nodes) cannot all pass the limit.
    /// A right guess settles the secret, so nothing is ever given back.
    pub async fn guess(&self, id: RecordId, limit: u32) -> Result<Guess, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.guess(id, limit),
            Engine::Postgres(p) => p.guess(id, limit).await,
        }
    }

    /// Removes a secret entirely, as if never made (the undo of a create whose
    /// email could not be sent). Durable when `Ok`.
    pub async fn discard(&self, id: RecordId) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                s.discard(id)?;
                s.commit().await
            }
            Engine::Postgres(p) => p.discard(id).await,
        }
    }

    /// The newest records of `owner` that have not expired at `now`, newest
    /// first, at most `limit`; only those made since the account was (see
    /// [`AccountRecord::listed_from`]).
    pub async fn recent(
        &self,
        owner: &str,
        limit: usize,
        now: u64,
    ) -> Result<Vec<Fetched>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.recent(owner, limit, now),
            Engine::Postgres(p) => p.recent(owner, limit, now).await,
        }
    }

    // ---- requests ----

    /// Stores a new request under `id` (from [`Store::new_id`]). Durable when
    /// `Ok`.
    pub async fn insert_request(
        &self,
        id: RecordId,
        record: &RequestRecord,
    ) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                s.insert_request(id, record)?;
                s.commit().await
            }
            Engine::Postgres(p) => p.insert_request(id, record).await,
        }
    }

    /// The request under `id`, unless there is none or its record has expired
    /// at `now`.
    pub async fn get_request(
        &self,
        id: RecordId,
        now: u64,
    ) -> Result<Option<FetchedRequest>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.get_request(id, now),
            Engine::Postgres(p) => p.get_request(id, now).await,
        }
    }

    /// Takes the one answer of an open request (see
    /// `RequestRecord::answer`): one caller wins, as for [`Store::settle`].
    /// Durable when `Ok`.
    pub async fn answer_request(
        &self,
        read: &FetchedRequest,
        now: u64,
        sealed_answer: Vec<u8>,
    ) -> Result<Option<RequestRecord>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                let answered = s.answer_request(read, now, sealed_answer)?;
                s.commit().await?;
                Ok(answered)
            }
            Engine::Postgres(p) => p.answer_request(read, now, sealed_answer).await,
        }
    }

    /// Closes a request for its requester (see `RequestRecord::close`): one
    /// caller wins. Durable when `Ok`.
    pub async fn close_request(
        &self,
        read: &FetchedRequest,
        now: u64,
        how: Closing,
    ) -> Result<Option<RequestRecord>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                let closed = s.close_request(read, now, how)?;
                s.commit().await?;
                Ok(closed)
            }
            Engine::Postgres(p) => p.close_request(read, now, how).await,
        }
    }

    // ---- accounts ----

    /// Creates an account; `false` if the name is taken. Durable when `Ok`.
    pub async fn create_account(
        &self,
        name: &str,
        record: &AccountRecord,
    ) -> Result<bool, StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                let made = s.create_account(name, record)?;
                s.commit().await?;
                Ok(made)
            }
            Engine::Postgres(p) => p.create_account(name, record).await,
        }
    }

    /// Replaces an account's record; `false` if there is none. Durable when `Ok`.
    pub async fn update_account(
        &self,
        name: &str,
        record: &AccountRecord,
    ) -> Result<bool, StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                let updated = s.update_account(name, record)?;
                s.commit().await?;
                Ok(updated)
            }
            Engine::Postgres(p) => p.update_account(name, record).await,
        }
    }

    /// Removes an account; `false` if there was none. Durable when `Ok`.
    pub async fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                let removed = s.remove_account(name)?;
                s.commit().await?;
                Ok(removed)
            }
            Engine::Postgres(p) => p.remove_account(name).await,
        }
    }

    pub async fn account(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.account(name),
            Engine::Postgres(p) => p.account(name).await,
        }
    }

    /// The account whose extid is `extid` (exactly: extids are lower case),
    /// with its name.
    pub async fn account_by_extid(
        &self,
        extid: &str,
    ) -> Result<Option<(String, AccountRecord)>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.account_by_extid(extid),
            Engine::Postgres(p) => p.account_by_extid(extid).await,
        }
    }

    /// Every account, by name.
    pub async fn accounts(&self) -> Result<Vec<(String, AccountRecord)>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.accounts(),
            Engine::Postgres(p) => p.accounts().await,
        }
    }

    /// The requests an account made that have not expired at `now`, newest
    /// first, at most `limit` (only those its removal has not unlisted).
    pub async fn requests_of(
        &self,
        owner: &str,
        limit: usize,
        now: u64,
    ) -> Result<Vec<(RecordId, RequestRecord)>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.requests_of(owner, limit, now),
            Engine::Postgres(p) => p.requests_of(owner, limit, now).await,
        }
    }

    // ---- web sessions ----

    /// Stores a new session under `id` (a keyed hash of its cookie).
    /// Durable when `Ok`: a session acknowledged survives a restart.
    pub async fn create_session(
        &self,
        id: &[u8; 32],
        record: &SessionRecord,
    ) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                s.put_session(id, record)?;
                s.commit().await
            }
            Engine::Postgres(p) => p.put_session(id, record).await,
        }
    }

    /// The session under `id`, whatever its ends (the caller decides).
    pub async fn session(&self, id: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.session(id),
            Engine::Postgres(p) => p.session(id).await,
        }
    }

    /// Moves a session's idle end on. Not made durable on its own: a crash
    /// loses at most a moment of activity.
    pub async fn touch_session(
        &self,
        id: &[u8; 32],
        record: &SessionRecord,
    ) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.put_session(id, record),
            Engine::Postgres(p) => p.put_session(id, record).await,
        }
    }

    /// Ends a session (sign-out). Durable when `Ok`.
    pub async fn end_session(&self, id: &[u8; 32]) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => {
                s.end_session(id)?;
                s.commit().await
            }
            Engine::Postgres(p) => p.end_session(id).await,
        }
    }

    /// The id an account made now starts listing after: the last id issued.
    pub async fn last_id(&self) -> Result<u64, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.new_id().map(RecordId::get),
            Engine::Postgres(p) => p.last_id().await,
        }
    }

    // ---- the master key check ----

    /// The master key check stored with the data, if any (see
    /// `crypto::Keyring::key_check`).
    pub async fn key_check(&self) -> Result<Option<[u8; 32]>, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.key_check(),
            Engine::Postgres(p) => p.key_check().await,
        }
    }

    /// Records the master key check, durably. Where one is there already it is
    /// kept (two nodes starting together with one key: the first writes it).
    pub async fn set_key_check(&self, check: &[u8; 32]) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.set_key_check(check),
            Engine::Postgres(p) => p.set_key_check(check).await,
        }
    }

    /// Whether the database holds no secret, no request and no account:
    /// nothing a new master key would make unreadable.
    pub async fn holds_nothing(&self) -> Result<bool, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.holds_nothing(),
            Engine::Postgres(p) => p.holds_nothing().await,
        }
    }

    // ---- upkeep ----

    /// Handles at most `limit` records due at `now` (a secret's value at its
    /// expiry, a record at its end, a request's sealed parts at theirs);
    /// returns how many. On PostgreSQL, rows another node's reaper holds are
    /// skipped, not waited for.
    pub async fn purge_expired(&self, now: u64, limit: usize) -> Result<usize, StoreError> {
        match &self.engine {
            Engine::Sled(s) => Ok(s.purge_expired(now, limit)? + s.purge_sessions(now, limit)?),
            Engine::Postgres(p) => {
                Ok(p.purge_expired(now, limit).await? + p.purge_sessions(now, limit).await?)
            }
        }
    }

    /// Compacts an embedded database that churn left mostly empty (cheap to
    /// ask); PostgreSQL's own autovacuum does that work there.
    pub fn compact_if_worth_it(&self, removed: usize) -> Result<bool, StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.compact_if_worth_it(removed),
            Engine::Postgres(_) => Ok(false),
        }
    }

    /// `(records still holding a sealed value, records)`, expired or not; for
    /// tests. Reads every record.
    pub async fn counts(&self) -> Result<(usize, usize), StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.counts(),
            Engine::Postgres(p) => p.counts().await,
        }
    }

    /// `(requests still holding anything sealed, requests)`, expired or not;
    /// for tests.
    pub async fn request_counts(&self) -> Result<(usize, usize), StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.request_counts(),
            Engine::Postgres(p) => p.request_counts().await,
        }
    }

    // ---- backup ----

    /// Writes a consistent backup of the database to `out` (see `backup`).
    /// Blocking: run it off the async workers.
    pub fn backup(&self, out: &mut dyn Write) -> Result<BackupSummary, BackupError> {
        each!(self, e => e.backup(out))
    }

    // ---- health ----

    /// The counts `/metrics` shows.
    pub fn tally(&self) -> Arc<Tally> {
        each!(self, e => e.tally())
    }

    /// `(live secrets, receipts)` for `/metrics`: sled's running count (kept
    /// from a count taken at open, when metrics are on); PostgreSQL's rows
    /// counted now, so every node shows the whole database. `None` when not
    /// known (sled opened without counting, or PostgreSQL away).
    pub async fn live_counts(&self) -> Option<(u64, u64)> {
        match &self.engine {
            Engine::Sled(s) => s.tally().live(),
            Engine::Postgres(p) => p.live_counts().await.ok(),
        }
    }

    /// How full PostgreSQL's connection pool is; `None` on sled.
    pub fn pool_status(&self) -> Option<PoolStatus> {
        match &self.engine {
            Engine::Sled(_) => None,
            Engine::Postgres(p) => Some(p.pool_status()),
        }
    }

    /// Whether the database can serve now; `Err` says why not. PostgreSQL is
    /// asked (one `SELECT 1`, bounded in time).
    pub async fn readiness(&self) -> Result<(), String> {
        match &self.engine {
            Engine::Sled(s) => s.readiness().map_err(str::to_owned),
            Engine::Postgres(p) => p.readiness().await,
        }
    }

    /// Whether the database can write now, as last seen (one atomic load): on
    /// sled `false` from a failure until it is reopened; on PostgreSQL `false`
    /// from a failed connection until one succeeds. Either passes by itself:
    /// no restart needed.
    pub fn is_available(&self) -> bool {
        each!(self, e => e.is_available())
    }

    /// Whether an embedded database has failed and waits to be reopened in
    /// place (see [`Store::reopen_after_failure`]); never on PostgreSQL, whose
    /// pool reconnects by itself.
    pub fn has_failed(&self) -> bool {
        match &self.engine {
            Engine::Sled(s) => !s.is_available(),
            Engine::Postgres(_) => false,
        }
    }

    /// Whether the store's own machinery still serves (sled's commit thread);
    /// when not, every write is refused and the server should stop.
    pub fn is_committing(&self) -> bool {
        match &self.engine {
            Engine::Sled(s) => s.is_committing(),
            Engine::Postgres(_) => true,
        }
    }

    /// Notes an error some operation got: on sled an I/O error means the
    /// database has failed (see [`Failure`]).
    pub fn note(&self, err: &StoreError) {
        if let Engine::Sled(s) = &self.engine {
            s.note(err);
        }
    }

    /// Reopens an embedded database that failed, in place (see
    /// `embedded::recover`); PostgreSQL's pool reconnects by itself.
    pub fn reopen_after_failure(&self) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sled(s) => s.reopen_after_failure(),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// Waits (at most `limit`) until this is the last handle to the database,
    /// so that dropping it releases sled's lock. `false` if others remain.
    pub fn wait_until_sole_handle(&self, limit: std::time::Duration) -> bool {
        match &self.engine {
            Engine::Sled(s) => s.wait_until_sole_handle(limit),
            Engine::Postgres(_) => true,
        }
    }

    /// Flushes (sled) or closes the pool (PostgreSQL); for shutdown.
    pub fn close(&self) -> Result<(), StoreError> {
        each!(self, e => e.close())
    }
}

/// Runs one of the store's futures to its end on a thread that is not async
/// (the reaper, the admin socket, the watchdog, the command line).
/// PostgreSQL's work runs on the store's own runtime whoever awaits it, and
/// sled's needs no runtime, so any executor does: this one just parks the
/// thread. Never call it on an async worker (it would stall the worker).
pub fn block_on<F: Future>(future: F) -> F::Output {
    BLOCKING.with(|blocking| {
        let before = blocking.replace(true);
        let output = futures_executor::block_on(future);
        blocking.set(before);
        output
    })
}

thread_local! {
    /// Set while [`block_on`] parks this thread: a runtime this thread may
    /// belong to cannot run anything meanwhile, so the engines must not hand
    /// it work (see `postgres::PgStore::run`).
    static BLOCKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is parked in [`block_on`].
fn blocking() -> bool {
    BLOCKING.with(std::cell::Cell::get)
}

/// Where a restore writes.
pub enum RestoreTarget<'a> {
    /// A new embedded database at this path (absent or an empty directory).
    Embedded { path: &'a Path, cache_bytes: u64 },
    /// A PostgreSQL database that holds nothing yet.
    Postgres(&'a PostgresOptions),
}

/// Fills a new database from a backup (of either engine): on sled, built aside
/// and renamed into place; on PostgreSQL, in one transaction into a database
/// that holds nothing. Either way, a failure leaves nothing behind.
pub fn restore(
    input: &mut dyn Read,
    target: RestoreTarget<'_>,
) -> Result<BackupSummary, BackupError> {
    match target {
        RestoreTarget::Embedded { path, cache_bytes } => {
            embedded::restore(input, path, cache_bytes)
        }
        RestoreTarget::Postgres(options) => postgres::restore(input, options),
    }
}
