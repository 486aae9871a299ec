//! The database restarted under load: meanwhile the nodes say they are not
//! ready and answer 503 (intended) instead of failing otherwise, they keep
//! feeding systemd's watchdog (a restart of otsd would not bring PostgreSQL
//! back), and once it is back the same processes serve again by themselves,
//! with everything they acknowledged.

use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::kit::*;
use crate::common::postgres::Cluster;
use crate::common::*;

/// What the node asked systemd for the watchdog: fed every half of it.
const WATCHDOG_USEC: u64 = 3_000_000;

/// Collects the instants of every `WATCHDOG=1` on `socket` until `stop`.
fn watch_feeds(
    socket: UnixDatagram,
    stop: Arc<AtomicBool>,
) -> (Arc<Mutex<Vec<Instant>>>, std::thread::JoinHandle<()>) {
    let feeds = Arc::new(Mutex::new(Vec::new()));
    let sink = feeds.clone();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let thread = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while !stop.load(Ordering::SeqCst) {
            if let Ok(n) = socket.recv(&mut buf)
                && String::from_utf8_lossy(&buf[..n]).trim() == "WATCHDOG=1"
            {
                sink.lock().unwrap().push(Instant::now());
            }
        }
    });
    (feeds, thread)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn while_the_database_restarts_nodes_answer_503_and_then_serve_again_losing_nothing() {
    let cluster = Arc::new(Cluster::start());
    let url = cluster.url(&cluster.create_database());
    let tmp = tempfile::tempdir().unwrap();
    let key = master_key_file(tmp.path());
    let notify = tmp.path().join("notify.sock");
    let stop_watching = Arc::new(AtomicBool::new(false));
    let (feeds, watcher) = watch_feeds(UnixDatagram::bind(&notify).unwrap(), stop_watching.clone());
    let a = node(tmp.path(), "a", &url, &key)
        .env("NOTIFY_SOCKET", notify.to_str().unwrap())
        .env("WATCHDOG_USEC", &WATCHDOG_USEC.to_string())
        .start();
    let b = node(tmp.path(), "b", &url, &key).start();
    let (pid_a, pid_b) = (a.pid(), b.pid());

    let revealed = a.share(&[("secret", "revealed before")]).await;
    let revealed = text(&revealed, "secret_key").to_owned();
    assert_eq!(b.reveal_value(&revealed, None).await, "revealed before");
    let kept_value = unique("kept-");
    let kept = a.share(&[("secret", &kept_value)]).await;
    let kept = text(&kept, "secret_key").to_owned();

    let load = Load::start(
        &[a.client.clone(), b.client.clone()],
        2,
        1000,
        Duration::from_secs(40),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopping = cluster.clone();
    tokio::task::spawn_blocking(move || stopping.stop())
        .await
        .unwrap();
    let outage = Instant::now();

    for node in [&a, &b] {
        let (status, body) = readyz(node).await.expect("/readyz answers");
        assert_eq!(status, 503, "not ready without the database: {body}");
        assert_eq!(body["status"], "not ready", "{body}");
        assert!(
            body["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "a reason: {body}"
        );
    }
    assert_error_status(a.post_form(SHARE, &[("secret", "during")]).await, 503).await;
    assert_error_status(b.reveal(&kept, None).await, 503).await;

    tokio::time::sleep(Duration::from_secs(2).saturating_sub(outage.elapsed())).await;
    let starting = cluster.clone();
    tokio::task::spawn_blocking(move || starting.start_again())
        .await
        .unwrap();
    let back = Instant::now();
    for node in [&a, &b] {
        let took = wait_until_ready(node, RECOVERY_LIMIT).await;
        eprintln!("{} ready {took:?} after the database", node.address);
    }
    assert_eq!((a.pid(), b.pid()), (pid_a, pid_b));
    assert!(
        running(pid_a) && running(pid_b),
        "the same processes serve again"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (made, refused) = load.finish().await;
    stop_watching.store(true, Ordering::SeqCst);
    watcher.join().unwrap();

    let before = made.iter().filter(|m| m.at < outage).count();
    let after = made.iter().filter(|m| m.at > back).count();
    assert!(
        before > 0 && after > 0,
        "creates acknowledged before ({before}) and after ({after})"
    );
    assert!(refused > 0, "the load met the outage");
    let (node_a, node_b) = (a.client.clone(), b.client.clone());
    let other = |by: usize| {
        if by == 0 {
            node_b.clone()
        } else {
            node_a.clone()
        }
    };
    let same = |by: usize| {
        if by == 0 {
            node_a.clone()
        } else {
            node_b.clone()
        }
    };
    reveal_each_exactly_once(&made, other, same).await;
    assert_eq!(a.reveal_value(&kept, None).await, kept_value);
    assert_unknown_secret(a.reveal(&revealed, None).await, &revealed).await;

    // Fed all along: no gap as long as what systemd was told to wait for.
    let feeds = feeds.lock().unwrap().clone();
    let watched: Vec<_> = feeds.iter().filter(|t| **t > outage).collect();
    assert!(
        watched.first().is_some_and(|t| **t < back),
        "fed during the outage: {feeds:?}, outage from {outage:?} to {back:?}"
    );
    let longest = feeds
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    assert!(
        longest < Duration::from_micros(WATCHDOG_USEC),
        "the longest gap between two feeds, {longest:?}; log:\n{}",
        a.log()
    );
    eprintln!(
        "{before} acknowledged before, {after} after, {refused} refused; {} feeds, longest gap {longest:?}",
        feeds.len()
    );
}
