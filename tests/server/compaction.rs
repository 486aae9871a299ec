//! README "Operations", compaction: a database that churn left mostly empty is
//! compacted in the running server after the reaper's sweeps, and at start; no
//! request fails meanwhile and every live secret stays.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;

const COMPACTED: &str = "compacted the running database";

fn data_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                data_bytes(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

/// `count` one-second secrets of `size` bytes, shared by 8 tasks.
async fn churn(server: &Arc<Server>, count: usize, size: usize) {
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let server = Arc::clone(server);
        tasks.push(tokio::spawn(async move {
            for n in (worker..count).step_by(8) {
                let value = format!("{n:08}{}", "c".repeat(size));
                server.share(&[("secret", &value), ("ttl", "1")]).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("every churn create succeeded");
    }
}

async fn share_kept(server: &Server, n: usize) -> Vec<(String, String)> {
    let mut kept = Vec::new();
    for _ in 0..n {
        let value = unique("kept-through-compaction-");
        let receipt = server.share(&[("secret", &value), ("ttl", "3600")]).await;
        kept.push((text(&receipt, "secret_key").to_owned(), value));
    }
    kept
}

#[tokio::test]
async fn the_running_server_compacts_after_churn_without_failing_a_request_or_losing_a_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path())
        .env("OTSD_LIMITS__MIN_TTL", "1")
        .env("OTSD_REAPER__INTERVAL_SECS", "1")
        .env("OTSD_STORAGE__COMPACT_ABOVE_MIB", "8")
        .env("OTSD_RATE_LIMITS__ENABLED", "false")
        .env("OTSD_LOG_LEVEL", "info");
    let server = Arc::new(otsd.start());
    let db = otsd.data_path().join("db");

    // Live secrets on both sides of the churn, so sled cannot just cut the end
    // of its file.
    let mut kept = share_kept(&server, 10).await;
    churn(&server, 4_000, 6_000).await;
    kept.extend(share_kept(&server, 10).await);
    let mut churned = data_bytes(&db);

    // Creates and reveals go on while the reaper sweeps and compacts.
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (server, stop) = (Arc::clone(&server), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut done = 0;
            while !stop.load(Ordering::SeqCst) && done < 5_000 {
                let value = unique("during-compaction-");
                let receipt = server.share(&[("secret", &value)]).await;
                let key = text(&receipt, "secret_key").to_owned();
                assert_eq!(server.reveal_value(&key, None).await, value);
                done += 1;
                // A steady trickle: what it leaves (receipts) stays small beside
                // the churn, so the database stays worth compacting.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            done
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !server.log().contains(COMPACTED) {
        churned = churned.max(data_bytes(&db));
        assert!(
            Instant::now() < deadline,
            "compacted within 60 s; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A little more load after the swap, on the new database.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let done = load
        .await
        .expect("no create or reveal failed during the compaction");
    assert!(done > 0, "the load ran");

    assert!(churned > 8 << 20, "the churn wrote {churned} bytes");
    // "compacted the running database from X MiB to Y MiB"
    let log = server.log();
    let line = log.lines().find(|l| l.contains(COMPACTED)).unwrap();
    eprintln!("{line}");
    let sizes: Vec<u64> = line
        .split(' ')
        .filter_map(|word| word.parse().ok())
        .take(2)
        .collect();
    assert!(
        sizes.len() == 2 && sizes[1] < sizes[0],
        "the data directory shrank: {line}"
    );
    assert!(!otsd.data_path().join("db.compact").exists());
    let (before_restart, after_restart) = kept.split_at(kept.len() / 2);
    for (key, value) in before_restart {
        assert_eq!(&server.reveal_value(key, None).await, value);
    }
    let new = server.share(&[("secret", "after the compaction")]).await;
    let new_key = text(&new, "secret_key").to_owned();
    assert!(
        kept.iter().all(|(key, _)| *key != new_key),
        "no old key again"
    );
    Arc::try_unwrap(server).ok().expect("one handle").stop();

    let server = otsd.start();
    for (key, value) in after_restart {
        assert_eq!(&server.reveal_value(key, None).await, value);
    }
    for (key, _) in before_restart {
        assert_unknown_secret(server.reveal(key, None).await, key).await;
    }
    assert_eq!(
        server.reveal_value(&new_key, None).await,
        "after the compaction"
    );
    server.stop();
}
