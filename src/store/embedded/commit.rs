//! Group commit: many requests share one `flush` (one fsync) of the sled log.
//!
//! A request writes to sled (memory), then queues a waiter and sleeps. A dedicated
//! thread takes *every* waiter queued so far, flushes once, and wakes them all. A
//! write made before its waiter was queued is in memory before that flush starts, so
//! the flush covers it: "durable when the wait returns Ok". Under load, the waiters of
//! one flush pile up while the previous flush runs, so one fsync serves dozens of
//! requests instead of each paying for its own; a short gathering pause before each
//! flush lets the batch fill even when the request workers and the committer share
//! one core.
//!
//! # Whose thread this is
//!
//! The committer is the store's own thread, not the server's: the store is a
//! layer below the server and is also opened without one (`otsd user` while
//! no server runs, `otsd backup`, `otsd restore`, tests), and every one of
//! those needs its commits flushed. So the store starts it when it opens and
//! stops it when it closes ([`SledStore::close`](super::SledStore::close), or the drop
//! of its last handle), serving the waiters still queued first: one place, one
//! way, for the store's layer, just as the server's
//! [`Supervisor`](crate::supervisor::Supervisor) is for the threads the server
//! starts. Its `Condvar` is not a second way to stop it but how it gathers a
//! batch: a new waiter, or the close, wakes it.
//!
//! A panic in it is caught here (every waiter, now and later, is refused
//! rather than left waiting); the server sees it through
//! [`SledStore::is_committing`](super::SledStore::is_committing) and stops.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

use super::Slot;
use super::tally::Tally;

/// How long the committer waits for more requests to join a batch: it flushes
/// once a pause passes with no new waiter, or after `MAX_GATHER` at most. The pause
/// must be longer than a request takes to reach its wait, or a busy server flushes
/// for a handful of waiters at a time. In create runs with a 128 MiB cache, 50 µs
/// gave about 22 creates per flush and 400–800 µs about 48–55, with about 20%
/// more creates per second. A lone write on an idle server does not wait at all
/// (see `run`).
const GATHER_PAUSE: Duration = Duration::from_micros(500);
const MAX_GATHER: Duration = Duration::from_millis(2);

#[derive(Default)]
struct Queue {
    waiters: Vec<oneshot::Sender<bool>>,
    closed: bool,
    /// The committer is asleep on `wake` (not flushing or gathering). Only then does
    /// a new waiter signal it: std's `notify_one` is a `futex` call even when no
    /// thread waits, and `strace -c` of the worker showed one per create.
    idle: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

pub(super) struct GroupCommit {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl GroupCommit {
    pub(super) fn start(slot: Slot, tally: Arc<Tally>) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("otsd-commit".into())
            .spawn(move || {
                // Should a flush ever panic, fail every waiter (now and later)
                // rather than leave requests waiting for a thread that is gone.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run(&worker, &slot, &tally)
                }));
                let mut queue = lock(&worker.queue);
                queue.closed = true;
                queue.waiters.clear(); // dropped senders wake their waiters with `false`
                drop(queue);
                if outcome.is_err() {
                    log::error!("the commit thread failed; writes are refused from now on");
                }
            })?;
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Resolves once everything written before the call is on disk. `false` when the
    /// flush failed or the committer has stopped.
    pub(super) async fn wait(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        let idle = {
            let mut queue = lock(&self.shared.queue);
            if queue.closed {
                return false;
            }
            queue.waiters.push(tx);
            queue.idle
        };
        if idle {
            self.shared.wake.notify_one();
        }
        rx.await.unwrap_or(false)
    }

    /// Whether the committer thread is still there to serve waiters.
    pub(super) fn is_running(&self) -> bool {
        lock(&self.thread)
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
            && !lock(&self.shared.queue).closed
    }

    /// Serves the waiters still queued, then stops the thread.
    pub(super) fn stop(&self) {
        lock(&self.shared.queue).closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(shared: &Shared, slot: &Slot, tally: &Tally) {
    let (mut flushes, mut served) = (0u64, 0u64);
    let mut last_batch = 1;
    loop {
        let mut queued = {
            let mut queue = lock(&shared.queue);
            while queue.waiters.is_empty() && !queue.closed {
                queue.idle = true;
                queue = shared.wake.wait(queue).unwrap_or_else(|e| e.into_inner());
                queue.idle = false;
            }
            if queue.waiters.is_empty() {
                log::debug!("group commit: {flushes} flushes for {served} writes");
                return; // closed and drained
            }
            queue.waiters.len()
        };
        // Let the batch fill while it still grows: each flush costs sled several
        // thread wake-ups and a disk write, so one per request would dominate.
        // A lone write after a lone write means an idle server: flush at once
        // rather than add a pause to its latency.
        let gathering = Instant::now();
        while (queued > 1 || last_batch > 1) && gathering.elapsed() < MAX_GATHER {
            std::thread::sleep(GATHER_PAUSE);
            let now = lock(&shared.queue).waiters.len();
            if now == queued {
                break;
            }
            queued = now;
        }
        let batch = std::mem::take(&mut lock(&shared.queue).waiters);
        let flushing = Instant::now();
        // The database as it is now: a compaction may have replaced it since
        // the last flush (writes made before it were flushed by it).
        let flushed = super::current(slot).and_then(|open| open.flusher.flush());
        crate::telemetry::observe(&tally.flush, flushing.elapsed());
        tally.batch.observe(batch.len() as f64);
        let ok = match flushed {
            Ok(_) => true,
            Err(err) => {
                log::error!("flushing the database failed: {err}");
                false
            }
        };
        flushes += 1;
        served += batch.len() as u64;
        last_batch = batch.len();
        for waiter in batch {
            let _ = waiter.send(ok);
        }
    }
}

/// A poisoned lock only means another thread panicked while holding it; the queue is
/// still consistent (a Vec and a bool), so keep going rather than cascade the panic.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
