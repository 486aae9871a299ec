//! Telling systemd how the server is (`Type=notify`): `READY=1` once the
//! listener is bound and the store is open, `STOPPING=1` when it stops, and,
//! under `WatchdogSec=`, `WATCHDOG=1` at half the interval while the store
//! answers, so that systemd restarts a server whose store hangs or failed.
//!
//! Without `NOTIFY_SOCKET` (not started by systemd) every call does nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sd_notify::NotifyState;

use crate::store::Store;

fn send(state: NotifyState<'_>) {
    if let Err(err) = sd_notify::notify(&[state]) {
        log::warn!("telling systemd the server's state failed: {err}");
    }
}

pub fn ready() {
    send(NotifyState::Ready);
}

/// Sent once, however many paths lead to the stop.
pub fn stopping() {
    static SENT: AtomicBool = AtomicBool::new(false);
    if !SENT.swap(true, Ordering::SeqCst) {
        send(NotifyState::Stopping);
    }
}

/// Feeds the watchdog while the store answers, or while a store that cannot
/// write waits for room to be reopened in place, until dropped. A thread of its
/// own: the notification socket blocks when systemd does not read it, and that
/// must not stall the server.
pub struct Watchdog {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    /// `None` when systemd asked for no watchdog (no `WATCHDOG_USEC`), or its
    /// thread could not start (logged: systemd will then restart the server,
    /// which is what a watchdog is for).
    pub fn start(store: Store) -> Option<Self> {
        let interval = sd_notify::watchdog_enabled()?;
        let every = (interval / 2).max(Duration::from_millis(10));
        log::info!(
            "feeding systemd's watchdog every {} ms while the database answers",
            every.as_millis()
        );
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("otsd-watchdog".into())
            .spawn(move || {
                loop {
                    match store.readiness() {
                        Ok(()) => send(NotifyState::Watchdog),
                        // A database that cannot write (a full disk) is reopened
                        // in place once there is room (`app::supervise`): a
                        // restart would do no better, and would fail while the
                        // disk is full.
                        Err(_) if !store.is_available() => send(NotifyState::Watchdog),
                        Err(reason) => log::warn!("not feeding the watchdog: {reason}"),
                    }
                    match stopped.recv_timeout(every) {
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                }
            });
        match thread {
            Ok(thread) => Some(Self {
                stop,
                thread: Some(thread),
            }),
            Err(err) => {
                log::error!("cannot start the watchdog thread: {err}");
                None
            }
        }
    }
}

impl Drop for Watchdog {
    /// Stops the thread and waits for it, so its store handle is gone.
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
