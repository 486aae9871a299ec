//! Configuration in layers: TOML file → `OTSD_*` environment → flags. Unknown keys
//! stop start-up (warn with `strict = false`), invalid values stop start-up
//! naming the key.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::common::*;

/// Writes `text` to `<dir>/otsd.toml` and returns its path.
fn config_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("otsd.toml");
    std::fs::write(&path, text).expect("write the config file");
    path
}

/// A TOML string literal of a path.
fn toml_path(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

/// The TTL the server gives a share that asks for one second.
async fn ttl_for_one_second(server: &Server) -> u64 {
    let receipt = server.share(&[("secret", "x"), ("ttl", "1")]).await;
    receipt["ttl"]
        .as_u64()
        .unwrap_or_else(|| panic!("ttl in {receipt}"))
}

/// A port held by this test, so a server that tries to take it fails naming it.
fn occupied_port() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

#[tokio::test]
async fn a_config_file_sets_listen_data_dir_and_min_ttl() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("from-file");
    let file = config_file(
        tmp.path(),
        &format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {}\n\n[limits]\nmin_ttl = 120\n",
            toml_path(&data)
        ),
    );
    let otsd = Otsd::bare(tmp.path())
        .env("OTSD_CRYPTO__PBKDF2_ITERATIONS", "1000")
        .arg("--config")
        .arg(&file);
    let server = otsd.start();
    assert_eq!(ttl_for_one_second(&server).await, 120);
    assert!(data.join("db").is_dir(), "the data_dir of the file is used");
    let log = server.stop().stderr;
    assert!(!log.contains("unknown configuration key"), "log:\n{log}");
}

#[test]
fn unknown_keys_in_the_file_and_environment_stop_start_up_and_with_strict_false_warn() {
    let tmp = tempfile::tempdir().unwrap();
    let file = config_file(tmp.path(), "colour = \"blue\"\n\n[limits]\nmin_tll = 5\n");
    let otsd = Otsd::new(tmp.path())
        .arg("--config")
        .arg(&file)
        .env("OTSD_NOPE_KEY", "1")
        .env("OTSD_LIMITS__MAX_TTTL", "9");
    let names = [
        "colour",
        "limits.min_tll",
        "OTSD_NOPE_KEY",
        "OTSD_LIMITS__MAX_TTTL",
    ];
    let done = otsd.refused();
    assert_eq!(done.status.code(), Some(2), "stderr:\n{}", done.stderr);
    for name in names {
        assert!(
            done.stderr.contains(name),
            "the refusal names {name}; stderr:\n{}",
            done.stderr
        );
    }
    assert!(!tmp.path().join("data").exists(), "nothing is created");

    let server = otsd.env("OTSD_STRICT", "false").start();
    let log = server.stop().stderr;
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    for name in names {
        assert!(
            warnings.iter().any(|w| w.contains(name)),
            "a warning names {name}; warnings: {warnings:#?}"
        );
    }
}

/// Start-up with one bad value must fail fast, non-zero, naming the key.
fn assert_refused_naming(otsd: &Otsd, key: &str, what: &str) {
    let done = otsd.refused();
    assert!(
        !done.status.success(),
        "{what}: exits non-zero, got {}",
        done.status
    );
    assert!(
        done.stderr.contains(key),
        "{what}: the message names `{key}`; stderr:\n{}",
        done.stderr
    );
}

#[test]
fn invalid_values_stop_start_up_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    assert_refused_naming(
        &Otsd::new(tmp.path()).env("OTSD_LIMITS__MIN_TTL", "soon"),
        "limits.min_ttl",
        "OTSD_LIMITS__MIN_TTL=soon",
    );
    let file = config_file(tmp.path(), "listen = \"nowhere\"\n");
    assert_refused_naming(
        &Otsd::new(tmp.path())
            .without_listen_flag()
            .arg("--config")
            .arg(&file),
        "listen",
        "listen = \"nowhere\" in the file",
    );
    assert_refused_naming(
        &Otsd::new(tmp.path()).listen("nowhere"),
        "listen",
        "--listen nowhere",
    );
    assert!(
        !tmp.path().join("data").exists(),
        "nothing is created when the configuration is refused"
    );
}

#[tokio::test]
async fn the_environment_overrides_the_file_and_flags_override_both() {
    let tmp = tempfile::tempdir().unwrap();
    let (_held1, file_port) = occupied_port();
    let (_held2, env_port) = occupied_port();
    let file = config_file(
        tmp.path(),
        &format!("listen = \"127.0.0.1:{file_port}\"\n\n[limits]\nmin_ttl = 120\n"),
    );
    let with_file = Otsd::new(tmp.path())
        .without_listen_flag()
        .arg("--config")
        .arg(&file);

    // The file alone: its (occupied) port is the one tried.
    let done = with_file.refused();
    assert!(
        done.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{file_port}")),
        "the file's listen is used; stderr:\n{}",
        done.stderr
    );

    // OTSD_LISTEN beats the file.
    let with_env = with_file
        .clone()
        .env("OTSD_LISTEN", &format!("127.0.0.1:{env_port}"));
    let done = with_env.refused();
    assert!(
        done.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{env_port}")),
        "OTSD_LISTEN overrides the file; stderr:\n{}",
        done.stderr
    );

    // --listen beats both.
    let flag_port = free_port();
    let server = with_env
        .clone()
        .listen(&format!("127.0.0.1:{flag_port}"))
        .start();
    assert_eq!(
        server.port, flag_port,
        "the flag's port is the one listened on"
    );
    assert_eq!(ttl_for_one_second(&server).await, 120, "file's min_ttl");
    server.stop();

    // OTSD_LIMITS__MIN_TTL beats the file's min_ttl.
    let server = with_env
        .listen("127.0.0.1:0")
        .env("OTSD_LIMITS__MIN_TTL", "300")
        .start();
    assert_eq!(ttl_for_one_second(&server).await, 300, "env's min_ttl");
    server.stop();
}

/// With no file, no variables and no `--data-dir`, the data lives in
/// `./otsd-data` (created with a fresh master key) and the server serves from it.
#[tokio::test]
async fn without_a_config_the_data_lives_in_otsd_data_of_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::bare(tmp.path()).listen("127.0.0.1:0");
    let server = otsd.start();
    let receipt = server.share(&[("secret", "in the default place")]).await;
    let default = tmp.path().join("otsd-data");
    assert!(default.join("master.key").is_file(), "a fresh master key");
    assert!(default.join("db").is_dir(), "the database");
    server.stop();

    let server = otsd.start();
    let key = receipt["secret_key"].as_str().expect("secret_key");
    assert_eq!(server.reveal_value(key, None).await, "in the default place");
    server.stop();
}

/// The access log is off by default; `access_log = true` (here from the
/// environment) adds one line per request naming its route pattern.
#[tokio::test]
async fn access_log_lines_are_off_by_default_and_can_be_switched_on() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    for (setting, expect_lines) in [(None, false), (Some("true"), true), (Some("false"), false)] {
        let otsd = match setting {
            Some(value) => otsd.clone().env("OTSD_ACCESS_LOG", value),
            None => otsd.clone(),
        };
        let server = otsd.start();
        server.share(&[("secret", "logged or not")]).await;
        let log = server.stop().stderr;
        assert_eq!(
            log.contains("\"POST /api/v1/share\" 200"),
            expect_lines,
            "access_log = {setting:?}; log:\n{log}"
        );
        assert!(log.contains("stopped cleanly"), "log:\n{log}");
    }
}

/// Each access log line starts with the client address rate limits count:
/// behind a trusted proxy, the forwarded client; otherwise the peer, whatever
/// `X-Forwarded-For` claims. HEAD is logged as HEAD.
#[tokio::test]
async fn the_access_log_names_the_client_that_rate_limits_count() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path()).env("OTSD_ACCESS_LOG", "true");
    for (trusted, expected) in [(true, "203.0.113.7"), (false, "127.0.0.1")] {
        let otsd = if trusted {
            otsd.clone()
                .env("OTSD_RATE_LIMITS__TRUSTED_PROXIES", "127.0.0.1")
        } else {
            otsd.clone()
        };
        let server = otsd.start();
        let forwarded = server.forwarded_for("203.0.113.7");
        forwarded.share(&[("secret", "logged by its client")]).await;
        let head = forwarded
            .http
            .head(server.url("/healthz"))
            .header("x-forwarded-for", "203.0.113.7");
        assert_eq!(head.send().await.unwrap().status(), 200);
        let log = server.stop().stderr;
        let line = log
            .lines()
            .find(|l| l.contains("\"POST /api/v1/share\" 200"))
            .unwrap_or_else(|| panic!("an access line; log:\n{log}"));
        assert!(
            line.contains(&format!(" {expected} \"POST")),
            "trusted proxy: {trusted}; line: {line}"
        );
        assert!(
            log.lines()
                .any(|l| l.contains(&format!(" {expected} \"HEAD /healthz\" 200"))),
            "HEAD is logged as HEAD; log:\n{log}"
        );
    }
}
