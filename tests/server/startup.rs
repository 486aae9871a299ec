//! Start-up refusals on a database that cannot be used: held by another server, or
//! corrupt. Each must end quickly with a non-zero exit and a message that names
//! the database path.

use std::path::Path;

use crate::common::*;

/// The refusal is prompt, non-zero, names `path` and is not only a panic.
fn assert_refusal_names(done: &Finished, path: &Path, what: &str) {
    assert!(
        !done.status.success(),
        "{what}: exits non-zero, got {}; stderr:\n{}",
        done.status,
        done.stderr
    );
    assert!(
        done.elapsed < std::time::Duration::from_secs(10),
        "{what}: refused promptly, took {:?}",
        done.elapsed
    );
    let path = path.display().to_string();
    let message = done
        .stderr
        .lines()
        .find(|l| l.starts_with("otsd: ") && l.contains(&path));
    assert!(
        message.is_some(),
        "{what}: an `otsd: …` message naming {path}; stderr:\n{}",
        done.stderr
    );
}

#[tokio::test]
async fn a_locked_database_is_refused_with_a_message_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let first = otsd.start();

    let second = otsd.refused();
    let db = otsd.data_path().join("db");
    assert_refusal_names(&second, &db, "second server on the same data dir");
    let message = second
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("otsd: "))
        .unwrap();
    assert_eq!(
        second.stderr.matches(message).count(),
        1,
        "the fatal error is said once, not also as a log line; stderr:\n{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("in use"),
        "says the database is in use; stderr:\n{}",
        second.stderr
    );

    // The first server is unharmed.
    let status = ok_json(first.get("/api/v1/status").await).await;
    assert_eq!(status["status"], "nominal");
    first.stop();
}

/// Runs a server once on `otsd`'s data dir, stores a secret and stops it; returns
/// the secret's key and value.
async fn populated(otsd: &Otsd) -> (String, String) {
    let server = otsd.start();
    let value = unique("before-corruption-");
    let key = text(&server.share(&[("secret", &value)]).await, "secret_key").to_owned();
    server.stop();
    (key, value)
}

fn garble(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Bytes that are not a sled file: a repeated pattern plus a pseudo-random tail.
fn garbage(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|i| {
            if i % 64 < 32 {
                b"garbage!"[i % 8]
            } else {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            }
        })
        .collect()
}

#[tokio::test]
async fn a_corrupt_database_is_refused_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    populated(&otsd).await;
    let db = otsd.data_path().join("db");
    let size = std::fs::metadata(db.join("db")).unwrap().len() as usize;
    garble(&db.join("conf"), &garbage(64));
    garble(&db.join("db"), &garbage(size.max(4096)));

    let done = otsd.refused();
    assert_refusal_names(&done, &db, "garbage in db/conf and db/db");
    assert!(
        !done.stderr.contains("stack backtrace"),
        "no backtrace dump; stderr:\n{}",
        done.stderr
    );
}

/// Overwriting only the data file (the log sled recovers from) with garbage, or
/// truncating it, while its `conf` stays intact: the stored secrets are gone, so
/// the server must refuse rather than start on an empty database as if nothing
/// had happened.
#[tokio::test]
async fn a_garbled_data_file_is_refused_not_silently_emptied() {
    let mut outcomes = Vec::new();
    for (label, corrupt) in [
        ("db/db overwritten with garbage", true),
        ("db/db truncated to 0 bytes", false),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let otsd = Otsd::new(tmp.path());
        let (key, _) = populated(&otsd).await;
        let db = otsd.data_path().join("db");
        let file = db.join("db");
        let size = std::fs::metadata(&file).unwrap().len() as usize;
        garble(&file, &if corrupt { garbage(size) } else { Vec::new() });

        match otsd.launch() {
            Launched::Exited(done) => {
                assert_refusal_names(&done, &db, label);
                outcomes.push(format!("{label}: refused ({})", done.status));
            }
            Launched::Listening(server) => {
                server.wait_until_answering();
                let port = server.port;
                let found = server.reveal(&key, None).await.status();
                let log = server.kill9();
                outcomes.push(format!(
                    "{label}: STARTED (port {port}) anyway; the secret stored before reads {found}; \
                     warnings: {:?}",
                    log.lines()
                        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        outcomes.iter().all(|o| o.contains("refused")),
        "a damaged data file must be refused:\n{}",
        outcomes.join("\n")
    );
}

/// A garbled `conf` alone (the data file intact) may be repaired by sled; what is
/// not allowed is to start and have lost the data.
#[tokio::test]
async fn a_garbled_conf_file_is_refused_or_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let (key, value) = populated(&otsd).await;
    let db = otsd.data_path().join("db");
    garble(&db.join("conf"), b"garbage\n");
    match otsd.launch() {
        Launched::Exited(done) => assert_refusal_names(&done, &db, "garbage in db/conf"),
        Launched::Listening(server) => {
            server.wait_until_answering();
            assert_eq!(server.reveal_value(&key, None).await, value);
            server.stop();
        }
    }
}

/// A database in format 1 (a secret and its receipt apart, under keyed hashes: the
/// layout before one record per secret, never released), as that otsd left it
/// with one secret in it. Today's otsd refuses it, saying which format it found,
/// which it reads, and what to do, and leaves every byte of it as it was.
#[tokio::test]
async fn a_database_in_the_earlier_format_is_refused_naming_both_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/format1-data");
    copy_dir(&fixture, otsd.data_path());
    // git keeps no file modes but the executable bit; otsd refuses a key others can read.
    let key = otsd.data_path().join("master.key");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let db = otsd.data_path().join("db");
    let before = std::fs::read(db.join("db")).unwrap();

    let done = otsd.refused();

    assert_refusal_names(&done, &db, "a format-1 database");
    for words in ["format 1", "format 2", "move the directory away"] {
        assert!(
            done.stderr.contains(words),
            "says {words:?}; stderr:\n{}",
            done.stderr
        );
    }
    assert_eq!(
        std::fs::read(db.join("db")).unwrap(),
        before,
        "left as it was"
    );
}
