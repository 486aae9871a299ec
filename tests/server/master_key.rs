//! Spec §5: the master key. Generated on first start into a file only the owner
//! can read, or given by a key file or `OTSD_MASTER_KEY`; values depend on it.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;

use crate::common::*;

const KEY_ONE: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00123456789abcdeffedcba9876543210";
const KEY_TWO: &str = "a5a5a5a55a5a5a5a00ff00ff11ee22dd33cc44bb55aa6699887766554433221f";

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn first_start_creates_a_master_key_file_with_mode_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = otsd.start();
    let key_file = otsd.data_path().join("master.key");
    assert_eq!(mode(&key_file), 0o600, "{}", key_file.display());
    assert_eq!(mode(otsd.data_path()), 0o700, "the data directory");
    let written = std::fs::read_to_string(&key_file).unwrap();
    let key = written.trim();
    assert!(
        key.len() == 64 && key.chars().all(|c| c.is_ascii_hexdigit()),
        "64 hex characters, got {} characters",
        key.len()
    );
    let value = unique("kept-by-the-key-file-");
    let secret = text(&server.share(&[("secret", &value)]).await, "secret_key").to_owned();
    let log = server.stop().stderr;
    assert!(!log.contains(key), "the master key is not logged");

    // A restart reads the same key back: the old secret still opens.
    let server = otsd.start();
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), written);
    assert_eq!(server.reveal_value(&secret, None).await, value);
    server.stop();
}

#[test]
fn a_world_readable_master_key_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let key_file = tmp.path().join("otsd-master.key");
    std::fs::write(&key_file, KEY_ONE).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = tmp.path().join("otsd.toml");
    std::fs::write(
        &config,
        format!("master_key_file = {:?}\n", key_file.display().to_string()),
    )
    .unwrap();
    let otsd = Otsd::new(tmp.path()).arg("--config").arg(&config);

    let done = otsd.refused();
    assert!(!done.status.success(), "exit status {}", done.status);
    let path = key_file.display().to_string();
    assert!(
        done.stderr
            .lines()
            .any(|l| l.contains(&path) && l.contains("readable") && l.contains("chmod 600")),
        "a message names {path}, says it is readable by others and how to fix it; stderr:\n{}",
        done.stderr
    );
    assert!(!done.stderr.contains(KEY_ONE), "the key is not printed");

    // Fixed as the message says, the same configuration starts.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let done = otsd.start().stop();
    assert!(!done.stderr.contains(KEY_ONE), "the key is not logged");
    assert!(
        !otsd.data_path().join("master.key").exists(),
        "no key is generated when a key file is configured"
    );
}

#[tokio::test]
async fn another_master_key_is_refused_and_the_right_one_still_opens_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let with_one = Otsd::new(tmp.path()).env("OTSD_MASTER_KEY", KEY_ONE);
    let with_two = with_one.clone().env("OTSD_MASTER_KEY", KEY_TWO);

    let server = with_one.start();
    let value = unique("sealed-under-key-one-");
    let secret = text(&server.share(&[("secret", &value)]).await, "secret_key").to_owned();
    let log = server.stop().stderr;
    assert!(
        !with_one.data_path().join("master.key").exists(),
        "no key file is generated when OTSD_MASTER_KEY is set"
    );
    assert!(!log.contains(KEY_ONE), "the master key is not logged");

    // Another key: refused at start, naming the setting, instead of a server
    // that answers "Unknown secret" for every secret it has.
    let done = with_two.refused();
    assert!(!done.status.success(), "exit status {}", done.status);
    assert_names_a_key_mismatch(&done, "`master_key` setting");
    assert!(!done.stderr.contains(KEY_TWO), "the key is not printed");

    // The right key again: nothing was touched.
    let server = with_one.start();
    assert_eq!(server.reveal_value(&secret, None).await, value);
    server.stop();
}

/// The refusal says which key does not match, and what to do.
fn assert_names_a_key_mismatch(done: &Finished, what: &str) {
    assert!(
        done.stderr.lines().any(
            |l| l.contains(what) && l.contains("is not the key this database was written with")
        ),
        "names {what} and the mismatch; stderr:\n{}",
        done.stderr
    );
}

/// A database with a secret and its generated key file; returns the launcher,
/// the key file, its text, and the secret's key and value.
async fn database_with_a_secret(tmp: &std::path::Path) -> (Otsd, PathBuf, String, String, String) {
    let otsd = Otsd::new(tmp);
    let server = otsd.start();
    let value = unique("under-the-generated-key-");
    let secret = text(&server.share(&[("secret", &value)]).await, "secret_key").to_owned();
    server.stop();
    let key_file = otsd.data_path().join("master.key");
    let written = std::fs::read_to_string(&key_file).unwrap();
    (otsd, key_file, written, secret, value)
}

#[tokio::test]
async fn a_replaced_key_file_is_refused_and_the_original_still_opens_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let (otsd, key_file, written, secret, value) = database_with_a_secret(tmp.path()).await;

    std::fs::write(&key_file, KEY_TWO).unwrap();
    let done = otsd.refused();
    assert!(!done.status.success(), "exit status {}", done.status);
    assert_names_a_key_mismatch(&done, &key_file.display().to_string());

    std::fs::write(&key_file, &written).unwrap();
    let server = otsd.start();
    assert_eq!(server.reveal_value(&secret, None).await, value);
    server.stop();
}

#[tokio::test]
async fn no_new_key_is_generated_for_a_database_that_holds_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let (otsd, key_file, written, secret, value) = database_with_a_secret(tmp.path()).await;

    std::fs::remove_file(&key_file).unwrap();
    let done = otsd.refused();
    assert!(!done.status.success(), "exit status {}", done.status);
    assert!(
        done.stderr
            .lines()
            .any(|l| l.contains(&key_file.display().to_string())
                && l.contains("is missing")
                && l.contains("restore")),
        "names the missing key file and says to restore it; stderr:\n{}",
        done.stderr
    );
    assert!(
        !key_file.exists(),
        "no new key was written over the lost one"
    );

    std::fs::write(&key_file, &written).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let server = otsd.start();
    assert_eq!(server.reveal_value(&secret, None).await, value);
    server.stop();
}

#[test]
fn a_database_that_holds_nothing_gets_a_new_key_when_its_key_file_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    otsd.start().stop();
    let key_file = otsd.data_path().join("master.key");
    let first = std::fs::read_to_string(&key_file).unwrap();

    std::fs::remove_file(&key_file).unwrap();
    otsd.start().stop();
    let second = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(first, second, "a new key");
    // And that new key is now the one the database knows.
    otsd.start().stop();
}

/// A kill -9 the moment the first start creates its key file (seen with
/// inotify), many times over: every later start must come up, never stopped
/// by a key file left empty.
#[test]
fn a_kill_while_the_first_key_is_written_never_leaves_a_key_that_stops_later_starts() {
    const ATTEMPTS: usize = 15;
    for attempt in 0..ATTEMPTS {
        let tmp = tempfile::tempdir().unwrap();
        let otsd = Otsd::new(tmp.path());
        let data = otsd.data_path().to_owned();
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&data)
            .unwrap();
        let watch = Watch::new(&data);
        let mut child = otsd.spawn_child();
        let seen = watch.wait_for(
            |name| name.starts_with("master.key"),
            std::time::Duration::from_secs(10),
        );
        let _ = child.kill();
        let _ = child.wait();
        assert!(seen, "attempt {attempt}: the start created a key file");
        otsd.start().stop();
    }
}

#[test]
fn a_malformed_master_key_is_refused_naming_the_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let done = Otsd::new(tmp.path())
        .env("OTSD_MASTER_KEY", "not-hex-and-too-short")
        .refused();
    assert!(!done.status.success(), "exit status {}", done.status);
    assert!(
        done.stderr.contains("master_key"),
        "names the setting; stderr:\n{}",
        done.stderr
    );
    assert!(
        !done.stderr.contains("not-hex-and-too-short"),
        "does not echo the key"
    );
}
