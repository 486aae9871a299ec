//! Spec §5: the master key. Generated on first start into a file only the owner
//! can read, or given by a key file or `OTSD_MASTER_KEY`; values depend on it.

use std::os::unix::fs::PermissionsExt;

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
async fn another_master_key_cannot_reveal_old_secrets() {
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

    // Another key: the secret cannot be found, let alone opened.
    let server = with_two.start();
    assert_unknown_secret(server.reveal(&secret, None).await, &secret).await;
    server.stop();

    // The right key again: it was never touched.
    let server = with_one.start();
    assert_eq!(server.reveal_value(&secret, None).await, value);
    server.stop();
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
