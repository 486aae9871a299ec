//! Compaction at start-up: a database that churn left mostly empty is copied
//! into a fresh one, which takes its place.
//!
//! sled 0.34 reuses the segments that removals free but gives disk back only by
//! truncating free segments at the end of its file, and a few live pages near
//! the end keep the whole file: after 1,000,000 secrets were created and expired,
//! 926–965 MiB stayed on disk for no live secret, and sled, which reads its whole
//! log when it opens, then held 127–134 MiB of memory after a restart
//! (`docs/performance.md`). sled has no call that compacts. A fresh database
//! holding the same entries (see `copy`) is as small as what is live.
//!
//! It runs when the database is opened, before anything is served, so nothing
//! has to be paused: when the data directory is at least `compact_above` bytes
//! and holds at least [`RATIO`] times the bytes of its entries.

use std::ops::ControlFlow;
use std::path::Path;

use super::StoreError;
use super::copy::{self, Filler};
use super::open::{self, COMPACTING};

/// A database this many times larger than its entries is compacted.
const RATIO: u64 = 4;

/// Whether `db` (opened at `path`) is worth compacting; reads at most a quarter
/// of the data directory's size in entries.
pub(super) fn worth_it(db: &sled::Db, path: &Path, compact_above: u64) -> Result<bool, StoreError> {
    let on_disk = size_of(path).map_err(|e| open::error(path, e))?;
    if on_disk < compact_above {
        return Ok(false);
    }
    let mut live = 0u64;
    let enough = on_disk / RATIO;
    copy::read_all(db, &mut |_, key, value| {
        live += (key.len() + value.len()) as u64;
        Ok(if live >= enough {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })?;
    if live >= enough {
        return Ok(false);
    }
    log::info!(
        "compacting the database: {} MiB on disk for {} KiB of entries",
        on_disk >> 20,
        live >> 10
    );
    Ok(true)
}

/// Copies `db` into a fresh database and puts that in its place; returns it,
/// open. `db` is closed on the way (the caller's other handles must be gone).
pub(super) fn compact(db: sled::Db, path: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    let before = size_of(path).unwrap_or(0);
    let next = copy::next_id(&db, copy::id_floor(&db)?)?;
    let staging = open::stage(path, COMPACTING, cache_bytes, |fresh| {
        let filler = Filler::new(fresh, next)?;
        copy::read_all(&db, &mut |part, key, value| filler.put(part, key, value))?;
        Ok(())
    })?;
    drop(db);
    open::wait_until_released(path)?;
    open::exchange(&staging, path).map_err(|e| open::error(path, e))?;
    let db = open::reopen_created(path, cache_bytes)?;
    crate::memory::trim_heap();
    log::info!(
        "compacted the database from {} MiB to {} MiB in {} ms",
        before >> 20,
        size_of(path).unwrap_or(0) >> 20,
        started.elapsed().as_millis()
    );
    Ok(db)
}

/// The bytes of the files in `dir` and below.
fn size_of(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            size_of(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::super::secrets::sample_record;
    use super::super::{Options, Store};
    use super::*;

    const NOW: u64 = 1_000_000;

    fn open(path: &Path) -> Store {
        let options = Options {
            cache_bytes: 1 << 20,
            compact_above_bytes: 1 << 20,
            ..Options::default()
        };
        Store::open_with(path, &options).unwrap()
    }

    #[test]
    fn a_database_emptied_by_churn_is_compacted_when_opened_and_keeps_what_is_live() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = open(&path);
        store.set_key_check(&[5; 32]).unwrap();
        for _ in 0..3_000 {
            let id = store.new_id().unwrap();
            store.insert(id, &sample_record(NOW, 10, 4096)).unwrap();
        }
        let mut kept = Vec::new();
        for _ in 0..5 {
            let id = store.new_id().unwrap();
            store.insert(id, &sample_record(NOW, 1_000, 4096)).unwrap();
            kept.push(id);
        }
        while store.purge_expired(NOW + 100, 10_000).unwrap() > 0 {}
        assert_eq!(store.counts().unwrap(), (5, 5));
        store.close().unwrap();
        drop(store);
        let churned = size_of(&path).unwrap();
        assert!(churned > 8 << 20, "the churn left {churned} bytes");

        let store = open(&path);
        let compacted = size_of(&path).unwrap();
        assert!(
            compacted * 4 < churned,
            "{churned} bytes became {compacted}"
        );
        assert!(!dir.path().join("db.compact").exists());
        assert_eq!(store.counts().unwrap(), (5, 5));
        for id in &kept {
            assert!(store.get(*id, NOW).unwrap().is_some());
        }
        assert_eq!(store.key_check().unwrap(), Some([5; 32]));
        let fresh = store.new_id().unwrap();
        assert!(fresh.get() > kept[4].get(), "ids never repeat");
        store.close().unwrap();
        drop(store);

        // A database of what is live is left as it is.
        let store = open(&path);
        assert_eq!(size_of(&path).unwrap() >> 20, compacted >> 20);
        assert!(store.new_id().unwrap().get() > fresh.get());
    }
}
