//! Loopback ports for servers a test starts by number (an SMTP relay, a
//! chromedriver, a `--listen` flag).

use std::sync::atomic::{AtomicUsize, Ordering};

/// A loopback port nothing listens on at the moment of the call, chosen below the
/// kernel's ephemeral range: the servers and fakes that other tests bind to port 0
/// meanwhile are given ports from that range, so they cannot take this one.
pub fn free_port() -> u16 {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let low: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let (first, span) = (10_000, low.saturating_sub(10_000).max(1000));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut x =
        (nanos ^ std::process::id().rotate_left(16) ^ CALLS.fetch_add(1, Ordering::SeqCst) as u32)
            | 1;
    for _ in 0..1000 {
        // xorshift: enough to spread tries over the range.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let port = u16::try_from(first + x % span).expect("a port number");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port below {low}");
}
