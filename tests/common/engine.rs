//! Which storage engine the suites run on. `OTSD_TEST_STORE=postgres` runs
//! every server a test starts (in-process or the binary) on PostgreSQL: one
//! cluster per test process ([`Cluster::shared`]), a fresh database per data
//! directory; anything else runs them on sled, the default. `.ci/run` runs the
//! API, accounts, request-a-secret and backup suites both ways.
//!
//! A test names its server by its data directory either way: on PostgreSQL
//! the kit remembers which database each data directory was given, so a
//! restart on the same directory finds the same database, and the helpers
//! that open a stopped server's store ([`open_store`]) open the right one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use otsd::store::{PostgresOptions, Store};

use super::postgres::Cluster;

/// The environment variable that picks the engine.
pub const ENGINE_VARIABLE: &str = "OTSD_TEST_STORE";

/// Whether this test process runs its servers on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(ENGINE_VARIABLE).is_ok_and(|v| v == "postgres")
}

/// The database of the server whose data directory is `data_dir`, made on
/// first use; `None` on sled.
pub fn database_url_for(data_dir: &Path) -> Option<String> {
    static URLS: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    if !on_postgres() {
        return None;
    }
    let mut urls = URLS.lock().unwrap_or_else(PoisonError::into_inner);
    let url = urls
        .get_or_insert_with(HashMap::new)
        .entry(data_dir.to_owned())
        .or_insert_with(|| Cluster::shared().new_database());
    Some(url.clone())
}

/// Opens the store of a stopped server whose data directory is `data_dir`:
/// its PostgreSQL database, or the sled database inside the directory.
pub fn open_store(data_dir: &Path) -> Store {
    match database_url_for(data_dir) {
        Some(url) => Store::open_postgres(&PostgresOptions {
            url,
            password: None,
            pool_size: 2,
            connect_wait: std::time::Duration::from_secs(10),
        })
        .expect("the server's PostgreSQL database opens"),
        None => {
            Store::open(&data_dir.join("db"), 1 << 20).expect("the stopped server's database opens")
        }
    }
}

/// What a stopped server's store holds, as a thief would copy it: every file
/// of the sled database, or a `pg_dump` of the PostgreSQL database (with its
/// data). `(where, bytes)` each.
pub fn stored_bytes(data_dir: &Path) -> Vec<(String, Vec<u8>)> {
    if let Some(url) = database_url_for(data_dir) {
        let name = url.rsplit('/').next().expect("a database name").to_owned();
        let dump = Cluster::shared().pg_dump(&name);
        return vec![(format!("pg_dump of {name}"), dump)];
    }
    let mut out = Vec::new();
    let mut pending = vec![data_dir.join("db")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read file");
                out.push((path.display().to_string(), bytes));
            }
        }
    }
    out
}
