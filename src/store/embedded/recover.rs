//! Reopening the database in place after it failed (see [`Failure`]).
//!
//! sled 0.34 keeps the first I/O error of its log writer and refuses every
//! later operation; only a fresh `sled::Db` over the same directory writes
//! again. The running server does that itself, the way a compaction swaps a
//! database under it (`compact`): with writes paused and the slot locked, the
//! failed database is dropped, its directory opened again, and the new one put
//! in the slot. Until then the store refuses everything as
//! [`StoreError::Unavailable`] (`SledStore::current`), so nothing is read from or
//! written to the failed database meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::durable::{Flusher, Found};
use super::{Open, SledStore, StoreError, open};

/// How long a reopening waits for those still holding the failed database
/// (a flush in progress fails fast; a read was refused before it began).
const RELEASE_LIMIT: Duration = Duration::from_secs(10);

impl SledStore {
    /// Replaces a failed database with the same directory opened again, then
    /// clears the [`super::Failure`]: `Ok` when the store writes again (or had not
    /// failed). Blocking (it waits for sled to let go of the directory);
    /// call it once the disk has room, and again later if it fails.
    ///
    /// Nothing acknowledged is lost: every acknowledged change was flushed
    /// before the failure, and the reopened database must have every commit
    /// the commit mark counted (`durable::Mark`), or it is refused as
    /// [`StoreError::LostCommits`] and the store stays unavailable (a loss
    /// only an operator may accept, with `--accept-data-loss` at a start).
    /// What was written but not acknowledged when the flush failed is gone
    /// with the failed database's memory: a reveal whose record could not be
    /// recorded was never shown, so its secret is there to reveal again.
    pub fn reopen_after_failure(&self) -> Result<(), StoreError> {
        if !self.failure.is_set() {
            return Ok(());
        }
        let path = self.path.as_path();
        // No write starts on either database while they are swapped.
        let _paused = self.pause_writes();
        let mut slot = self.slot.write().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = slot.as_ref() {
            let deadline = Instant::now() + RELEASE_LIMIT;
            while Arc::strong_count(old) > 1 {
                if Instant::now() > deadline {
                    return Err(StoreError::Unavailable);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        // The failed database goes; sled releases its directory a moment later.
        *slot = None;
        open::wait_until_released(path)?;
        let db = open::open_database(path, self.options.cache_bytes)?;
        let (flusher, found) = Flusher::new(db.clone(), path, Arc::clone(&self.failure))
            .map_err(|e| open::error(path, e))?;
        if let Found::Missing {
            in_database,
            acknowledged,
        } = found
        {
            return Err(StoreError::LostCommits {
                path: path.to_owned(),
                in_database,
                acknowledged,
            });
        }
        *slot = Some(Arc::new(Open::new(db, flusher)?));
        drop(slot);
        self.failure.reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::secrets::sample_record;
    use super::*;

    const NOW: u64 = 1_000_000;

    #[tokio::test]
    async fn a_failed_store_refuses_everything_until_reopened_then_has_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("db"), 1 << 20).unwrap();
        let kept = store.new_id().unwrap();
        store.insert(kept, &sample_record(NOW, 1_000, 64)).unwrap();
        store.commit().await.unwrap();

        store.failure.set();
        assert!(!store.is_available());
        assert!(matches!(store.get(kept, NOW), Err(StoreError::Unavailable)));
        assert!(matches!(store.new_id(), Err(StoreError::Unavailable)));

        store.reopen_after_failure().unwrap();
        assert!(store.is_available());
        assert!(
            store.get(kept, NOW).unwrap().is_some(),
            "the commit is there"
        );
        let fresh = store.new_id().unwrap();
        assert!(fresh.get() > kept.get(), "ids never repeat");
        store.insert(fresh, &sample_record(NOW, 1_000, 64)).unwrap();
        store.commit().await.unwrap();
        store.close().unwrap();
        drop(store);

        let store = SledStore::open(&dir.path().join("db"), 1 << 20).unwrap();
        assert_eq!(store.counts().unwrap().1, 2);
    }
}
