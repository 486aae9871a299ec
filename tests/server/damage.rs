//! Damage that sled recovers from by dropping data (a data file cut short, its
//! tail lost) must not be accepted silently: otsd refuses to start, says what is
//! missing and how to go on, and starts over the loss only when told to with
//! `--accept-data-loss`, logging it.

use futures_util::future::join_all;
use std::path::Path;

use crate::common::*;

/// A stopped server's data directory holding `n` secrets.
async fn data_with_secrets(dir: &Path, n: usize) -> Otsd {
    std::fs::create_dir_all(dir).unwrap();
    let otsd = Otsd::new(dir);
    let server = otsd.start();
    for batch in (0..n).collect::<Vec<_>>().chunks(25) {
        join_all(batch.iter().map(|i| {
            let value = format!("damage-{i}");
            let call = server.post_form(SHARE, &[("secret", value.as_str())]);
            async move { ok_json(call.await).await }
        }))
        .await;
    }
    server.stop();
    otsd
}

#[tokio::test]
async fn a_database_that_lost_acknowledged_commits_is_refused_until_the_loss_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let original = data_with_secrets(&tmp.path().join("original"), 1000).await;

    for (what, damage) in [
        ("cut to 90%", (|len: u64| len * 9 / 10) as fn(u64) -> u64),
        ("its last 4 KiB cut", |len: u64| len - 4096),
    ] {
        let dir = tmp.path().join(what.replace(' ', "-"));
        copy_dir(&tmp.path().join("original"), &dir);
        let otsd = Otsd::new(&dir);
        let file = otsd.data_path().join("db").join("db");
        let len = std::fs::metadata(&file).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .unwrap()
            .set_len(damage(len))
            .unwrap();

        let done = otsd.refused();
        assert!(
            !done.status.success(),
            "{what}: exit status {}",
            done.status
        );
        assert!(
            done.stderr.contains("has lost acknowledged changes")
                && done
                    .stderr
                    .contains("restore the data directory from a backup")
                && done.stderr.contains("--accept-data-loss"),
            "{what}: says what is missing and what to do; stderr:\n{}",
            done.stderr
        );
        // Refused twice: the refusal changed nothing.
        assert!(!otsd.refused().status.success(), "{what}: still refused");

        let accepting = otsd.clone().arg("--accept-data-loss");
        let log = accepting.start().stop().stderr;
        assert!(
            log.contains("starting with --accept-data-loss")
                && log.contains("has lost acknowledged changes"),
            "{what}: the accepted loss is logged:\n{log}"
        );
        // Accepted once is accepted: the next plain start comes up.
        otsd.start().stop();
    }

    // The undamaged original was never refused.
    original.start().stop();
}
