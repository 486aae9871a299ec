//! Backups of a PostgreSQL database, in the same file format as sled's, so
//! one file moves an instance between the engines both ways.
//!
//! A backup reads in one `REPEATABLE READ, READ ONLY` transaction: one
//! snapshot of every table, taken while the nodes go on serving (nothing is
//! paused). Rows are streamed, never all held at once; the two indexes sled
//! keeps as entries of their own (expiry and owners) are worked out from the
//! records and written after them, so a sled restore of the file has them.
//!
//! A restore fills a database that holds nothing, in one transaction: a
//! failure part-way leaves it empty. The index entries of a sled backup are
//! skipped (the rows carry what they said); the id sequence is moved past
//! every id in the file.

use std::io::{Read, Write};

use futures_util::{StreamExt, pin_mut};

use super::super::backup::{BackupError, BackupSummary, KEY_CHECK, Part, Reader, Writer};
use super::super::records::{decode, encode};
use super::super::{AccountRecord, RequestRecord, SecretRecord};
use super::{KEY_CHECK as META_KEY_CHECK, PgStore, PostgresOptions, int, listed_owner, pg_error};
use super::{request_state, secret_state};
use crate::store::StoreError;

/// An entry on its way from the runtime to the writer.
type Entry = (Part, Vec<u8>, Vec<u8>);

/// Entries in flight at most between the reading task and the writer.
const IN_FLIGHT: usize = 256;
/// Rows per insert in a restore.
const BATCH: usize = 500;

impl PgStore {
    /// Writes a consistent backup (one snapshot) of the database to `out`.
    pub fn backup(&self, out: &mut dyn Write) -> Result<BackupSummary, BackupError> {
        let (sender, mut entries) =
            tokio::sync::mpsc::channel::<Result<Entry, StoreError>>(IN_FLIGHT);
        let (next_id_tx, next_id_rx) = tokio::sync::oneshot::channel();
        let pool = self.pool.clone();
        let reading = self.handle.spawn(async move {
            let result = read_snapshot(pool, &sender, next_id_tx).await;
            if let Err(err) = result {
                let _ = sender.send(Err(err)).await;
            }
        });
        let next_id = futures_executor::block_on(next_id_rx)
            .map_err(|_| StoreError::Postgres("the backup's reading stopped".into()));
        let next_id = match next_id {
            Ok(id) => id,
            Err(err) => {
                // The reading task sent the reason, if it had one.
                let reason = futures_executor::block_on(entries.recv());
                return Err(match reason {
                    Some(Err(err)) => err.into(),
                    _ => err.into(),
                });
            }
        };
        let mut writer = Writer::new(out);
        writer.header(next_id)?;
        let mut summary = BackupSummary::default();
        while let Some(entry) = futures_executor::block_on(entries.recv()) {
            let (part, key, value) = entry?;
            summary.count(part, &value);
            writer.entry(part, &key, &value)?;
        }
        drop(reading);
        writer.finish(summary.entries)?;
        Ok(summary)
    }
}

/// Sends every entry of one snapshot, part by part in key order.
async fn read_snapshot(
    pool: deadpool_postgres::Pool,
    out: &tokio::sync::mpsc::Sender<Result<Entry, StoreError>>,
    next_id: tokio::sync::oneshot::Sender<u64>,
) -> Result<(), StoreError> {
    let send = |entry: Entry| async move {
        out.send(Ok(entry))
            .await
            .map_err(|_| StoreError::Postgres("the backup's writer stopped".into()))
    };
    let mut client = pool.get().await.map_err(super::pool_error)?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg_error)?;
    let row = tx
        .query_one(
            "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM otsd_ids",
            &[],
        )
        .await
        .map_err(pg_error)?;
    let next: i64 = row.get(0);
    let _ = next_id.send(u64::try_from(next).unwrap_or(1));

    if let Some(row) = tx
        .query_opt(
            "SELECT value FROM otsd_meta WHERE name = $1",
            &[&META_KEY_CHECK],
        )
        .await
        .map_err(pg_error)?
    {
        send((Part::KeyCheck, KEY_CHECK.to_vec(), row.get::<_, Vec<u8>>(0))).await?;
    }

    // Secrets, and what the two indexes need of each (16 bytes and a name).
    let mut expiry: Vec<(u64, u64)> = Vec::new();
    let mut owners: Vec<Vec<u8>> = Vec::new();
    let none: [i64; 0] = [];
    let rows = tx
        .query_raw(
            "SELECT id, record, owner FROM otsd_secrets ORDER BY id",
            none,
        )
        .await
        .map_err(pg_error)?;
    pin_mut!(rows);
    while let Some(row) = rows.next().await {
        let row = row.map_err(pg_error)?;
        let id = u64::try_from(row.get::<_, i64>(0)).map_err(|_| StoreError::Corrupt)?;
        let bytes: Vec<u8> = row.get(1);
        let record: SecretRecord = decode(&bytes)?;
        expiry.push((record.due(), id));
        // Listed by the owner column: a removed account's rows are not.
        if let Some(owner) = row.get::<_, Option<&str>>(2) {
            owners.push(owner_entry(owner, id));
        }
        send((Part::Secrets, id.to_be_bytes().to_vec(), bytes)).await?;
    }
    let rows = tx
        .query_raw("SELECT id, record FROM otsd_requests ORDER BY id", none)
        .await
        .map_err(pg_error)?;
    let mut requests = Vec::new();
    pin_mut!(rows);
    while let Some(row) = rows.next().await {
        let row = row.map_err(pg_error)?;
        let id = u64::try_from(row.get::<_, i64>(0)).map_err(|_| StoreError::Corrupt)?;
        let bytes: Vec<u8> = row.get(1);
        let record: RequestRecord = decode(&bytes)?;
        expiry.push((record.due(), id));
        requests.push(id);
    }
    expiry.sort_unstable();
    for (due, id) in expiry {
        let mut key = due.to_be_bytes().to_vec();
        key.extend_from_slice(&id.to_be_bytes());
        send((Part::Expiry, key, Vec::new())).await?;
    }
    owners.sort_unstable();
    for key in owners {
        send((Part::Owners, key, Vec::new())).await?;
    }
    let rows = tx
        .query_raw(
            "SELECT name, record FROM otsd_accounts ORDER BY name COLLATE \"C\"",
            none,
        )
        .await
        .map_err(pg_error)?;
    pin_mut!(rows);
    while let Some(row) = rows.next().await {
        let row = row.map_err(pg_error)?;
        let name: String = row.get(0);
        // Ids from several nodes are not in creation order, so the owners
        // entries above (each an account's own) are what lists its secrets:
        // `listed_from` 0 keeps sled from hiding any of them.
        let mut account: AccountRecord = decode(row.get(1))?;
        account.listed_from = 0;
        send((Part::Accounts, name.into_bytes(), encode(&account)?)).await?;
    }
    // Requests last, as sled's parts are numbered; read again (by id) so as
    // not to hold them all.
    let rows = tx
        .query_raw("SELECT id, record FROM otsd_requests ORDER BY id", none)
        .await
        .map_err(pg_error)?;
    pin_mut!(rows);
    while let Some(row) = rows.next().await {
        let row = row.map_err(pg_error)?;
        let id = u64::try_from(row.get::<_, i64>(0)).map_err(|_| StoreError::Corrupt)?;
        send((Part::Requests, id.to_be_bytes().to_vec(), row.get(1))).await?;
    }
    drop(requests);
    tx.commit().await.map_err(pg_error)
}

/// The owners index's key: `name ‖ 0 ‖ id`.
fn owner_entry(owner: &str, id: u64) -> Vec<u8> {
    let mut key = owner.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Rows read from a backup, waiting to be inserted.
#[derive(Default)]
struct Batch {
    secrets: Vec<(i64, SecretRecord, Vec<u8>)>,
    requests: Vec<(i64, RequestRecord, Vec<u8>)>,
    accounts: Vec<(String, Vec<u8>)>,
    key_check: Option<Vec<u8>>,
}

impl Batch {
    fn len(&self) -> usize {
        self.secrets.len() + self.requests.len() + self.accounts.len()
    }
}

/// What the reading thread hands the restoring task.
enum Step {
    Entry(Entry),
    /// The whole file was read and checked: commit, with the sequence past
    /// this id.
    Commit(u64),
}

/// Fills the PostgreSQL database of `options`, which must hold nothing, from
/// a backup; all or nothing. The file is read and checked on this thread;
/// the rows go in on the store's runtime, in one transaction that commits
/// only once the file's checksum matched.
pub fn restore(
    input: &mut dyn Read,
    options: &PostgresOptions,
) -> Result<BackupSummary, BackupError> {
    let store = PgStore::open(options)?;
    let mut reader = Reader::new(input)?;
    let next_id = reader.next_id();
    let (steps, received) = tokio::sync::mpsc::channel::<Step>(IN_FLIGHT);
    let task = store.handle.spawn(fill(store.pool.clone(), received));
    let read = (|| -> Result<BackupSummary, BackupError> {
        let mut summary = BackupSummary::default();
        while let Some((part, key, value)) = reader.entry()? {
            summary.count(part, &value);
            if futures_executor::block_on(steps.send(Step::Entry((part, key, value)))).is_err() {
                // The task stopped: its result says why.
                return Ok(summary);
            }
        }
        reader.finish(summary.entries)?;
        let _ = futures_executor::block_on(steps.send(Step::Commit(next_id)));
        Ok(summary)
    })();
    // On a failure the sender goes before the task is awaited, so it rolls back.
    drop(steps);
    let filled = futures_executor::block_on(task)
        .map_err(|e| StoreError::Postgres(format!("the restore's task failed: {e}")));
    let summary = read?;
    filled??;
    Ok(summary)
}

/// The restoring task: one transaction, committed on [`Step::Commit`] and
/// rolled back (by dropping it) if the steps end without one.
async fn fill(
    pool: deadpool_postgres::Pool,
    mut steps: tokio::sync::mpsc::Receiver<Step>,
) -> Result<(), BackupError> {
    let mut client = pool.get().await.map_err(super::pool_error)?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::Serializable)
        .start()
        .await
        .map_err(pg_error)?;
    let empty: bool = tx
        .query_one(
            "SELECT NOT EXISTS (SELECT 1 FROM otsd_secrets) \
             AND NOT EXISTS (SELECT 1 FROM otsd_requests) \
             AND NOT EXISTS (SELECT 1 FROM otsd_accounts)",
            &[],
        )
        .await
        .map_err(pg_error)?
        .get(0);
    if !empty {
        return Err(BackupError::Malformed(
            "the PostgreSQL database already holds secrets, requests or accounts; \
             restore into an empty database",
        ));
    }
    let mut batch = Batch::default();
    let mut max_id = 0u64;
    let mut listed_from: Vec<(String, u64)> = Vec::new();
    while let Some(step) = steps.recv().await {
        let (part, key, value) = match step {
            Step::Entry(entry) => entry,
            Step::Commit(next_id) => {
                insert(&tx, batch).await?;
                // A sled backup lists an account's secrets by id from its
                // `listed_from` (an earlier holder of the name made the ones
                // before); here the owner column says it, so the earlier
                // holder's rows, and those of removed accounts, lose it.
                for table in ["otsd_secrets", "otsd_requests"] {
                    for (name, from) in &listed_from {
                        tx.execute(
                            &format!(
                                "UPDATE {table} SET owner = NULL WHERE owner = $1 AND id <= $2"
                            ),
                            &[name, &int(*from)],
                        )
                        .await
                        .map_err(pg_error)?;
                    }
                    tx.execute(
                        &format!(
                            "UPDATE {table} s SET owner = NULL WHERE owner IS NOT NULL \
                             AND NOT EXISTS (SELECT 1 FROM otsd_accounts a WHERE a.name = s.owner)"
                        ),
                        &[],
                    )
                    .await
                    .map_err(pg_error)?;
                }
                let next = int(max_id.saturating_add(1).max(next_id).max(1));
                tx.execute("SELECT setval('otsd_ids', $1, false)", &[&next])
                    .await
                    .map_err(pg_error)?;
                tx.commit().await.map_err(pg_error)?;
                return Ok(());
            }
        };
        match part {
            Part::KeyCheck => batch.key_check = Some(value),
            Part::Secrets => {
                let id = entry_id(&key)?;
                max_id = max_id.max(id);
                batch.secrets.push((int(id), decode(&value)?, value));
            }
            Part::Requests => {
                let id = entry_id(&key)?;
                max_id = max_id.max(id);
                batch.requests.push((int(id), decode(&value)?, value));
            }
            Part::Accounts => {
                let name = String::from_utf8(key)
                    .map_err(|_| BackupError::Malformed("an account name is not text"))?;
                let account: AccountRecord = decode(&value)?;
                listed_from.push((name.clone(), account.listed_from));
                batch.accounts.push((name, value));
            }
            // Worked out from the records by the rows themselves.
            Part::Expiry | Part::Owners => {}
        }
        if batch.len() >= BATCH {
            insert(&tx, std::mem::take(&mut batch)).await?;
        }
    }
    Err(BackupError::Truncated)
}

fn entry_id(key: &[u8]) -> Result<u64, BackupError> {
    <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| BackupError::Malformed("a record's key is not an id"))
}

/// Inserts a batch of restored rows.
async fn insert(client: &tokio_postgres::Transaction<'_>, batch: Batch) -> Result<(), StoreError> {
    if let Some(check) = batch.key_check {
        let row = client
            .query_opt(
                "INSERT INTO otsd_meta (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING RETURNING 1",
                &[&META_KEY_CHECK, &check],
            )
            .await
            .map_err(pg_error)?;
        if row.is_none() {
            let stored: Vec<u8> = client
                .query_one(
                    "SELECT value FROM otsd_meta WHERE name = $1",
                    &[&META_KEY_CHECK],
                )
                .await
                .map_err(pg_error)?
                .get(0);
            if stored != check {
                return Err(StoreError::Schema(
                    "the PostgreSQL database was started with another master key than the \
                     backup's data was sealed with"
                        .into(),
                ));
            }
        }
    }
    if !batch.secrets.is_empty() {
        let mut rows = Rows::default();
        let mut owners: Vec<Option<String>> = Vec::new();
        for (id, record, bytes) in batch.secrets {
            rows.push(id, secret_state(record.state), &record, bytes);
            owners.push(listed_owner(&record).map(str::to_owned));
        }
        client
            .execute(
                "INSERT INTO otsd_secrets (id, state, due, expires_at, owner, record) \
                 SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], \
                 $4::bigint[], $5::text[], $6::bytea[])",
                &[
                    &rows.ids,
                    &rows.states,
                    &rows.dues,
                    &rows.ends,
                    &owners,
                    &rows.records,
                ],
            )
            .await
            .map_err(pg_error)?;
    }
    if !batch.requests.is_empty() {
        let mut rows = Rows::default();
        let mut owners: Vec<Option<String>> = Vec::new();
        for (id, record, bytes) in batch.requests {
            owners.push(
                record
                    .sealed_private_key
                    .is_some()
                    .then(|| record.owner.clone()),
            );
            rows.push(id, request_state(record.state), &record, bytes);
        }
        client
            .execute(
                "INSERT INTO otsd_requests (id, state, due, expires_at, record, owner) \
                 SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], \
                 $4::bigint[], $5::bytea[], $6::text[])",
                &[
                    &rows.ids,
                    &rows.states,
                    &rows.dues,
                    &rows.ends,
                    &rows.records,
                    &owners,
                ],
            )
            .await
            .map_err(pg_error)?;
    }
    if !batch.accounts.is_empty() {
        let (names, records): (Vec<String>, Vec<Vec<u8>>) = batch.accounts.into_iter().unzip();
        // An account of a backup made before extids gets its own at the next
        // start (`schema::give_extids`); one that has it keeps it.
        let extids = records
            .iter()
            .map(|bytes| {
                let account: AccountRecord = decode(bytes)?;
                Ok((!account.extid.is_empty()).then_some(account.extid))
            })
            .collect::<Result<Vec<Option<String>>, StoreError>>()?;
        client
            .execute(
                "INSERT INTO otsd_accounts (name, record, extid) \
                 SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[])",
                &[&names, &records, &extids],
            )
            .await
            .map_err(pg_error)?;
    }
    Ok(())
}

/// Restored rows as columns, for one `unnest` insert.
#[derive(Default)]
struct Rows {
    ids: Vec<i64>,
    states: Vec<i16>,
    dues: Vec<i64>,
    ends: Vec<i64>,
    records: Vec<Vec<u8>>,
}

impl Rows {
    fn push(&mut self, id: i64, state: i16, record: &impl Due, bytes: Vec<u8>) {
        self.ids.push(id);
        self.states.push(state);
        self.dues.push(int(record.due()));
        self.ends.push(int(record.end()));
        self.records.push(bytes);
    }
}

/// What a row's indexed columns are worked out from.
trait Due {
    fn due(&self) -> u64;
    fn end(&self) -> u64;
}

impl Due for SecretRecord {
    fn due(&self) -> u64 {
        SecretRecord::due(self)
    }
    fn end(&self) -> u64 {
        self.expires_at
    }
}

impl Due for RequestRecord {
    fn due(&self) -> u64 {
        RequestRecord::due(self)
    }
    fn end(&self) -> u64 {
        self.expires_at
    }
}
