//! The one way the server starts and stops its background threads.
//!
//! Every thread the server starts besides actix's own (the admin socket, the
//! reaper with its compaction, the full-disk recovery with its disk-space
//! poll, systemd's watchdog) is spawned by one [`Supervisor`], and sleeps on
//! one [`Shutdown`] token instead of a channel or flag of its own. Stopping is
//! one call, [`Supervisor::shutdown`], which dropping the supervisor also
//! makes, so a server whose start failed half-way, or that is dropped without
//! running, leaves no thread behind holding the database.
//!
//! A thread that panics must not leave the process half alive (serving, with
//! no reaper, or an admin socket nobody answers): the panic is caught, logged
//! with the thread's name, and fires the token as a *failure*, which the
//! server takes as the order to stop accepting, drain and exit non-zero.
//!
//! A leaf: it imports nothing of the crate, so every layer may use it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A thread that panicked, which stopped the others.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {thread} thread panicked")]
pub struct Panicked {
    /// The thread's name, as given to [`Supervisor::spawn`].
    pub thread: String,
}

/// The order to stop, shared by every supervised thread (clones are cheap and
/// all see the same order). Once stopped it stays stopped.
///
/// One order, two ways to wait for it: [`Shutdown::wait_timeout`] for a std
/// thread between two rounds of work, [`Shutdown::stopped`] for async code.
/// A thread blocked in a call the order cannot interrupt (an `accept`)
/// registers an [`Shutdown::on_stop`] hook that wakes it.
#[derive(Clone, Default)]
pub struct Shutdown(Arc<Inner>);

#[derive(Default)]
struct Inner {
    /// Mirrors `State::stopping`, for [`Shutdown::is_stopping`] without a lock.
    stopping: AtomicBool,
    state: Mutex<State>,
    /// Wakes std threads in [`Shutdown::wait_timeout`].
    changed: Condvar,
    /// Wakes async waiters in [`Shutdown::stopped`].
    notify: tokio::sync::Notify,
}

type Hook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    stopping: bool,
    /// The first thread that panicked, if that is why it stopped.
    failed: Option<Panicked>,
    /// Run once, by the call that stops.
    hooks: Vec<Hook>,
}

impl Shutdown {
    /// Orders every thread to stop. Idempotent.
    pub fn stop(&self) {
        self.stop_with(None);
    }

    /// Orders every thread to stop because `thread` failed: [`Shutdown::failed`]
    /// names the first such thread from then on, also when the order to stop
    /// had been given already (a panic while stopping is still a panic). For a thread the supervisor
    /// did not spawn but whose death must end the process just the same (the
    /// store's commit thread).
    pub fn fail(&self, thread: &str) {
        self.stop_with(Some(Panicked {
            thread: thread.to_owned(),
        }));
    }

    fn stop_with(&self, failed: Option<Panicked>) {
        let hooks = {
            let mut state = lock(&self.0.state);
            if state.failed.is_none() {
                state.failed = failed;
            }
            state.stopping = true;
            self.0.stopping.store(true, Ordering::SeqCst);
            std::mem::take(&mut state.hooks)
        };
        self.0.changed.notify_all();
        self.0.notify.notify_waiters();
        for hook in hooks {
            hook();
        }
    }

    /// Whether the order to stop was given. One atomic load: cheap enough for
    /// a loop to ask between two batches of work.
    pub fn is_stopping(&self) -> bool {
        self.0.stopping.load(Ordering::SeqCst)
    }

    /// The thread whose panic gave the order, if one did.
    pub fn failed(&self) -> Option<Panicked> {
        lock(&self.0.state).failed.clone()
    }

    /// Sleeps for `timeout` or until the order to stop, whichever comes first;
    /// `true` when it is time to stop. What every supervised loop sleeps on.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let state = lock(&self.0.state);
        let (state, _) = self
            .0
            .changed
            .wait_timeout_while(state, timeout, |state| !state.stopping)
            .unwrap_or_else(|e| e.into_inner());
        state.stopping
    }

    /// Resolves once the order to stop is given (at once if it was).
    pub async fn stopped(&self) {
        loop {
            // Created before the check: `notify_waiters` wakes a `Notified`
            // from its creation on, so an order given in between is not missed.
            let notified = self.0.notify.notified();
            if self.is_stopping() {
                return;
            }
            notified.await;
        }
    }

    /// Runs `hook` when the order to stop is given (at once if it was), on the
    /// thread that gives it: how a thread blocked where the token cannot reach
    /// it (a socket's `accept`) is woken. Keep it short and non-blocking.
    pub fn on_stop(&self, hook: impl FnOnce() + Send + 'static) {
        let mut state = lock(&self.0.state);
        if state.stopping {
            drop(state);
            hook();
        } else {
            state.hooks.push(Box::new(hook));
        }
    }
}

/// Owns every background thread the server starts, and stops them all.
///
/// Dropping it stops and joins them (see [`Supervisor::shutdown`]).
pub struct Supervisor {
    shutdown: Shutdown,
    threads: Vec<(String, JoinHandle<()>)>,
    join_limit: Duration,
}

impl Supervisor {
    /// A supervisor whose [`Supervisor::shutdown`] waits at most `join_limit`
    /// for its threads to end.
    pub fn new(join_limit: Duration) -> Self {
        Self {
            shutdown: Shutdown::default(),
            threads: Vec::new(),
            join_limit,
        }
    }

    /// The token every thread of this supervisor stops on.
    pub fn token(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Starts `body` on a thread called `name`, handing it the token. A panic
    /// in it is caught and logged, and stops every thread as a failure (see
    /// [`Shutdown::failed`]). `Err` only when the OS refuses a thread.
    pub fn spawn(
        &mut self,
        name: &str,
        body: impl FnOnce(Shutdown) + Send + 'static,
    ) -> std::io::Result<()> {
        let shutdown = self.token();
        let thread_name = name.to_owned();
        let handle = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let token = shutdown.clone();
                if let Err(payload) = catch_unwind(AssertUnwindSafe(move || body(token))) {
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    log::error!(
                        "the {thread_name} thread panicked ({message}); stopping the server"
                    );
                    shutdown.fail(&thread_name);
                }
            })?;
        self.threads.push((name.to_owned(), handle));
        Ok(())
    }

    /// Orders every thread to stop and joins each, waiting at most the join
    /// limit in all: a thread still busy then (a long compaction, a backup
    /// streamed to a slow reader) is logged and left to end with the process.
    /// `Err` names the thread whose panic stopped them, if one did.
    /// Idempotent: a second call only reports again.
    pub fn shutdown(&mut self) -> Result<(), Panicked> {
        self.shutdown.stop();
        let deadline = Instant::now() + self.join_limit;
        let mut joined = Vec::new();
        for (name, handle) in self.threads.drain(..) {
            while !handle.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if handle.is_finished() {
                // A panic was caught inside: the join itself cannot fail.
                let _ = handle.join();
                joined.push(name);
            } else {
                log::warn!(
                    "the {name} thread did not stop within {} s; leaving it to end with \
                     the process",
                    self.join_limit.as_secs()
                );
            }
        }
        if !joined.is_empty() {
            log::info!("background threads stopped: {}", joined.join(", "));
        }
        match self.shutdown.failed() {
            Some(failed) => Err(failed),
            None => Ok(()),
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// A poisoned lock only means a thread panicked while holding it; the state
/// (flags and a list of hooks) is still consistent.
fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    const LIMIT: Duration = Duration::from_secs(10);

    /// A thread that sleeps on the token until told to stop, then takes a
    /// moment to finish (so a stop that did not wait would be seen), and
    /// counts itself out.
    fn patient(ended: &Arc<AtomicUsize>) -> impl FnOnce(Shutdown) + Send + 'static {
        let ended = Arc::clone(ended);
        move |shutdown| {
            while !shutdown.wait_timeout(Duration::from_millis(50)) {}
            std::thread::sleep(Duration::from_millis(100));
            ended.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_thread_that_panics_stops_the_others_and_is_named() {
        let ended = Arc::new(AtomicUsize::new(0));
        let mut supervisor = Supervisor::new(LIMIT);
        supervisor
            .spawn("otsd-test-patient", patient(&ended))
            .unwrap();
        supervisor
            .spawn("otsd-test-panics", |_| panic!("on purpose"))
            .unwrap();
        let token = supervisor.token();

        assert!(
            token.wait_timeout(LIMIT),
            "the panic gave the order to stop"
        );
        assert_eq!(
            token.failed().map(|p| p.thread).as_deref(),
            Some("otsd-test-panics")
        );
        assert_eq!(
            supervisor.shutdown(),
            Err(Panicked {
                thread: "otsd-test-panics".into()
            })
        );
        assert_eq!(ended.load(Ordering::SeqCst), 1, "the other thread ended");
    }

    #[test]
    fn dropping_the_supervisor_stops_and_joins_its_threads() {
        let ended = Arc::new(AtomicUsize::new(0));
        let mut supervisor = Supervisor::new(LIMIT);
        for name in ["otsd-test-a", "otsd-test-b", "otsd-test-c"] {
            supervisor.spawn(name, patient(&ended)).unwrap();
        }
        let token = supervisor.token();

        drop(supervisor);

        assert_eq!(ended.load(Ordering::SeqCst), 3, "every thread was joined");
        assert!(token.is_stopping());
        assert_eq!(token.failed(), None, "a plain stop is no failure");
    }

    #[test]
    fn a_stop_hook_runs_once_when_stopped_or_at_once_if_already_stopped() {
        let runs = Arc::new(AtomicUsize::new(0));
        let token = Shutdown::default();
        let counter = Arc::clone(&runs);
        token.on_stop(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 0);

        token.stop();
        token.fail("otsd-test-late");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "once, by the first stop");
        assert_eq!(
            token.failed().map(|p| p.thread).as_deref(),
            Some("otsd-test-late"),
            "a panic while stopping is still reported"
        );

        let counter = Arc::clone(&runs);
        token.on_stop(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(runs.load(Ordering::SeqCst), 2, "a late hook runs at once");
    }

    #[test]
    fn a_thread_that_ignores_the_order_is_left_after_the_join_limit() {
        let mut supervisor = Supervisor::new(Duration::from_millis(100));
        let (release, released) = std::sync::mpsc::channel::<()>();
        supervisor
            .spawn("otsd-test-stuck", move |_| {
                let _ = released.recv_timeout(LIMIT);
            })
            .unwrap();
        let started = Instant::now();

        assert_eq!(supervisor.shutdown(), Ok(()));

        assert!(started.elapsed() < Duration::from_secs(5));
        let _ = release.send(());
    }

    #[tokio::test]
    async fn async_code_sees_a_panic_as_the_order_to_stop() {
        let mut supervisor = Supervisor::new(LIMIT);
        let token = supervisor.token();
        supervisor
            .spawn("otsd-test-panics", |_| panic!("on purpose"))
            .unwrap();

        tokio::time::timeout(LIMIT, token.stopped())
            .await
            .expect("stopped() resolves once the thread panicked");
        assert!(supervisor.shutdown().is_err());
    }
}
