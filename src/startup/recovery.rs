//! The `otsd-recovery` thread: a database that failed (a full disk) is
//! reopened in place once the disk has room again, and a dead commit thread
//! stops the server.

use std::path::Path;
use std::time::Duration;

use crate::store::Store;
use crate::supervisor::Shutdown;

/// Watches the store until `shutdown` says stop. A database that failed is
/// reopened in place once the disk at `data_dir` has room
/// ([`Store::reopen_after_failure`]). Looks for a failure every
/// [`WATCH_POLL`] (one atomic load) and then for room every [`ROOM_POLL`] (one
/// `statvfs`); a reopening that fails is tried again after a pause that
/// doubles from [`RETRY_FIRST`] up to [`RETRY_MAX`], so a disk that keeps
/// failing is not hammered and the log says so a few times, not every second.
///
/// A commit thread that died (it panicked: it stops otherwise only when the
/// store closes, after this thread) leaves a store that acknowledges nothing:
/// that stops the server, like a panic of one of its own threads.
pub(super) fn recover(store: &Store, data_dir: &Path, shutdown: &Shutdown) {
    while !shutdown.wait_timeout(WATCH_POLL) {
        if !store.is_committing() {
            log::error!("the database's commit thread has stopped; stopping the server");
            shutdown.fail("otsd-commit");
            return;
        }
        if !store.has_failed() {
            continue;
        }
        log::error!(
            "the database cannot write (a full disk?): sled refuses every operation until \
             it is reopened, so creates, reveals and burns are refused (503) meanwhile; \
             otsd reopens it once the disk at {} has room again",
            data_dir.display()
        );
        let mut pause = RETRY_FIRST;
        loop {
            // Never at once, even with room: a write that reached the failed
            // database just before it failed has its wait for the flush
            // queued (and refused) well within this pause, and none of it
            // is taken for a write to the reopened one.
            if shutdown.wait_timeout(ROOM_POLL) {
                return;
            }
            if !has_room(data_dir) {
                continue;
            }
            // sled panics on some damage; a reopening that does is retried
            // like one that fails.
            let reopened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                store.reopen_after_failure()
            }));
            match reopened {
                Ok(Ok(())) => {
                    log::warn!("the disk has room again: reopened the database, serving again");
                    break;
                }
                Ok(Err(err)) => log::error!(
                    "reopening the database failed ({}); trying again in {} s",
                    crate::error::report(&err),
                    pause.as_secs()
                ),
                Err(_) => log::error!("reopening the database failed (it panicked)"),
            }
            if shutdown.wait_timeout(pause) {
                return;
            }
            pause = (pause * 2).min(RETRY_MAX);
        }
    }
}

/// How often the store is checked for a failure.
const WATCH_POLL: Duration = Duration::from_millis(100);
/// How often a failed server looks for room on the disk.
const ROOM_POLL: Duration = Duration::from_secs(1);
/// The pause after the first reopening that failed, and the longest.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// Free space that counts as room again: enough for sled to open the database
/// again and write its first segments.
const ROOM: u64 = 8 << 20;

/// Whether the file system of `dir` has [`ROOM`] free for this user.
fn has_room(dir: &Path) -> bool {
    match rustix::fs::statvfs(dir) {
        Ok(stats) => stats.f_bavail.saturating_mul(stats.f_frsize) >= ROOM,
        Err(_) => true, // cannot tell: let the restart find out
    }
}
