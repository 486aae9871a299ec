//! The PostgreSQL engine: several nodes over one database. The only module
//! that names a tokio-postgres or deadpool type.
//!
//! Every operation is a statement or two on a pooled connection; nothing is
//! acknowledged before `COMMIT` returns, and otsd never lowers
//! `synchronous_commit` (with a synchronous standby, an acknowledged change is
//! on two machines). Every change of a record's state is one `UPDATE … WHERE
//! id = $1 AND version = $2 AND state …` from the version read: no read and
//! then unconditional write, so of any number of concurrent reveals and burns
//! of a secret, on any number of nodes, one changes it and the others find
//! nothing to change, read again, and see it settled.
//!
//! Awaited on an async worker, the work runs right there, and a connection
//! the worker opens is driven by the worker's runtime; awaited anywhere else
//! (the reaper, the admin socket, the command line: threads with no runtime,
//! waiting with any executor), it runs on the store's own one-thread runtime
//! (`otsd-postgres`).

mod backup;
mod connect;
mod schema;

pub use backup::restore;
pub use connect::{PostgresOptions, check_url, redact};
pub use schema::SCHEMA_VERSION;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use deadpool_postgres::{Object, Pool, PoolError};

use super::records::{decode, encode};
use super::{
    AccountRecord, Amendment, Closing, Fetched, FetchedRequest, Guess, PoolStatus, RequestRecord,
    SecretRecord, SessionRecord, Settlement, StoreError, StoredState, Tally, Version,
};
use crate::crypto::RecordId;

/// The name of the master key check in `otsd_meta`.
const KEY_CHECK: &str = "key-check";
/// Ids a node takes from the sequence at once.
const ID_BLOCK: i64 = 64;
/// How long `/readyz` waits for PostgreSQL to answer.
const READY_LIMIT: Duration = Duration::from_secs(2);

/// A tokio-postgres error as a [`StoreError`]: its text names the server's
/// complaint or the connection's failure, never the URL or its password.
pub(super) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    StoreError::Postgres(crate::telemetry::report(&e))
}

fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => pg_error(e),
        PoolError::Timeout(_) => {
            StoreError::Postgres("no connection to PostgreSQL came free in time".into())
        }
        other => StoreError::Postgres(other.to_string()),
    }
}

/// A failure to get a connection at start: the server refusing (it answered:
/// a wrong password, no such database or role, a certificate that fails the
/// check) is final ([`StoreError::Schema`], not waited out); no server
/// answering is [`StoreError::Postgres`], which a start waits out.
fn refusal_or_absence(e: PoolError) -> StoreError {
    if let PoolError::Backend(e) = &e {
        let text = crate::telemetry::report(e);
        use tokio_postgres::error::SqlState;
        let refused = e.code().is_some_and(|code| {
            [
                SqlState::INVALID_PASSWORD,
                SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
                SqlState::INVALID_CATALOG_NAME,
                SqlState::INSUFFICIENT_PRIVILEGE,
            ]
            .contains(code)
        });
        if refused || text.contains("TLS") || text.contains("certificate") {
            return StoreError::Schema(format!("PostgreSQL refused the connection: {text}"));
        }
    }
    pool_error(e)
}

/// An unsigned number of seconds or an id as PostgreSQL's `bigint`.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn secret_state(state: StoredState) -> i16 {
    match state {
        StoredState::New => 0,
        StoredState::Viewed => 1,
        StoredState::Received => 2,
        StoredState::Burned => 3,
    }
}

fn request_state(state: super::RequestState) -> i16 {
    match state {
        super::RequestState::Waiting => 0,
        super::RequestState::Answered => 1,
        super::RequestState::Revealed => 2,
        super::RequestState::Cancelled => 3,
    }
}

/// The owner column: set only for records an account can list (anonymous
/// ones have no sealed receipt key).
fn listed_owner(record: &SecretRecord) -> Option<&str> {
    record
        .sealed_receipt_key
        .as_ref()
        .map(|_| record.owner.as_str())
}

/// The store's runtime; shut down without waiting when the last handle goes
/// (it may go on an async worker, where a blocking shutdown is not allowed).
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Handle to the PostgreSQL database; clones share the pool.
#[derive(Clone)]
pub(super) struct PgStore {
    pool: Pool,
    /// Where the pool's connections run: kept alive by every handle, shut
    /// down with the last.
    _runtime: Arc<OwnRuntime>,
    handle: tokio::runtime::Handle,
    tally: Arc<Tally>,
    /// Whether the last attempt to reach PostgreSQL succeeded.
    available: Arc<AtomicBool>,
    /// Ids taken from the sequence and not yet issued (see [`PgStore::new_id`]).
    ids: Arc<std::sync::Mutex<Vec<u64>>>,
}

impl PgStore {
    /// Makes the pool and runtime, then connects and migrates, trying again
    /// for `connect_wait` while no server answers (a node started before its
    /// database, or during a failover).
    pub fn open(options: &PostgresOptions) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("otsd-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Postgres(format!("cannot start its runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let pool = {
            let _entered = handle.enter();
            connect::pool(options)?
        };
        let store = Self {
            pool,
            _runtime: Arc::new(OwnRuntime(Some(runtime))),
            handle,
            tally: Arc::default(),
            available: Arc::new(AtomicBool::new(true)),
            ids: Arc::default(),
        };
        let deadline = Instant::now() + options.connect_wait;
        let mut said = false;
        loop {
            let pool = store.pool.clone();
            let migrated = super::block_on(store.run(async move {
                let mut client = pool.get().await.map_err(refusal_or_absence)?;
                schema::migrate(&mut client).await
            }));
            match migrated {
                Ok(_) => return Ok(store),
                // Waiting does not mend a wrong password, a missing database
                // or a certificate that does not check out.
                Err(err @ StoreError::Schema(_)) => return Err(err),
                Err(err) if Instant::now() >= deadline => return Err(err),
                Err(err) => {
                    if !said {
                        log::warn!("waiting for PostgreSQL at {}: {err}", redact(&options.url));
                        said = true;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
    }

    /// Runs `work` on the store's runtime and notes whether PostgreSQL could
    /// be reached.
    async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        // On an async worker (tokio's, under actix) the work runs right there:
        // a hop to another thread and back cost more CPU per request than the
        // statements themselves (`benches/nodes.sh`, perf: two thirds of the
        // node's time was in the hop's wake-ups). The connections a worker
        // opens are driven by its runtime and serve every worker. Elsewhere
        // (the reaper, the admin socket, the command line) no runtime runs,
        // so the work goes to the store's own; and so it does on a thread of a
        // runtime that `store::block_on` parks (that runtime could not drive
        // a connection opened on it meanwhile).
        let result = if tokio::runtime::Handle::try_current().is_ok() && !super::blocking() {
            work.await
        } else {
            match self.handle.spawn(work).await {
                Ok(result) => result,
                Err(e) => Err(StoreError::Postgres(format!("its task failed: {e}"))),
            }
        };
        // Said once when it goes away and once when it is back, not at
        // every refused request.
        match &result {
            Err(err @ StoreError::Postgres(_)) => {
                if self.available.swap(false, Ordering::Relaxed) {
                    log::error!(
                        "{err}; requests that need the database are refused (503) until \
                         it answers again"
                    );
                }
            }
            _ => {
                if !self.available.swap(true, Ordering::Relaxed) {
                    log::warn!("PostgreSQL answers again: serving");
                }
            }
        }
        result
    }

    /// Runs `work` with a pooled connection, on the store's runtime.
    async fn with<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        let pool = self.pool.clone();
        self.run(async move {
            let client = pool.get().await.map_err(pool_error)?;
            work(client).await
        })
        .await
    }

    pub fn tally(&self) -> Arc<Tally> {
        Arc::clone(&self.tally)
    }

    pub fn is_available(&self) -> bool {
        self.available.load(Ordering::Relaxed)
    }

    pub fn pool_status(&self) -> PoolStatus {
        let status = self.pool.status();
        PoolStatus {
            max: status.max_size,
            open: status.size,
            idle: status.available,
            waiting: status.waiting,
        }
    }

    /// One `SELECT 1`, bounded by [`READY_LIMIT`].
    pub async fn readiness(&self) -> Result<(), String> {
        let pool = self.pool.clone();
        let asked = self
            .run(async move {
                let answer = tokio::time::timeout(READY_LIMIT, async move {
                    let client = pool.get().await.map_err(pool_error)?;
                    client.simple_query("SELECT 1").await.map_err(pg_error)
                })
                .await;
                match answer {
                    Ok(answer) => answer.map(|_| ()),
                    Err(_) => Err(StoreError::Postgres(format!(
                        "it did not answer within {} s",
                        READY_LIMIT.as_secs()
                    ))),
                }
            })
            .await;
        asked.map_err(|e| crate::telemetry::report(&e))
    }

    /// Closes the pool; connections in use close when they are returned.
    pub fn close(&self) -> Result<(), StoreError> {
        self.pool.close();
        Ok(())
    }

    // ---- ids ----

    /// A fresh id. Each node takes [`ID_BLOCK`] ids from the sequence at a
    /// time and issues them in order: a create costs one statement instead
    /// of two (`benches/nodes.sh`: 3,300 → 5,000 creates a second on one
    /// node). Ids stay unique across nodes and restarts (an unused rest of a
    /// block is skipped), but are not in creation order across nodes, so
    /// nothing here depends on that order: `recent` lists an account's rows
    /// by its `owner` column, which a removal clears (see
    /// [`PgStore::remove_account`]).
    pub async fn new_id(&self) -> Result<RecordId, StoreError> {
        if let Some(id) = self.take_id() {
            return Ok(RecordId::new(id));
        }
        let mut block: Vec<u64> = self
            .with(|client| async move {
                let stmt = client
                    .prepare_cached(
                        "SELECT nextval('otsd_ids') FROM generate_series(1, $1::bigint)",
                    )
                    .await
                    .map_err(pg_error)?;
                let rows = client.query(&stmt, &[&ID_BLOCK]).await.map_err(pg_error)?;
                rows.iter()
                    .map(|row| u64::try_from(row.get::<_, i64>(0)).map_err(|_| StoreError::Corrupt))
                    .collect()
            })
            .await?;
        // Issued from the smallest: kept in reverse, taken from the end.
        block.sort_unstable_by(|a, b| b.cmp(a));
        let first = block.pop().ok_or(StoreError::Corrupt)?;
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.extend(block);
        ids.sort_unstable_by(|a, b| b.cmp(a));
        Ok(RecordId::new(first))
    }

    fn take_id(&self) -> Option<u64> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    /// An account's `listed_from`: on PostgreSQL nothing reads it (see
    /// [`PgStore::new_id`]), but a backup carries it; 0 lists all of an
    /// account's rows, which is what the `owner` column holds.
    pub async fn last_id(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    // ---- secrets ----

    pub async fn insert(&self, id: RecordId, record: &SecretRecord) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        let (state, due, expires) = (
            secret_state(record.state),
            int(record.due()),
            int(record.expires_at),
        );
        let owner = listed_owner(record).map(str::to_owned);
        self.with(move |client| async move {
            let stmt = client
                .prepare_cached(
                    "INSERT INTO otsd_secrets (id, state, due, expires_at, owner, record) \
                     VALUES ($1, $2, $3, $4, \
                     (SELECT name FROM otsd_accounts WHERE name = $5::text), $6)",
                )
                .await
                .map_err(pg_error)?;
            client
                .execute(
                    &stmt,
                    &[&int(id.get()), &state, &due, &expires, &owner, &bytes],
                )
                .await
                .map_err(pg_error)?;
            Ok(())
        })
        .await?;
        self.tally.created();
        Ok(())
    }

    pub async fn get(&self, id: RecordId, now: u64) -> Result<Option<Fetched>, StoreError> {
        self.with(move |client| async move { get_secret(&client, id, now).await })
            .await
    }

    /// Writes `change` of the record as read, from its version; when another
    /// change got there first, reads again and decides afresh.
    ///
    /// No indexed column changes (`due` stays: the reaper, finding nothing
    /// to drop there, moves it on to the record's end), so PostgreSQL can
    /// update the row in place on its page (a HOT update, with room left by
    /// the table's fill factor) instead of adding an entry to every index.
    ///
    /// A change of state is made only to a live row (`state` new or viewed,
    /// besides the version); an amendment to any row.
    async fn change_secret(
        &self,
        read: &Fetched,
        now: u64,
        rows: Rows,
        change: impl Fn(&mut SecretRecord) -> bool + Send + 'static,
    ) -> Result<Option<SecretRecord>, StoreError> {
        let first = read.clone();
        self.with(move |client| async move {
            let stmt = client
                .prepare_cached(match rows {
                    Rows::Live => {
                        "UPDATE otsd_secrets SET version = version + 1, state = $3, record = $4 \
                         WHERE id = $1 AND version = $2 AND state IN (0, 1)"
                    }
                    Rows::Any => {
                        "UPDATE otsd_secrets SET version = version + 1, state = $3, record = $4 \
                         WHERE id = $1 AND version = $2"
                    }
                })
                .await
                .map_err(pg_error)?;
            let mut current = first;
            loop {
                let Version::Postgres(version) = current.version else {
                    return Err(StoreError::Corrupt);
                };
                let mut record = current.record.clone();
                if !change(&mut record) {
                    return Ok(None);
                }
                let bytes = encode(&record)?;
                let changed = client
                    .execute(
                        &stmt,
                        &[
                            &int(current.id.get()),
                            &version,
                            &secret_state(record.state),
                            &bytes,
                        ],
                    )
                    .await
                    .map_err(pg_error)?;
                if changed == 1 {
                    return Ok(Some(record));
                }
                match get_secret(&client, current.id, now).await? {
                    Some(again) => current = again,
                    None => return Ok(None),
                }
            }
        })
        .await
    }

    pub async fn settle(
        &self,
        read: &Fetched,
        now: u64,
        how: Settlement,
    ) -> Result<Option<SecretRecord>, StoreError> {
        let settled = self
            .change_secret(read, now, Rows::Live, move |r| r.settle(now, how))
            .await?;
        if settled.is_some() {
            self.tally.settled();
        }
        Ok(settled)
    }

    pub async fn mark_viewed(&self, read: &Fetched, now: u64) -> Result<(), StoreError> {
        self.change_secret(read, now, Rows::Live, move |r| r.mark_viewed(now))
            .await
            .map(|_| ())
    }

    pub async fn amend(
        &self,
        read: &Fetched,
        now: u64,
        amendment: Amendment,
    ) -> Result<Option<SecretRecord>, StoreError> {
        self.change_secret(read, now, Rows::Any, move |r| r.amend(now, &amendment))
            .await
    }

    pub async fn guess(&self, id: RecordId, limit: u32) -> Result<Guess, StoreError> {
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        self.with(move |client| async move {
            let stmt = client
                .prepare_cached(
                    "UPDATE otsd_secrets SET guesses = guesses + 1 \
                     WHERE id = $1 AND guesses < $2",
                )
                .await
                .map_err(pg_error)?;
            let counted = client
                .execute(&stmt, &[&int(id.get()), &limit])
                .await
                .map_err(pg_error)?;
            Ok(if counted == 1 {
                Guess::Counted
            } else {
                Guess::Exhausted
            })
        })
        .await
    }

    pub async fn discard(&self, id: RecordId) -> Result<(), StoreError> {
        self.with(move |client| async move {
            client
                .execute("DELETE FROM otsd_secrets WHERE id = $1", &[&int(id.get())])
                .await
                .map_err(pg_error)?;
            Ok(())
        })
        .await
    }

    /// An account's newest rows: those its `owner` column names (set at the
    /// create only while the account existed, cleared when it is removed, so
    /// a later account of the same name never sees them).
    pub async fn recent(
        &self,
        owner: &str,
        limit: usize,
        now: u64,
    ) -> Result<Vec<Fetched>, StoreError> {
        let owner = owner.to_owned();
        let limit = int(limit as u64);
        self.with(move |client| async move {
            let stmt = client
                .prepare_cached(
                    "SELECT id, version, record FROM otsd_secrets \
                     WHERE owner = $1 AND expires_at > $2 ORDER BY id DESC LIMIT $3",
                )
                .await
                .map_err(pg_error)?;
            let rows = client
                .query(&stmt, &[&owner, &int(now), &limit])
                .await
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| {
                    Ok(Fetched {
                        id: row_id(row.get(0))?,
                        version: Version::Postgres(row.get(1)),
                        record: decode(row.get(2))?,
                    })
                })
                .collect()
        })
        .await
    }

    // ---- requests ----

    pub async fn insert_request(
        &self,
        id: RecordId,
        record: &RequestRecord,
    ) -> Result<(), StoreError> {
        let bytes = encode(record)?;
        let (state, due, expires) = (
            request_state(record.state),
            int(record.due()),
            int(record.expires_at),
        );
        let owner = record
            .sealed_private_key
            .is_some()
            .then(|| record.owner.clone());
        self.with(move |client| async move {
            client
                .execute(
                    "INSERT INTO otsd_requests (id, state, due, expires_at, record, owner) \
                     VALUES ($1, $2, $3, $4, $5, \
                     (SELECT name FROM otsd_accounts WHERE name = $6::text))",
                    &[&int(id.get()), &state, &due, &expires, &bytes, &owner],
                )
                .await
                .map_err(pg_error)?;
            Ok(())
        })
        .await
    }

    pub async fn get_request(
        &self,
        id: RecordId,
        now: u64,
    ) -> Result<Option<FetchedRequest>, StoreError> {
        self.with(move |client| async move { get_request(&client, id, now).await })
            .await
    }

    async fn change_request(
        &self,
        read: &FetchedRequest,
        now: u64,
        change: impl Fn(&mut RequestRecord) -> bool + Send + 'static,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let first = read.clone();
        self.with(move |client| async move {
            let mut current = first;
            loop {
                let Version::Postgres(version) = current.version else {
                    return Err(StoreError::Corrupt);
                };
                let mut record = current.record.clone();
                if !change(&mut record) {
                    return Ok(None);
                }
                let bytes = encode(&record)?;
                let changed = client
                    .execute(
                        "UPDATE otsd_requests SET version = version + 1, state = $3, \
                         due = $4, expires_at = $5, record = $6 \
                         WHERE id = $1 AND version = $2 AND state IN (0, 1)",
                        &[
                            &int(current.id.get()),
                            &version,
                            &request_state(record.state),
                            &int(record.due()),
                            &int(record.expires_at),
                            &bytes,
                        ],
                    )
                    .await
                    .map_err(pg_error)?;
                if changed == 1 {
                    return Ok(Some(record));
                }
                match get_request(&client, current.id, now).await? {
                    Some(again) => current = again,
                    None => return Ok(None),
                }
            }
        })
        .await
    }

    pub async fn answer_request(
        &self,
        read: &FetchedRequest,
        now: u64,
        sealed_answer: Vec<u8>,
    ) -> Result<Option<RequestRecord>, StoreError> {
        self.change_request(read, now, move |r| r.answer(now, &sealed_answer))
            .await
    }

    pub async fn close_request(
        &self,
        read: &FetchedRequest,
        now: u64,
        how: Closing,
    ) -> Result<Option<RequestRecord>, StoreError> {
        self.change_request(read, now, move |r| r.close(now, how))
            .await
    }

    // ---- accounts ----

    pub async fn create_account(
        &self,
        name: &str,
        record: &AccountRecord,
    ) -> Result<bool, StoreError> {
        let (name, bytes, extid) = (name.to_owned(), encode(record)?, record.extid.clone());
        self.with(move |client| async move {
            let made = client
                .execute(
                    "INSERT INTO otsd_accounts (name, record, extid) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO NOTHING",
                    &[&name, &bytes, &extid],
                )
                .await
                .map_err(pg_error)?;
            Ok(made == 1)
        })
        .await
    }

    pub async fn update_account(
        &self,
        name: &str,
        record: &AccountRecord,
    ) -> Result<bool, StoreError> {
        let (name, bytes, extid) = (name.to_owned(), encode(record)?, record.extid.clone());
        self.with(move |client| async move {
            let updated = client
                .execute(
                    "UPDATE otsd_accounts SET record = $2, extid = $3 WHERE name = $1",
                    &[&name, &bytes, &extid],
                )
                .await
                .map_err(pg_error)?;
            Ok(updated == 1)
        })
        .await
    }

    /// Removes an account and, in the same transaction, takes its name off
    /// its rows: they stay readable by link, and no later account of that
    /// name lists them.
    pub async fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.with(move |mut client| async move {
            let tx = client.transaction().await.map_err(pg_error)?;
            let removed = tx
                .execute("DELETE FROM otsd_accounts WHERE name = $1", &[&name])
                .await
                .map_err(pg_error)?;
            tx.execute(
                "UPDATE otsd_secrets SET owner = NULL WHERE owner = $1",
                &[&name],
            )
            .await
            .map_err(pg_error)?;
            tx.execute(
                "UPDATE otsd_requests SET owner = NULL WHERE owner = $1",
                &[&name],
            )
            .await
            .map_err(pg_error)?;
            tx.commit().await.map_err(pg_error)?;
            Ok(removed == 1)
        })
        .await
    }

    pub async fn account(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        let name = name.to_owned();
        self.with(move |client| async move {
            let stmt = client
                .prepare_cached("SELECT record FROM otsd_accounts WHERE name = $1")
                .await
                .map_err(pg_error)?;
            client
                .query_opt(&stmt, &[&name])
                .await
                .map_err(pg_error)?
                .map(|row| decode(row.get(0)))
                .transpose()
        })
        .await
    }

    pub async fn account_by_extid(
        &self,
        extid: &str,
    ) -> Result<Option<(String, AccountRecord)>, StoreError> {
        let extid = extid.to_owned();
        self.with(move |client| async move {
            let stmt = client
                .prepare_cached("SELECT name, record FROM otsd_accounts WHERE extid = $1")
                .await
                .map_err(pg_error)?;
            client
                .query_opt(&stmt, &[&extid])
                .await
                .map_err(pg_error)?
                .map(|row| Ok((row.get(0), decode(row.get(1))?)))
                .transpose()
        })
        .await
    }

    pub async fn accounts(&self) -> Result<Vec<(String, AccountRecord)>, StoreError> {
        self.with(|client| async move {
            let rows = client
                .query(
                    "SELECT name, record FROM otsd_accounts ORDER BY name COLLATE \"C\"",
                    &[],
                )
                .await
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| Ok((row.get(0), decode(row.get(1))?)))
                .collect()
        })
        .await
    }

    pub async fn requests_of(
        &self,
        owner: &str,
        limit: usize,
        now: u64,
    ) -> Result<Vec<(RecordId, RequestRecord)>, StoreError> {
        let (owner, limit) = (owner.to_owned(), int(limit as u64));
        self.with(move |client| async move {
            let rows = client
                .query(
                    "SELECT id, record FROM otsd_requests \
                     WHERE owner = $1 AND expires_at > $2 ORDER BY id DESC LIMIT $3",
                    &[&owner, &int(now), &limit],
                )
                .await
                .map_err(pg_error)?;
            rows.iter()
                .map(|row| {
                    let id: i64 = row.get(0);
                    Ok((RecordId::new(id as u64), decode(row.get(1))?))
                })
                .collect()
        })
        .await
    }

    // ---- web sessions ----

    pub async fn put_session(
        &self,
        id: &[u8; 32],
        record: &SessionRecord,
    ) -> Result<(), StoreError> {
        let (id, ends, bytes) = (id.to_vec(), int(record.ends_at()), encode(record)?);
        self.with(move |client| async move {
            let stmt = client
                .prepare_cached(
                    "INSERT INTO otsd_sessions (id, ends_at, record) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET ends_at = $2, record = $3",
                )
                .await
                .map_err(pg_error)?;
            client
                .execute(&stmt, &[&id, &ends, &bytes])
                .await
                .map_err(pg_error)?;
            Ok(())
        })
        .await
    }

    pub async fn session(&self, id: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        let id = id.to_vec();
        self.with(move |client| async move {
            let stmt = client
                .prepare_cached("SELECT record FROM otsd_sessions WHERE id = $1")
                .await
                .map_err(pg_error)?;
            client
                .query_opt(&stmt, &[&id])
                .await
                .map_err(pg_error)?
                .map(|row| decode(row.get(0)))
                .transpose()
        })
        .await
    }

    pub async fn end_session(&self, id: &[u8; 32]) -> Result<(), StoreError> {
        let id = id.to_vec();
        self.with(move |client| async move {
            client
                .execute("DELETE FROM otsd_sessions WHERE id = $1", &[&id])
                .await
                .map_err(pg_error)?;
            Ok(())
        })
        .await
    }

    /// Removes at most `limit` sessions that ended at `now`.
    pub async fn purge_sessions(&self, now: u64, limit: usize) -> Result<usize, StoreError> {
        let limit = int(limit as u64);
        self.with(move |client| async move {
            let removed = client
                .execute(
                    "DELETE FROM otsd_sessions WHERE id IN \
                     (SELECT id FROM otsd_sessions WHERE ends_at <= $1 LIMIT $2)",
                    &[&int(now), &limit],
                )
                .await
                .map_err(pg_error)?;
            Ok(removed as usize)
        })
        .await
    }

    // ---- the master key check ----

    pub async fn key_check(&self) -> Result<Option<[u8; 32]>, StoreError> {
        self.with(|client| async move {
            let row = client
                .query_opt("SELECT value FROM otsd_meta WHERE name = $1", &[&KEY_CHECK])
                .await
                .map_err(pg_error)?;
            row.map(|row| {
                <[u8; 32]>::try_from(row.get::<_, &[u8]>(0)).map_err(|_| StoreError::Corrupt)
            })
            .transpose()
        })
        .await
    }

    /// Writes the key check only where there is none: of two nodes starting
    /// together on an empty database, the first one's stays, and the other
    /// finds it when it reads it back (see `startup::storage`).
    pub async fn set_key_check(&self, check: &[u8; 32]) -> Result<(), StoreError> {
        let check = check.to_vec();
        self.with(move |client| async move {
            client
                .execute(
                    "INSERT INTO otsd_meta (name, value) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING",
                    &[&KEY_CHECK, &check],
                )
                .await
                .map_err(pg_error)?;
            Ok(())
        })
        .await
    }

    pub async fn holds_nothing(&self) -> Result<bool, StoreError> {
        self.with(|client| async move {
            let row = client
                .query_one(
                    "SELECT NOT EXISTS (SELECT 1 FROM otsd_secrets) \
                     AND NOT EXISTS (SELECT 1 FROM otsd_requests) \
                     AND NOT EXISTS (SELECT 1 FROM otsd_accounts)",
                    &[],
                )
                .await
                .map_err(pg_error)?;
            Ok(row.get(0))
        })
        .await
    }

    // ---- upkeep ----

    /// One bounded batch of each table, in one short transaction: the rows
    /// due, oldest first, locked `FOR UPDATE SKIP LOCKED` (rows another node's
    /// reaper holds are passed over, not waited for), then removed or emptied
    /// by the same rules as sled's reaper.
    pub async fn purge_expired(&self, now: u64, limit: usize) -> Result<usize, StoreError> {
        let (handled, expired) = self
            .with(move |mut client| async move {
                let tx = client.transaction().await.map_err(pg_error)?;
                let limit = int(limit as u64);
                let rows = tx
                    .query(
                        "SELECT id, record FROM otsd_secrets WHERE due <= $1 \
                         ORDER BY due LIMIT $2 FOR UPDATE SKIP LOCKED",
                        &[&int(now), &limit],
                    )
                    .await
                    .map_err(pg_error)?;
                let mut gone = Vec::new();
                let (mut ids, mut records, mut dues) = (Vec::new(), Vec::new(), Vec::new());
                let mut expired = 0u64;
                for row in &rows {
                    let id: i64 = row.get(0);
                    let mut record: SecretRecord = decode(row.get(1))?;
                    if record.expires_at <= now {
                        expired += u64::from(record.sealed_value.is_some());
                        gone.push(id);
                    } else {
                        expired += u64::from(record.drop_sealed());
                        ids.push(id);
                        dues.push(int(record.due().max(now + 1)));
                        records.push(encode(&record)?);
                    }
                }
                tx.execute("DELETE FROM otsd_secrets WHERE id = ANY($1)", &[&gone])
                    .await
                    .map_err(pg_error)?;
                tx.execute(
                    "UPDATE otsd_secrets AS s SET version = s.version + 1, due = u.due, \
                     record = u.record FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) \
                     AS u(id, due, record) WHERE s.id = u.id",
                    &[&ids, &dues, &records],
                )
                .await
                .map_err(pg_error)?;
                let requests = tx
                    .query(
                        "SELECT id, record FROM otsd_requests WHERE due <= $1 \
                         ORDER BY due LIMIT $2 FOR UPDATE SKIP LOCKED",
                        &[&int(now), &limit],
                    )
                    .await
                    .map_err(pg_error)?;
                let mut gone = Vec::new();
                let (mut ids, mut records, mut dues) = (Vec::new(), Vec::new(), Vec::new());
                for row in &requests {
                    let id: i64 = row.get(0);
                    let mut record: RequestRecord = decode(row.get(1))?;
                    if record.expires_at <= now {
                        gone.push(id);
                    } else {
                        if record.is_expired(now) {
                            record.drop_sealed();
                        }
                        ids.push(id);
                        dues.push(int(record.due().max(now + 1)));
                        records.push(encode(&record)?);
                    }
                }
                tx.execute("DELETE FROM otsd_requests WHERE id = ANY($1)", &[&gone])
                    .await
                    .map_err(pg_error)?;
                tx.execute(
                    "UPDATE otsd_requests AS r SET version = r.version + 1, due = u.due, \
                     record = u.record FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) \
                     AS u(id, due, record) WHERE r.id = u.id",
                    &[&ids, &dues, &records],
                )
                .await
                .map_err(pg_error)?;
                tx.commit().await.map_err(pg_error)?;
                Ok((rows.len().max(requests.len()), expired))
            })
            .await?;
        for _ in 0..expired {
            self.tally.expired.inc();
        }
        Ok(handled)
    }

    /// `(secrets holding their value, records)`: a secret's row is due at
    /// its secret's expiry while it holds its value, at the record's end after.
    pub async fn live_counts(&self) -> Result<(u64, u64), StoreError> {
        self.with(|client| async move {
            let row = client
                .query_one(
                    "SELECT count(*) FILTER (WHERE state IN (0, 1) AND due < expires_at), \
                     count(*) FROM otsd_secrets",
                    &[],
                )
                .await
                .map_err(pg_error)?;
            let count = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
            Ok((count(0), count(1)))
        })
        .await
    }

    pub async fn counts(&self) -> Result<(usize, usize), StoreError> {
        self.with(|client| async move {
            let rows = client
                .query("SELECT record FROM otsd_secrets", &[])
                .await
                .map_err(pg_error)?;
            let mut counts = (0, rows.len());
            for row in &rows {
                let record: SecretRecord = decode(row.get(0))?;
                counts.0 += usize::from(record.sealed_value.is_some());
            }
            Ok(counts)
        })
        .await
    }

    pub async fn request_counts(&self) -> Result<(usize, usize), StoreError> {
        self.with(|client| async move {
            let rows = client
                .query("SELECT record FROM otsd_requests", &[])
                .await
                .map_err(pg_error)?;
            let mut counts = (0, rows.len());
            for row in &rows {
                let record: RequestRecord = decode(row.get(0))?;
                counts.0 += usize::from(record.holds_sealed());
            }
            Ok(counts)
        })
        .await
    }
}

fn row_id(id: i64) -> Result<RecordId, StoreError> {
    u64::try_from(id)
        .map(RecordId::new)
        .map_err(|_| StoreError::Corrupt)
}

async fn get_secret(
    client: &Object,
    id: RecordId,
    now: u64,
) -> Result<Option<Fetched>, StoreError> {
    let stmt = client
        .prepare_cached("SELECT version, record FROM otsd_secrets WHERE id = $1")
        .await
        .map_err(pg_error)?;
    let Some(row) = client
        .query_opt(&stmt, &[&int(id.get())])
        .await
        .map_err(pg_error)?
    else {
        return Ok(None);
    };
    let record: SecretRecord = decode(row.get(1))?;
    Ok((now < record.expires_at).then_some(Fetched {
        id,
        record,
        version: Version::Postgres(row.get(0)),
    }))
}

async fn get_request(
    client: &Object,
    id: RecordId,
    now: u64,
) -> Result<Option<FetchedRequest>, StoreError> {
    let Some(row) = client
        .query_opt(
            "SELECT version, record FROM otsd_requests WHERE id = $1",
            &[&int(id.get())],
        )
        .await
        .map_err(pg_error)?
    else {
        return Ok(None);
    };
    let record: RequestRecord = decode(row.get(1))?;
    Ok((now < record.expires_at).then_some(FetchedRequest {
        id,
        record,
        version: Version::Postgres(row.get(0)),
    }))
}

/// Which rows a change of a secret's record may be made to.
#[derive(Clone, Copy)]
enum Rows {
    /// Live ones only: a change of state (reveal, burn, viewed).
    Live,
    /// Any: an amendment (see [`crate::store::Amendment`]).
    Any,
}
