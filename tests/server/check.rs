//! README "Configuration": a configuration that refuses mistakes. `otsd check`
//! lists every problem; unknown keys say where they came from and the nearest
//! known key, and are fatal unless `strict = false`; a port in use leaves nothing behind;
//! `--version`, the manual page and the completions.

use std::path::{Path, PathBuf};

use crate::common::*;

fn config_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("otsd.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn check(dir: &Path, file: &Path) -> Otsd {
    Otsd::bare(dir).arg("--config").arg(file).arg("check")
}

#[test]
fn check_lists_every_problem_each_naming_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let file = config_file(
        tmp.path(),
        "listen = \"localhost:7143\"\nlog_level = \"loud\"\n\n[limits]\nmin_ttl = \"soon\"\n\n\
         [reaper]\ninterval_secs = 0\n\n[web]\nttl_choices = [10, 3600]\n",
    );
    let done = check(tmp.path(), &file).run();
    assert_eq!(done.status.code(), Some(2), "stderr:\n{}", done.stderr);
    for expected in [
        "`localhost` is a host name, and an IP address is needed",
        "limits.min_ttl",
        "`reaper.interval_secs` must be at least 1",
        "`log_level` has `loud`, which is neither a level",
        "`web.ttl_choices` holds 10, outside the TTL limits",
    ] {
        assert!(
            done.stderr.contains(expected),
            "lists {expected:?}; stderr:\n{}",
            done.stderr
        );
    }
    assert!(
        !tmp.path().join("otsd-data").exists(),
        "check creates nothing"
    );

    let empty = config_file(tmp.path(), "[web]\nttl_choices = []\n");
    let done = check(tmp.path(), &empty).run();
    assert_eq!(done.status.code(), Some(2), "stderr:\n{}", done.stderr);
    assert!(
        done.stderr
            .contains("`web.ttl_choices` must offer at least one choice"),
        "stderr:\n{}",
        done.stderr
    );

    let fine = config_file(tmp.path(), "log_level = \"info,otsd::store=debug\"\n");
    let done = check(tmp.path(), &fine).run();
    assert_eq!(done.status.code(), Some(0), "stderr:\n{}", done.stderr);
    assert!(done.stderr.contains("the configuration is valid"));
}

#[test]
fn an_unknown_key_is_refused_naming_its_origin_and_the_nearest_key_and_strict_false_relaxes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = config_file(
        tmp.path(),
        "anonymous_creat = false\nworkrs = 2\n\n[storage]\ncache_mb = 8\n",
    );
    let path = file.display().to_string();
    let expected = [
        format!(
            "unknown configuration key `anonymous_creat` in {path} (did you mean \
             `anonymous_create`?)"
        ),
        format!("unknown configuration key `workrs` in {path} (did you mean `workers`?)"),
        format!("`storage.cache_mb` in {path} (did you mean `storage.cache_mib`?)"),
        "`acess_log` from the environment (OTSD_ACESS_LOG) (did you mean `access_log`, \
         OTSD_ACCESS_LOG?)"
            .to_owned(),
    ];
    let done = check(tmp.path(), &file).env("OTSD_ACESS_LOG", "true").run();
    assert_eq!(
        done.status.code(),
        Some(2),
        "unknown keys fail the check; stderr:\n{}",
        done.stderr
    );
    assert!(!done.stderr.contains("is valid"), "{}", done.stderr);
    for says in &expected {
        assert!(
            done.stderr.contains(says),
            "says {says:?}; stderr:\n{}",
            done.stderr
        );
    }
    let done = Otsd::new(tmp.path()).arg("--config").arg(&file).refused();
    assert_eq!(done.status.code(), Some(2), "stderr:\n{}", done.stderr);
    assert!(done.stderr.contains("`anonymous_creat`"), "{}", done.stderr);
    assert!(!tmp.path().join("data").exists(), "nothing is created");

    // `strict = false` (or OTSD_STRICT=false) makes them warnings.
    let relaxed = config_file(
        tmp.path(),
        "strict = false\nanonymous_creat = false\nworkrs = 2\n\n[storage]\ncache_mb = 8\n",
    );
    for (what, done) in [
        (
            "strict = false",
            check(tmp.path(), &relaxed)
                .env("OTSD_ACESS_LOG", "true")
                .run(),
        ),
        (
            "OTSD_STRICT=false",
            check(tmp.path(), &file)
                .env("OTSD_ACESS_LOG", "true")
                .env("OTSD_STRICT", "false")
                .run(),
        ),
    ] {
        assert_eq!(
            done.status.code(),
            Some(0),
            "{what}: warnings only; stderr:\n{}",
            done.stderr
        );
        assert!(
            done.stderr.contains("`strict = false` lets through"),
            "{what}: {}",
            done.stderr
        );
        for says in expected.iter().skip(1) {
            assert!(
                done.stderr.contains(says),
                "{what}: says {says:?}; stderr:\n{}",
                done.stderr
            );
        }
    }

    let done = check(tmp.path(), &relaxed).arg("--strict").run();
    assert_eq!(
        done.status.code(),
        Some(2),
        "--strict wins over strict = false; stderr:\n{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("did you mean `workers`?"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_port_in_use_leaves_no_data_directory_or_key_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let otsd = Otsd::new(tmp.path()).listen(&format!("127.0.0.1:{port}"));
    let done = otsd.refused();
    assert!(!done.status.success());
    assert!(
        done.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{port}"))
            && done.stderr.contains("--listen"),
        "stderr:\n{}",
        done.stderr
    );
    assert!(
        !otsd.data_path().exists(),
        "no data directory, no master key"
    );
}

#[test]
fn version_names_the_database_and_backup_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let done = Otsd::bare(tmp.path()).arg("--version").run();
    assert_eq!(done.status.code(), Some(0));
    assert_eq!(
        done.stdout.trim(),
        format!(
            "otsd {} (database format {}, backup format {})",
            env!("CARGO_PKG_VERSION"),
            otsd::store::DATABASE_FORMAT,
            otsd::store::BACKUP_FORMAT
        )
    );
}

#[test]
fn the_manual_page_and_completions_cover_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let done = Otsd::bare(tmp.path()).arg("man").run();
    assert_eq!(done.status.code(), Some(0), "stderr:\n{}", done.stderr);
    assert!(done.stdout.starts_with(".ie") || done.stdout.contains(".TH otsd"));
    for command in ["serve", "user", "backup", "restore", "check"] {
        assert!(done.stdout.contains(command), "the page names {command}");
    }
    for shell in ["bash", "zsh", "fish"] {
        let done = Otsd::bare(tmp.path()).arg("completions").arg(shell).run();
        assert_eq!(done.status.code(), Some(0), "{shell}: {}", done.stderr);
        assert!(
            done.stdout.contains("otsd") && done.stdout.contains("restore"),
            "{shell} completions name the commands"
        );
    }
    assert!(!tmp.path().join("otsd-data").exists());
}

/// Runs `otsd check --config file` with stderr on a fresh pseudo-terminal, as
/// apt runs a package's install script, and returns what it wrote there.
fn check_on_a_terminal(dir: &Path, file: &Path) -> (std::process::ExitStatus, String) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // What openpty(3) does: a new controller, and its terminal opened by name.
    let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
        .expect("posix_openpt");
    grantpt(&controller).expect("grantpt");
    unlockpt(&controller).expect("unlockpt");
    let name = ptsname(&controller, Vec::new()).expect("ptsname");
    let terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open(name.to_str().expect("a terminal name like /dev/pts/3"))
        .expect("open the terminal");
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .env("TERM", "xterm-256color")
        .current_dir(dir)
        .arg("--config")
        .arg(file)
        .arg("check")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(terminal))
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + EXIT_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "otsd check exits");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    // The terminal side is closed now: reading ends with EIO once drained.
    let mut written = Vec::new();
    let _ = std::fs::File::from(controller).read_to_end(&mut written);
    (status, String::from_utf8_lossy(&written).into_owned())
}

#[test]
fn check_writes_no_colour_codes_even_on_the_terminal_apt_gives_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = config_file(tmp.path(), "strict = false\nanonymous_creat = false\n");
    let (status, written) = check_on_a_terminal(tmp.path(), &file);
    assert!(status.success(), "{written}");
    assert!(
        written.contains("`anonymous_creat`") && !written.contains('\u{1b}'),
        "plain text, no escape codes: {written:?}"
    );
}

/// Words of Rust's types that no message about a setting may show.
const RUST_WORDS: [&str; 9] = [
    "enum",
    "variant",
    "struct",
    "u64",
    "64-bit",
    "bit integer",
    "invalid type",
    "sequence",
    "expected",
];

#[test]
fn a_value_of_the_wrong_kind_says_in_words_what_its_key_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let file = config_file(
        tmp.path(),
        "anonymous_create = \"no way\"\nworkers = \"many\"\n\n[limits]\nmin_ttl = -5\n\n\
         [rate_limits]\nipv6_prefix = 300\n\n[smtp]\nsecurity = \"ssl\"\nport = 70000\n\n\
         [web]\nttl_choices = [3600, \"soon\"]\n",
    );
    let done = check(tmp.path(), &file).run();
    assert_eq!(done.status.code(), Some(2), "stderr:\n{}", done.stderr);
    for says in [
        "`smtp.security` must be one of: starttls, tls, none; it is `ssl`",
        "`limits.min_ttl` must be a whole number, 0 or more; it is `-5`",
        "`smtp.port` must be a whole number from 0 to 65535; it is `70000`",
        "`rate_limits.ipv6_prefix` must be a whole number from 0 to 255; it is `300`",
        "`anonymous_create` must be true or false; it is \"no way\"",
        "`workers` must be a whole number, 0 or more; it is \"many\"",
        "`web.ttl_choices` must be a list, each item a whole number, 0 or more; it is \"soon\"",
    ] {
        assert!(
            done.stderr.contains(says),
            "says {says:?}; stderr:\n{}",
            done.stderr
        );
    }

    let cases: [(&str, &str, &str); 5] = [
        ("OTSD_LIMITS__MIN_TTL", "-5", "(in the environment)"),
        (
            "OTSD_ACCESS_LOG",
            "maybe",
            "`access_log` must be true or false",
        ),
        ("OTSD_SMTP__SECURITY", "ssl", "one of: starttls, tls, none"),
        (
            "OTSD_CRYPTO__PBKDF2_ITERATIONS",
            "5000000000",
            "from 0 to 4294967295",
        ),
        (
            "OTSD_LIMITS__ANONYMOUS__MAX_SECRET_BYTES",
            "-3",
            "0 or more; it is `-3`",
        ),
    ];
    let empty = config_file(tmp.path(), "");
    let mut messages = vec![done.stderr];
    for (variable, value, says) in cases {
        let done = check(tmp.path(), &empty).env(variable, value).run();
        assert_eq!(done.status.code(), Some(2), "{variable}: {}", done.stderr);
        assert!(done.stderr.contains(says), "{variable}: {}", done.stderr);
        messages.push(done.stderr);
    }
    for (text, section) in [
        (
            "limits = 5\n",
            "`limits` must be a section of settings; it is `5`",
        ),
        (
            "share_domains = 5\n",
            "`share_domains` must be a list; it is `5`",
        ),
        (
            "[smtp]\nsecurity = [\"tls\"]\n",
            "`smtp.security` must be one of",
        ),
    ] {
        let done = check(tmp.path(), &config_file(tmp.path(), text)).run();
        assert_eq!(done.status.code(), Some(2), "{text}: {}", done.stderr);
        assert!(done.stderr.contains(section), "{text}: {}", done.stderr);
        messages.push(done.stderr);
    }
    for message in &messages {
        for word in RUST_WORDS {
            assert!(
                !message.contains(word),
                "no {word:?} in a message about settings:\n{message}"
            );
        }
    }
}
