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
use crate::supervisor::Shutdown;

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

/// How often to feed systemd's watchdog: half the interval it asked for, or
/// `None` when it asked for none (no `WATCHDOG_USEC`).
pub fn watchdog_interval() -> Option<Duration> {
    let interval = sd_notify::watchdog_enabled()?;
    Some((interval / 2).max(Duration::from_millis(10)))
}

/// Feeds the watchdog every `every` while the store answers, or while a store
/// that cannot write waits for room to be reopened in place, until `shutdown`
/// says stop. On a thread of its own (the server's
/// [`Supervisor`](crate::supervisor::Supervisor) starts it): the notification
/// socket blocks when systemd does not read it, and that must not stall the
/// server.
pub fn feed_watchdog(store: &Store, every: Duration, shutdown: &Shutdown) {
    log::info!(
        "feeding systemd's watchdog every {} ms while the database answers",
        every.as_millis()
    );
    loop {
        match crate::store::block_on(store.readiness()) {
            Ok(()) => send(NotifyState::Watchdog),
            // A database that cannot write (a full disk) is reopened in place
            // once there is room (`startup::recovery`), and a PostgreSQL
            // that is away is reconnected to by the pool when it is back: a
            // restart would do no better, and would fail meanwhile.
            Err(_) if !store.is_available() => send(NotifyState::Watchdog),
            Err(reason) => log::warn!("not feeding the watchdog: {reason}"),
        }
        if shutdown.wait_timeout(every) {
            return;
        }
    }
}
