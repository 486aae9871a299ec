//! A crash while sled writes its snapshot (it writes one at every start) must not
//! leave a database that refuses to start: sled 0.34.7 would take the unfinished
//! `snap.*.generating` file for the live snapshot and call the database corrupt.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;

/// Shares `n` secrets and returns (secret key, value) of each.
async fn share_many(server: &Server, n: usize) -> Vec<(String, String)> {
    let mut shared = Vec::with_capacity(n);
    for i in 0..n {
        let value = unique(&format!("snapshot-{i}-"));
        let receipt = server.share(&[("secret", &value)]).await;
        shared.push((text(&receipt, "secret_key").to_owned(), value));
    }
    shared
}

/// Every secret still reveals, to its value.
async fn assert_all_there(server: &Server, shared: &[(String, String)]) {
    for (key, value) in shared {
        assert_eq!(&server.reveal_value(key, None).await, value, "secret {key}");
    }
}

/// The snapshot files in the database directory: finished ones and unfinished.
fn snapshots(db: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    std::fs::read_dir(db)
        .expect("the database directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("snap."))
        })
        .partition(|p| !p.to_string_lossy().ends_with(".generating"))
}

#[tokio::test]
async fn a_snapshot_left_half_written_is_removed_and_every_secret_is_still_there() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = otsd.start();
    let shared = share_many(&server, 100).await;
    server.stop();

    // What a crash in the middle of writing the next snapshot leaves: the first
    // half of it under the name sled writes it to, which sorts after the last
    // finished snapshot.
    let db = otsd.data_path().join("db");
    let (finished, unfinished) = snapshots(&db);
    assert!(unfinished.is_empty(), "{unfinished:?}");
    let last = finished.iter().max().expect("sled wrote a snapshot");
    let bytes = std::fs::read(last).unwrap();
    let half = PathBuf::from(format!("{}.generating", last.display()));
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();

    let server = otsd.start();
    assert!(!half.exists(), "the unfinished snapshot is gone");
    assert!(
        server
            .log()
            .contains("a snapshot sled did not finish writing"),
        "the removal is logged:\n{}",
        server.log()
    );
    assert_all_there(&server, &shared).await;
    server.stop();
}

/// The real thing: kill -9 at the moment sled creates its snapshot file during
/// start-up, as many times as needed (bounded) to leave one unfinished; then the
/// server must start with every secret.
#[tokio::test]
async fn a_kill_while_sled_writes_its_snapshot_leaves_a_database_that_starts() {
    const ATTEMPTS: usize = 40;
    const BUDGET: Duration = Duration::from_secs(60);
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = otsd.start();
    let mut shared = share_many(&server, 300).await;
    server.stop();
    let db = otsd.data_path().join("db");

    let started = Instant::now();
    let mut left_unfinished = 0;
    for attempt in 0..ATTEMPTS {
        if started.elapsed() > BUDGET || left_unfinished >= 3 {
            break;
        }
        // sled writes a snapshot at start only when its log has grown since the
        // last one: give it something new each time.
        let server = otsd.start();
        shared.extend(share_many(&server, 1).await);
        server.stop();

        let watch = Watch::new(&db);
        let mut child = otsd.spawn_child();
        let seen = watch.wait_for(|name| name.ends_with(".generating"), Duration::from_secs(5));
        let _ = child.kill();
        let _ = child.wait();
        assert!(seen, "attempt {attempt}: sled wrote no snapshot at start");
        if !snapshots(&db).1.is_empty() {
            left_unfinished += 1;
            // The start after such a kill must come up whole (the check below
            // reveals every secret once, at the end).
            otsd.start().stop();
        }
    }
    assert!(
        left_unfinished > 0,
        "no kill in {ATTEMPTS} attempts left an unfinished snapshot to recover from"
    );
    let server = otsd.start();
    assert_all_there(&server, &shared).await;
    server.stop();
}
