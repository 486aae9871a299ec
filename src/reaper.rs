//! The background task that deletes expired secrets and receipts.
//!
//! Reads never serve an expired record whether or not the reaper has run; the reaper
//! is about reclaiming space, so a plain periodic sweep over the expiry index (time
//! ordered, so each sweep reads only what is due) is enough. It runs on its own
//! thread because sled calls block (and PostgreSQL's are waited for there).

use std::time::Duration;

use crate::clock::unix_now;
use crate::store::Store;
use crate::supervisor::Shutdown;

/// How many index entries one sweep step handles before checking for shutdown.
const BATCH: usize = 1000;
/// Steps after which a long sweep hands freed heap memory back. Without it, a
/// sweep of 200,000 records that expired together left the process 24 MiB larger
/// (`malloc_trim` gave it back), and one of 1,000,000 peaked at 168–188 MiB.
const TRIM_EVERY: usize = 64;

/// Sweeps every `interval` until `shutdown` says stop, which it heeds also
/// mid-sweep, between batches. Runs on a thread of the server's
/// [`Supervisor`](crate::supervisor::Supervisor).
pub fn run(store: &Store, interval: Duration, shutdown: &Shutdown) {
    while !shutdown.wait_timeout(interval) {
        if !sweep(store, shutdown) {
            return;
        }
    }
}

/// Removes everything due; returns `false` when asked to stop meanwhile.
/// Skipped while the database cannot write (it refuses everything until it is
/// reopened, and the failure was logged once): every read checks expiry
/// itself, so nothing expired is served meanwhile.
fn sweep(store: &Store, shutdown: &Shutdown) -> bool {
    if !store.is_available() {
        return true;
    }
    let started = std::time::Instant::now();
    let mut total = 0;
    let mut keep_running = true;
    loop {
        match crate::store::block_on(store.purge_expired(unix_now(), BATCH)) {
            Ok(n) => {
                total += n;
                if n < BATCH {
                    break;
                }
                if total % (BATCH * TRIM_EVERY) == 0 {
                    crate::memory::trim_heap();
                }
                if shutdown.is_stopping() {
                    keep_running = false;
                    break;
                }
            }
            Err(err) => {
                log::error!("removing expired records failed: {err}");
                store.note(&err);
                break;
            }
        }
    }
    if total >= BATCH {
        crate::memory::trim_heap();
    }
    if total > 0 {
        log::debug!(
            "reaper handled {total} expiry entries in {:.3} s",
            started.elapsed().as_secs_f64()
        );
    }
    // What the sweeps freed, sled keeps in its file: a database that churn left
    // mostly empty is compacted (cheap to ask: see `Store::compact_if_worth_it`).
    if keep_running && let Err(err) = store.compact_if_worth_it(total) {
        log::error!("compacting the database failed: {err}");
        store.note(&err);
    }
    keep_running
}
