//! README "Back up": `otsd backup FILE` copies a running (or stopped) server's
//! database consistently, with sealed records only; `otsd restore FILE` fills an
//! empty data directory from it, and with the same master key every secret that
//! was live reveals by its old link.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

/// `otsd --data-dir <data> …` in `dir`, for the backup and restore commands.
fn cli(dir: &Path, data: &Path) -> Otsd {
    Otsd::bare(dir).data_dir(data)
}

fn backup(dir: &Path, data: &Path, file: &Path) -> Finished {
    cli(dir, data).arg("backup").arg(file).run()
}

fn restore(dir: &Path, data: &Path, file: &Path) -> Finished {
    cli(dir, data).arg("restore").arg(file).run()
}

fn succeeded(done: &Finished, what: &str) {
    assert_eq!(
        done.status.code(),
        Some(0),
        "{what} succeeds; stderr:\n{}",
        done.stderr
    );
}

/// A data directory at `dir` holding only a copy of `from`'s master key: what an
/// operator brings back before restoring.
fn with_master_key_of(from: &Path, dir: &Path) -> PathBuf {
    std::fs::DirBuilder::new().mode(0o700).create(dir).unwrap();
    let key = dir.join("master.key");
    std::fs::copy(from.join("master.key"), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    dir.to_owned()
}

/// Shares `form`; its (secret key, metadata key).
async fn share(client: &Client, form: &[(&str, &str)]) -> (String, String) {
    let meta = client.share(form).await;
    (
        text(&meta, "secret_key").to_owned(),
        text(&meta, "metadata_key").to_owned(),
    )
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_backup_of_a_running_server_restores_every_live_secret_by_its_old_link() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path()).env("OTSD_LIMITS__MIN_TTL", "1");
    let server = otsd.start();
    let owner = add_account(&server, "backup-owner");
    let as_owner = server.as_account(&owner);

    let live = unique("live-value-");
    let passphrase = unique("pass-");
    let (live_key, live_meta) =
        share(&server, &[("secret", &live), ("passphrase", &passphrase)]).await;
    let revealed = unique("revealed-value-");
    let (revealed_key, _) = share(&server, &[("secret", &revealed)]).await;
    assert_eq!(server.reveal_value(&revealed_key, None).await, revealed);
    let burned = unique("burned-value-");
    let (burned_key, burned_meta) = share(&server, &[("secret", &burned)]).await;
    ok_json(server.burn(&burned_meta, None).await).await;
    let owned = unique("owned-value-");
    let (owned_key, owned_meta) = share(&as_owner, &[("secret", &owned)]).await;
    let expiring = unique("expiring-value-");
    let (expiring_key, _) = share(&server, &[("secret", &expiring), ("ttl", "1")]).await;
    // A request still open, and one whose answer waits to be read.
    let open_note = unique("open-note-");
    let open = server.ask(&[("note", &open_note)]).await;
    let answered_value = unique("answered-value-");
    let answered = server.ask(&[]).await;
    ok_json(
        server
            .answer(text(&answered, "request_key"), &answered_value)
            .await,
    )
    .await;
    sleep_until_unix(unix_now() + 1, Duration::from_secs(3)).await;

    let file = tmp.path().join("otsd.backup");
    let done = backup(tmp.path(), otsd.data_path(), &file);
    succeeded(&done, "a backup while the server runs");
    if !on_postgres() {
        // On PostgreSQL the command reads the database itself (a snapshot).
        assert!(
            server.log().contains("admin: backup"),
            "the running server made it"
        );
    }
    assert!(!tmp.path().join("otsd.backup.partial").exists());
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"otsd backup\n"));
    let master = std::fs::read_to_string(otsd.data_path().join("master.key")).unwrap();
    for plain in [
        live.as_str(),
        &passphrase,
        &revealed,
        &burned,
        &owned,
        &expiring,
        &live_key,
        &live_meta,
        &owned_meta,
        &owner.token,
        &open_note,
        &answered_value,
        text(&open, "request_key"),
        text(&open, "private_key"),
        master.trim(),
    ] {
        assert!(
            !contains(&bytes, plain),
            "the backup holds {plain:?} in plain text"
        );
    }

    // The server goes on, and so does what it holds.
    let after = unique("after-backup-");
    let (after_key, _) = share(&server, &[("secret", &after)]).await;
    assert_eq!(server.reveal_value(&after_key, None).await, after);
    server.stop();

    let restored = with_master_key_of(otsd.data_path(), &tmp.path().join("restored"));
    let done = restore(tmp.path(), &restored, &file);
    succeeded(
        &done,
        "a restore into a directory holding only the master key",
    );
    // Live, revealed, burned, owned and expiring (not the one made after the
    // backup); live and owned unread, and the expiring one too until the
    // reaper's first sweep (30 s after the start) reaches it.
    assert!(
        done.stderr
            .contains("restored 5 secrets (3 still to be revealed) and 1 account, and 2 requests for a secret,"),
        "{}",
        done.stderr
    );

    let server = Otsd::new(tmp.path())
        .data_dir(&restored)
        .env("OTSD_LIMITS__MIN_TTL", "1")
        .start();
    assert_eq!(
        server.reveal_value(&live_key, Some(&passphrase)).await,
        live
    );
    assert_eq!(server.reveal_value(&owned_key, None).await, owned);
    for gone in [&revealed_key, &burned_key, &expiring_key, &after_key] {
        assert_unknown_secret(server.reveal(gone, None).await, gone).await;
    }
    let burned_receipt = ok_json(server.metadata(&burned_meta).await).await;
    assert_eq!(burned_receipt["state"], "burned");
    let answer = ok_json(server.reveal_answer(text(&answered, "private_key")).await).await;
    assert_eq!(answer["value"], answered_value.as_str());
    let still_open = ok_json(server.open_request(text(&open, "request_key")).await).await;
    assert_eq!(still_open["note"], open_note.as_str());
    let as_owner = server.as_account(&owner);
    let recent = ok_json(as_owner.get(RECENT[0]).await).await;
    assert!(
        recent.to_string().contains(&owned_meta),
        "the account's token and its recent list came back: {recent}"
    );
    let (fresh_key, fresh_meta) = share(&server, &[("secret", "made after the restore")]).await;
    for old in [
        &live_key,
        &revealed_key,
        &burned_key,
        &owned_key,
        &after_key,
    ] {
        assert_ne!(&fresh_key, old, "a restored server issues no old key");
    }
    assert_ne!(fresh_meta, live_meta);
    assert_eq!(
        server.reveal_value(&fresh_key, None).await,
        "made after the restore"
    );
    server.stop();
}

#[tokio::test]
async fn without_a_running_server_the_command_reads_the_database_itself_and_can_write_to_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = otsd.start();
    let value = unique("stopped-backup-");
    let (key, _) = share(&server, &[("secret", &value)]).await;
    server.stop();

    let mut command = std::process::Command::new(BIN);
    command.env_clear();
    if let Some(url) = database_url_for(otsd.data_path()) {
        command.env("OTSD_DATABASE_URL", url);
    }
    let output = command
        .current_dir(tmp.path())
        .arg("--data-dir")
        .arg(otsd.data_path())
        .args(["backup", "-"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.starts_with(b"otsd backup\n"));
    assert!(!contains(&output.stdout, &value));
    let file = tmp.path().join("from-stdout.backup");
    std::fs::write(&file, &output.stdout).unwrap();

    let restored = with_master_key_of(otsd.data_path(), &tmp.path().join("restored"));
    succeeded(&restore(tmp.path(), &restored, &file), "restore");
    let server = Otsd::new(tmp.path()).data_dir(&restored).start();
    assert_eq!(server.reveal_value(&key, None).await, value);
    server.stop();
}

#[tokio::test]
async fn a_restore_refuses_a_damaged_file_or_a_used_directory_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = otsd.start();
    share(&server, &[("secret", "kept")]).await;
    server.stop();
    let file = tmp.path().join("good.backup");
    succeeded(&backup(tmp.path(), otsd.data_path(), &file), "backup");
    let good = std::fs::read(&file).unwrap();

    let mut truncated = good.clone();
    truncated.truncate(good.len() - 40);
    let mut altered = good.clone();
    altered[good.len() / 2] ^= 0x01;
    let mut other_version = good.clone();
    other_version[12..14].copy_from_slice(&2u16.to_be_bytes());
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("truncated", truncated, "truncated"),
        ("altered", altered, "altered or damaged"),
        ("other-version", other_version, "backup format 2"),
        ("not-a-backup", b"hello\n".to_vec(), "not an otsd backup"),
    ];
    for (name, bytes, says) in cases {
        let bad = tmp.path().join(format!("{name}.backup"));
        std::fs::write(&bad, bytes).unwrap();
        let target = tmp.path().join(format!("into-{name}"));
        let done = restore(tmp.path(), &target, &bad);
        assert!(!done.status.success(), "{name}: refused");
        assert!(
            done.stderr.contains(says) && done.stderr.contains(&bad.display().to_string()),
            "{name}: the message names the file and says {says:?}; stderr:\n{}",
            done.stderr
        );
        assert!(!target.exists(), "{name}: nothing is left behind");
        if on_postgres() {
            let store = open_store(&target);
            let counts = otsd::store::block_on(store.counts()).unwrap();
            assert_eq!(counts, (0, 0), "{name}: nothing went into the database");
        }
    }
    if on_postgres() {
        // A database that holds anything is refused as a used directory is.
        let done = restore(tmp.path(), otsd.data_path(), &file);
        assert!(
            !done.status.success() && done.stderr.contains("already holds"),
            "the live database is refused; stderr:\n{}",
            done.stderr
        );
        return;
    }

    let used = tmp.path().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("stray"), "x").unwrap();
    let done = restore(tmp.path(), &used, &file);
    assert!(!done.status.success());
    assert!(
        done.stderr.contains("not empty") && done.stderr.contains("stray"),
        "stderr:\n{}",
        done.stderr
    );
    let left: Vec<_> = std::fs::read_dir(&used).unwrap().collect();
    assert_eq!(left.len(), 1, "the directory is as it was");

    let done = restore(tmp.path(), otsd.data_path(), &file);
    assert!(
        !done.status.success() && done.stderr.contains("not empty"),
        "the live data directory is refused; stderr:\n{}",
        done.stderr
    );

    // A backup where no database is creates none.
    let nowhere = tmp.path().join("nowhere");
    let done = backup(tmp.path(), &nowhere, &tmp.path().join("none.backup"));
    assert!(!done.status.success());
    assert!(
        done.stderr.contains("no otsd database") && done.stderr.contains("--data-dir"),
        "stderr:\n{}",
        done.stderr
    );
    assert!(!nowhere.exists() && !tmp.path().join("none.backup").exists());
}

/// One secret of the load: its keys, when its create was acknowledged and,
/// if it was revealed, when that was.
struct Made {
    key: String,
    meta: String,
    value: String,
    created: Instant,
    revealed: Option<Instant>,
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_exactly_a_state_the_server_was_in() {
    const WORKERS: usize = 4;
    const PER_WORKER: usize = 150;
    const LIMIT: Duration = Duration::from_secs(20);
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = Arc::new(otsd.start());
    let made = Arc::new(Mutex::new(Vec::<Made>::new()));

    let deadline = Instant::now() + LIMIT;
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let (server, made) = (Arc::clone(&server), Arc::clone(&made));
        workers.push(tokio::spawn(async move {
            for n in 0..PER_WORKER {
                if Instant::now() > deadline {
                    break;
                }
                let value = unique(&format!("load-{worker}-{n}-"));
                let (key, meta) = share(&server, &[("secret", &value)]).await;
                let created = Instant::now();
                let revealed = if n % 2 == 0 {
                    assert_eq!(server.reveal_value(&key, None).await, value);
                    Some(Instant::now())
                } else {
                    None
                };
                made.lock().unwrap().push(Made {
                    key,
                    meta,
                    value,
                    created,
                    revealed,
                });
            }
        }));
    }
    // Once the load runs, the backup is cut in the middle of it.
    while made.lock().unwrap().len() < 100 {
        assert!(Instant::now() < deadline, "the load made 100 secrets");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let file = tmp.path().join("under-load.backup");
    let (dir, data) = (tmp.path().to_owned(), otsd.data_path().to_owned());
    let (before, after, done) = {
        let file = file.clone();
        tokio::task::spawn_blocking(move || {
            let before = Instant::now();
            let done = backup(&dir, &data, &file);
            (before, Instant::now(), done)
        })
        .await
        .unwrap()
    };
    succeeded(&done, "a backup under load");
    for worker in workers {
        worker.await.expect("every create and reveal succeeded");
    }
    let made = std::mem::take(&mut *made.lock().unwrap());
    assert!(
        made.iter().any(|m| m.created > after),
        "the load went on after the backup"
    );
    Arc::try_unwrap(server).ok().expect("one handle").stop();

    let restored = with_master_key_of(otsd.data_path(), &tmp.path().join("restored"));
    succeeded(&restore(tmp.path(), &restored, &file), "restore");
    let server = Otsd::new(tmp.path()).data_dir(&restored).start();
    let (mut present, mut absent) = (0, 0);
    for m in &made {
        let receipt = server.metadata(&m.meta).await;
        if receipt.status() != 200 {
            assert!(
                m.created > before,
                "a secret acknowledged before the backup is in it"
            );
            absent += 1;
            continue;
        }
        present += 1;
        let receipt = ok_json(receipt).await;
        assert!(
            m.created < after,
            "a secret made after the backup is not in it"
        );
        match m.revealed {
            Some(at) if at < before => {
                assert_eq!(receipt["state"], "received", "revealed before the backup");
                assert_unknown_secret(server.reveal(&m.key, None).await, &m.key).await;
            }
            Some(_) if receipt["state"] == "received" => {
                assert_unknown_secret(server.reveal(&m.key, None).await, &m.key).await;
            }
            _ => {
                assert_ne!(receipt["state"], "received", "revealed after the backup");
                assert_eq!(server.reveal_value(&m.key, None).await, m.value);
            }
        }
    }
    assert!(present >= 100 && absent > 0, "{present} in, {absent} not");
    server.stop();
}

/// `kill -9` of `otsd restore` while it writes, at several points: the server
/// then refuses to start (naming the leftover and what to do) instead of
/// serving an empty database where a restore was meant, and the same restore
/// run again starts over and brings every secret back.
#[tokio::test]
async fn a_restore_killed_midway_leaves_nothing_a_server_would_start_on() {
    if on_postgres() {
        // sled's restore builds aside and renames; PostgreSQL's is one
        // transaction, which a kill rolls back (tests/cluster.rs).
        return;
    }
    // Milliseconds after the restore's staging directory appears.
    const KILL_AFTER: [u64; 3] = [0, 40, 150];
    const BIG: usize = 400_000;
    const SECRETS: usize = 40;
    let tmp = tempfile::tempdir().unwrap();
    // Large secrets, so that a restore writes for a while (about 16 MiB).
    let otsd = Otsd::new(tmp.path())
        .env("OTSD_LIMITS__ANONYMOUS__MAX_SECRET_BYTES", &BIG.to_string())
        .env("OTSD_LIMITS__MAX_BODY_BYTES", &(2 * BIG).to_string());
    let server = otsd.start();
    let mut shared = Vec::new();
    for n in 0..SECRETS {
        let value = format!("{}{}", unique(&format!("big-{n}-")), "v".repeat(BIG - 100));
        let (key, _) = share(&server, &[("secret", &value)]).await;
        shared.push((key, value));
    }
    server.stop();
    let file = tmp.path().join("big.backup");
    succeeded(&backup(tmp.path(), otsd.data_path(), &file), "backup");

    let mut killed_midway = 0;
    for (n, delay) in KILL_AFTER.into_iter().enumerate() {
        let data = with_master_key_of(otsd.data_path(), &tmp.path().join(format!("into-{n}")));
        let staging = data.join("db.restore");
        let mut child = cli(tmp.path(), &data)
            .arg("restore")
            .arg(&file)
            .spawn_child();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !staging.exists() && child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the restore started writing");
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            // It finished first: nothing to see at this point.
            continue;
        }
        if !data.join("db").exists() {
            killed_midway += 1;
            let done = Otsd::new(tmp.path()).data_dir(&data).refused();
            assert_eq!(done.status.code(), Some(1), "stderr:\n{}", done.stderr);
            for says in [staging.display().to_string(), "otsd restore".to_owned()] {
                assert!(
                    done.stderr.contains(&says),
                    "kill after {delay} ms: the refusal names {says:?}; stderr:\n{}",
                    done.stderr
                );
            }
            assert!(!data.join("db").exists(), "no empty database was made");
        }
        let done = restore(tmp.path(), &data, &file);
        succeeded(&done, "the restore run again");
        assert!(
            done.stderr.contains(&format!("restored {SECRETS} secrets")),
            "stderr:\n{}",
            done.stderr
        );
        assert!(!staging.exists(), "the leftover was cleared");
        let server = otsd.clone().data_dir(&data).start();
        for (key, value) in [&shared[0], &shared[SECRETS - 1]] {
            assert_eq!(&server.reveal_value(key, None).await, value);
        }
        server.stop();
    }
    assert!(
        killed_midway > 0,
        "at least one kill came while the restore wrote"
    );
}
