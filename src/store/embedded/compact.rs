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
//! It runs when the data directory is at least `compact_above` bytes and holds
//! at least [`RATIO`] times the bytes of its entries: when the database is
//! opened, before anything is served, and in the running server when the
//! reaper asks after its sweeps ([`SledStore::compact_if_worth_it`]). In the running
//! server writes are paused for the copy (they wait, they do not fail; reads go
//! on from the old database), then new reads wait a moment while the old
//! database closes and the new one opens in its place.

use std::ops::ControlFlow;
use std::path::Path;

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::copy::{self, Filler, Noting};
use super::durable::Flusher;
use super::open::{self, COMPACTING};
use super::{Open, SledStore, StoreError};

/// A database this many times larger than its entries is compacted, if that
/// frees at least half of `compact_above`. A fresh copy takes 2.4–3 times its
/// entries for hundreds of thousands of secrets (a restore: 178 MiB for a 75
/// MiB backup) and up to 4 times for a few MiB (sled's segments): at 4 alone a
/// compaction of 8 MiB came out at 8 MiB, and at 8 alone a database left at 4.2
/// times its entries by churn (370 MiB, scale run 8) was never compacted again.
const RATIO: u64 = 4;
/// What a fresh copy is expected to take, in times its entries.
const COPY_TAKES: u64 = 3;
/// The running server's database is checked at least at every this many
/// sweeps (10 minutes with the default 30-second reaper interval).
const CHECK_EVERY: u32 = 20;
/// ... and once the sweeps since the last check removed this many entries.
const CHECK_AFTER_REMOVALS: usize = 100_000;

/// What happened since the last compaction check of the running server.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Checked {
    /// The data directory's size then.
    pub(super) size: u64,
    calls: u32,
    removed: usize,
}

impl Checked {
    pub(super) fn at(size: u64) -> Self {
        Self {
            size,
            ..Self::default()
        }
    }
}

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
    if live >= enough || on_disk.saturating_sub(live * COPY_TAKES) < compact_above / 2 {
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
    if let Err(err) = open::exchange(&staging, path) {
        // The old database is still whole at `path` (a file system without
        // RENAME_EXCHANGE, say): go on with it.
        log::warn!("compaction not possible here ({err}); going on with the database as it is");
        let _ = std::fs::remove_dir_all(&staging);
    }
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

impl SledStore {
    /// Compacts the running database if churn left it mostly empty (see the
    /// module's comment); `true` if it did. Meant to be called after each of the
    /// reaper's sweeps, and cheap when there is nothing to do: it looks at the
    /// data directory's size, and walks the entries (at most a quarter of that
    /// size) only when the size has doubled since the last check, when the
    /// sweeps since have `removed` `CHECK_AFTER_REMOVALS` entries, at the
    /// first sweep that removes nothing after some did (a burst of expiries has
    /// just ended), or at every `CHECK_EVERY`th call.
    pub fn compact_if_worth_it(&self, removed: usize) -> Result<bool, StoreError> {
        let above = self.options.compact_above_bytes;
        if self
            .compaction_off
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(false);
        }
        let size = size_of(&self.path).map_err(|e| open::error(&self.path, e))?;
        {
            let mut checked = self.checked_size.lock().unwrap_or_else(|e| e.into_inner());
            let since = &mut *checked;
            since.calls += 1;
            let burst_ended = removed == 0 && since.removed > 0;
            since.removed += removed;
            let due = size >= since.size.saturating_mul(2)
                || since.removed >= CHECK_AFTER_REMOVALS
                || burst_ended
                || since.calls >= CHECK_EVERY;
            if size < above || !due {
                return Ok(false);
            }
            *since = Checked::at(size);
        }
        if !worth_it(&self.current()?.db, &self.path, above)? {
            return Ok(false);
        }
        let compacted = self.compact_running()?;
        *self.checked_size.lock().unwrap_or_else(|e| e.into_inner()) =
            Checked::at(size_of(&self.path).unwrap_or(0));
        Ok(compacted)
    }

    /// The compaction of the running database; `false` if it was abandoned.
    fn compact_running(&self) -> Result<bool, StoreError> {
        let path = self.path.as_path();
        let cache_bytes = self.options.cache_bytes;
        let started = Instant::now();
        let before = size_of(path).unwrap_or(0);
        let old = self.current()?;
        // Writes go on while the copy is made; the keys they change are noted
        // and copied again once writes are paused for the swap.
        let noting = Noting::start(self);
        let mut paused = None;
        let staged = open::stage(path, COMPACTING, cache_bytes, |fresh| {
            let filler = Filler::new(fresh, 0)?;
            copy::read_all(&old.db, &mut |part, key, value| {
                filler.put(part, key, value)
            })?;
            // The bulk of it on disk before writes pause: the flush of the
            // staged database after the pause then has only the changed keys.
            fresh.flush()?;
            let guard = self.pause_writes();
            let changed = self.changes.finish();
            for (part, key) in &changed {
                filler.set(*part, key, old.get(*part, key)?.as_deref())?;
            }
            // Ids are issued under the gate too: none after this one.
            filler.set_floor(copy::next_id(&old.db, old.id_floor)?)?;
            paused = Some((guard, changed.len(), started.elapsed()));
            Ok(())
        });
        drop(noting);
        let staging = match staged {
            Ok(staging) => staging,
            Err(err) => {
                drop(paused);
                return Err(err);
            }
        };
        let Some((_paused, changed, copied)) = paused else {
            return Err(StoreError::Corrupt);
        };
        let pause_began = copied;
        let mut slot = self.slot.write().unwrap_or_else(|e| e.into_inner());
        // Readers that took the old database before the lock finish with it;
        // the commit thread may be in a flush of it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Arc::strong_count(&old) > 2 {
            if Instant::now() > deadline {
                log::warn!("compaction abandoned: the old database is still in use");
                drop(slot);
                let _ = std::fs::remove_dir_all(&staging);
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(old);
        *slot = None;
        let reopened = open::wait_until_released(path)
            .and_then(|()| open::exchange(&staging, path).map_err(|e| open::error(path, e)))
            .and_then(|()| self.reopen(path, cache_bytes));
        match reopened {
            Ok(open) => {
                *slot = Some(Arc::new(open));
                drop(slot);
                crate::memory::trim_heap();
                log::info!(
                    "compacted the running database from {} MiB to {} MiB: the copy took \
                     {} ms while writes went on, then writes waited {} ms ({changed} keys \
                     copied again and the swap)",
                    before >> 20,
                    size_of(path).unwrap_or(0) >> 20,
                    pause_began.as_millis(),
                    (started.elapsed() - pause_began).as_millis()
                );
                Ok(true)
            }
            Err(err) => {
                // Whatever is at `path` is a whole database (the old one if the
                // exchange failed, the new one otherwise): try it once more.
                log::error!("reopening after a compaction failed ({err}); trying again");
                let _ = std::fs::remove_dir_all(&staging);
                // A file system without RENAME_EXCHANGE fails the same way at
                // every try: do not copy again.
                self.compaction_off
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                match self.reopen(path, cache_bytes) {
                    Ok(open) => {
                        *slot = Some(Arc::new(open));
                        Ok(false)
                    }
                    Err(again) => {
                        // No database: every operation fails, and the server
                        // stops to be restarted (see `app::Application::run_until`).
                        self.failure.set();
                        Err(again)
                    }
                }
            }
        }
    }

    fn reopen(&self, path: &Path, cache_bytes: u64) -> Result<Open, StoreError> {
        let db = open::reopen_created(path, cache_bytes)?;
        let (flusher, _) = Flusher::new(db.clone(), path, Arc::clone(&self.failure))
            .map_err(|e| open::error(path, e))?;
        Open::new(db, flusher)
    }
}

/// The bytes of the files in `dir` and below.
pub(super) fn size_of(dir: &Path) -> std::io::Result<u64> {
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
    use super::super::{Options, SledStore};
    use super::*;
    use crate::crypto::RecordId;

    const NOW: u64 = 1_000_000;

    fn open(path: &Path) -> SledStore {
        let options = Options {
            cache_bytes: 1 << 20,
            compact_above_bytes: 1 << 20,
            ..Options::default()
        };
        SledStore::open_with(path, &options).unwrap()
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

    /// Writers run all through a compaction of the running store: every record
    /// written before they stop is in the compacted database, in the state its
    /// last acknowledged change left, and nothing else is.
    #[test]
    fn writes_made_while_the_running_store_compacts_are_all_in_the_new_database() {
        use super::super::Settlement;
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = open(&path);
        for _ in 0..4_000 {
            let id = store.new_id().unwrap();
            store.insert(id, &sample_record(NOW, 10, 4096)).unwrap();
        }
        for _ in 0..2_000 {
            let id = store.new_id().unwrap();
            store.insert(id, &sample_record(NOW, 1_000, 64)).unwrap();
        }
        while store.purge_expired(NOW + 100, 10_000).unwrap() > 0 {}

        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (store, stop) = (store.clone(), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let mut written = Vec::new();
                    while !stop.load(Ordering::SeqCst) && written.len() < 20_000 {
                        let id = store.new_id().unwrap();
                        store.insert(id, &sample_record(NOW, 1_000, 64)).unwrap();
                        let settle = written.len() % 2 == 0;
                        if settle {
                            let read = store.get(id, NOW).unwrap().unwrap();
                            assert!(
                                store
                                    .settle(&read, NOW, Settlement::Received)
                                    .unwrap()
                                    .is_some()
                            );
                        }
                        written.push((id, settle));
                    }
                    written
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        let compacted = store.compact_if_worth_it(0).unwrap() || {
            // A check is due at the first call only if the size doubled.
            (0..CHECK_EVERY).any(|_| store.compact_if_worth_it(0).unwrap())
        };
        assert!(compacted, "the store was worth compacting");
        std::thread::sleep(Duration::from_millis(20));
        stop.store(true, Ordering::SeqCst);
        let written: Vec<(RecordId, bool)> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        assert!(written.len() > 10, "the writers ran: {}", written.len());
        assert!(!dir.path().join("db.compact").exists());
        for (id, settled) in &written {
            let stored = store.get(*id, NOW).unwrap().expect("every written record");
            assert_eq!(
                stored.record.sealed_value.is_none(),
                *settled,
                "record {id:?}"
            );
        }
        let (unread, records) = store.counts().unwrap();
        let settled = written.iter().filter(|(_, s)| *s).count();
        assert_eq!(records, 2_000 + written.len());
        assert_eq!(unread, 2_000 + written.len() - settled);
        let max = written.iter().map(|(id, _)| id.get()).max().unwrap();
        assert!(store.new_id().unwrap().get() > max, "ids never repeat");
        store.close().unwrap();
        drop(store);

        // And it is all on disk.
        let store = open(&path);
        assert_eq!(store.counts().unwrap(), (unread, records));
    }
}
