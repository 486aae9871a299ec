//! The Unix clock, in whole seconds as the server counts them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, as the server counts them.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Sleeps until the Unix clock has passed `second` (plus a small margin), never
/// longer than `max` in total.
pub async fn sleep_until_unix(second: u64, max: Duration) {
    let target = UNIX_EPOCH + Duration::from_secs(second) + Duration::from_millis(150);
    let wait = target.duration_since(SystemTime::now()).unwrap_or_default();
    assert!(wait <= max, "would wait {wait:?}, more than {max:?}");
    tokio::time::sleep(wait).await;
}
