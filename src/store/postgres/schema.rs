//! The schema: versioned migrations built into the binary, applied at start
//! under an advisory lock, so that of two nodes starting together one
//! migrates and the other waits, then finds nothing left to do. A database
//! whose schema is newer than this otsd knows is refused, naming both
//! versions (an older otsd must not write into a layout it does not know).
//!
//! The tables hold what sled holds, row for row:
//! - `otsd_secrets`: one row per secret (with its receipt). `record` is the
//!   sealed record, byte for byte as sled stores it; beside it, what the
//!   statements decide on: `version` (every change adds one: a change is made
//!   only from the version read), `state`, `due` (when the reaper next acts,
//!   indexed), `expires_at`, `owner` (only for records an account can list,
//!   indexed with the id) and `guesses` (wrong passphrases, counted with the
//!   secret so that the limit holds across every node).
//! - `otsd_requests`: the same for requests for a secret.
//! - `otsd_accounts`: the name → the record (a keyed hash of the token), and
//!   the account's extid (unique; also in the record).
//! - `otsd_sessions`: web sessions, under a keyed hash of their cookie.
//! - `otsd_meta`: the master key check.
//! - `otsd_ids`: the one sequence of record ids (secrets and requests).

use tokio_postgres::Client;

use super::super::records::{decode, encode};
use super::super::{AccountRecord, StoreError};
use super::pg_error;

/// The schema this otsd writes and reads.
pub const SCHEMA_VERSION: i32 = 4;

/// Taken while migrating: the first 8 bytes of "otsd sch" as a number.
const MIGRATION_LOCK: i64 = 0x6f74_7364_2073_6368;

/// Migration `n` is `MIGRATIONS[n - 1]`; each runs in its own transaction with
/// the version it brings.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE otsd_meta (
        name text PRIMARY KEY,
        value bytea NOT NULL
    );
    CREATE SEQUENCE otsd_ids AS bigint MINVALUE 1;
    CREATE TABLE otsd_secrets (
        id bigint PRIMARY KEY,
        version bigint NOT NULL DEFAULT 0,
        state smallint NOT NULL,
        due bigint NOT NULL,
        expires_at bigint NOT NULL,
        owner text,
        guesses integer NOT NULL DEFAULT 0,
        record bytea NOT NULL
    );
    CREATE INDEX otsd_secrets_due ON otsd_secrets (due);
    CREATE INDEX otsd_secrets_owner ON otsd_secrets (owner, id) WHERE owner IS NOT NULL;
    CREATE TABLE otsd_requests (
        id bigint PRIMARY KEY,
        version bigint NOT NULL DEFAULT 0,
        state smallint NOT NULL,
        due bigint NOT NULL,
        expires_at bigint NOT NULL,
        record bytea NOT NULL
    );
    CREATE INDEX otsd_requests_due ON otsd_requests (due);
    CREATE TABLE otsd_accounts (
        name text PRIMARY KEY,
        record bytea NOT NULL
    );
",
    "
    -- Room on each page for a reveal's or a burn's new row version, so that
    -- it is written in place (a HOT update: no new index entries).
    ALTER TABLE otsd_secrets SET (fillfactor = 80);
    ALTER TABLE otsd_requests SET (fillfactor = 80);
",
    "
    -- Records of format 3 (API v2's fields; an older otsd cannot read them),
    -- and each account's extid, the name the official client sends: unique,
    -- looked up at every request that sends one. Accounts made before get
    -- theirs right after the migration (see `give_extids`).
    ALTER TABLE otsd_accounts ADD COLUMN extid text UNIQUE;
",
    "
    -- Web sessions, shared by every node: a keyed hash of the cookie → the
    -- session, and when it ends (the earlier of its idle and absolute ends).
    CREATE TABLE otsd_sessions (
        id bytea PRIMARY KEY,
        ends_at bigint NOT NULL,
        record bytea NOT NULL
    );
    CREATE INDEX otsd_sessions_ends ON otsd_sessions (ends_at);
    -- The account a request was made by (set only while it exists, cleared
    -- when it is removed), for the account's own page.
    ALTER TABLE otsd_requests ADD COLUMN owner text;
    CREATE INDEX otsd_requests_owner ON otsd_requests (owner, id) WHERE owner IS NOT NULL;
",
];

/// Brings the schema up to [`SCHEMA_VERSION`] under the migration lock;
/// refuses a newer one. Returns the version found before.
pub(super) async fn migrate(client: &mut Client) -> Result<i32, StoreError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_error)?;
    let result = migrate_locked(client).await;
    // Released also when the work failed; a lost connection releases it too.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    result
}

async fn migrate_locked(client: &mut Client) -> Result<i32, StoreError> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS otsd_schema (version integer NOT NULL)")
        .await
        .map_err(pg_error)?;
    let found: i32 = client
        .query_one("SELECT coalesce(max(version), 0) FROM otsd_schema", &[])
        .await
        .map_err(pg_error)?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(StoreError::Schema(format!(
            "the PostgreSQL database has schema version {found}, newer than this otsd's \
             {SCHEMA_VERSION}: a newer otsd has used it; run that version (or newer) on \
             every node"
        )));
    }
    for version in found + 1..=SCHEMA_VERSION {
        let Some(sql) = usize::try_from(version - 1)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
        else {
            break;
        };
        let tx = client.transaction().await.map_err(pg_error)?;
        tx.batch_execute(sql).await.map_err(pg_error)?;
        tx.execute("DELETE FROM otsd_schema", &[])
            .await
            .map_err(pg_error)?;
        tx.execute("INSERT INTO otsd_schema (version) VALUES ($1)", &[&version])
            .await
            .map_err(pg_error)?;
        tx.commit().await.map_err(pg_error)?;
        log::info!("PostgreSQL schema migrated to version {version}");
    }
    give_extids(client).await?;
    Ok(found)
}

/// Gives every account without an extid (made before schema 3, or restored
/// from a backup of that time) a fresh one, in its record and its column.
/// Under the migration lock, so two nodes starting together give one each.
async fn give_extids(client: &mut Client) -> Result<(), StoreError> {
    let rows = client
        .query(
            "SELECT name, record FROM otsd_accounts WHERE extid IS NULL",
            &[],
        )
        .await
        .map_err(pg_error)?;
    for row in &rows {
        let name: String = row.get(0);
        let mut record: AccountRecord = decode(row.get(1))?;
        if record.extid.is_empty() {
            record.extid = crate::store::new_extid();
        }
        client
            .execute(
                "UPDATE otsd_accounts SET record = $2, extid = $3 WHERE name = $1",
                &[&name, &encode(&record)?, &record.extid],
            )
            .await
            .map_err(pg_error)?;
    }
    if !rows.is_empty() {
        log::info!(
            "gave {} their extid (the name the official client sends)",
            crate::format::count(rows.len() as u64, "account", "accounts")
        );
    }
    Ok(())
}
