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

/// Feeds the watchdog while `store` answers, for as long as the returned task
/// runs; `None` when systemd asked for no watchdog.
pub fn watchdog(store: Store) -> Option<actix_web::rt::task::JoinHandle<()>> {
    let interval = sd_notify::watchdog_enabled()?;
    let every = (interval / 2).max(Duration::from_millis(10));
    log::info!(
        "feeding systemd's watchdog every {} ms while the database answers",
        every.as_millis()
    );
    Some(actix_web::rt::spawn(async move {
        loop {
            match store.readiness() {
                Ok(()) => send(NotifyState::Watchdog),
                Err(reason) => log::warn!("not feeding the watchdog: {reason}"),
            }
            actix_web::rt::time::sleep(every).await;
        }
    }))
}
