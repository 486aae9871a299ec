//! `otsd user add|list|remove|token` from the compiled binary: before the first
//! `serve`, while a server runs (through `admin.sock` in the data directory), and
//! with no server running (the database opened directly). Tokens are printed once,
//! alone on stdout, and only a keyed hash of them is ever stored.

use std::path::{Path, PathBuf};

use crate::common::*;

const TOKEN_LENGTH: usize = 40;

/// `otsd --data-dir <dir>/data --config <dir>/otsd.toml` with an empty config file,
/// so no config installed on the machine (`/etc/otsd/otsd.toml`) is read.
pub(super) fn otsd(dir: &Path) -> Otsd {
    otsd_with_config(dir, "")
}

/// Like [`otsd`], with `toml` in the config file.
fn otsd_with_config(dir: &Path, toml: &str) -> Otsd {
    let config = dir.join("otsd.toml");
    std::fs::write(&config, toml).expect("write the config file");
    Otsd::new(dir).arg("--config").arg(config)
}

/// Runs `otsd user <args…>` to completion.
pub(super) fn user(otsd: &Otsd, args: &[&str]) -> Finished {
    args.iter()
        .fold(otsd.clone().arg("user"), |cmd, a| cmd.arg(*a))
        .run()
}

/// Asserts success and that stdout is exactly one token and a newline; returns it.
pub(super) fn printed_token(done: &Finished, what: &str) -> String {
    assert!(
        done.status.success(),
        "{what}: exit {}; stderr:\n{}",
        done.status,
        done.stderr
    );
    let token = done
        .stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("{what}: stdout ends with a newline: {:?}", done.stdout));
    assert_eq!(
        token.len(),
        TOKEN_LENGTH,
        "{what}: the token alone: {:?}",
        done.stdout
    );
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
        "{what}: {token:?}"
    );
    assert!(
        !done.stderr.contains(token),
        "{what}: the token is not repeated on stderr"
    );
    token.to_owned()
}

/// `otsd user list`: the account names, in the order printed.
fn listed(otsd: &Otsd) -> Vec<String> {
    let done = user(otsd, &["list"]);
    assert!(done.status.success(), "list; stderr:\n{}", done.stderr);
    done.stdout
        .lines()
        .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
        .collect()
}

/// Asserts a refused command: non-zero exit, nothing on stdout, `otsd: <message>`.
fn assert_refused(done: &Finished, message: &str, what: &str) {
    assert!(!done.status.success(), "{what}: exits non-zero");
    assert_eq!(done.stdout, "", "{what}: nothing on stdout");
    assert!(
        done.stderr.contains(&format!("otsd: {message}")),
        "{what}: says {message:?}; stderr:\n{}",
        done.stderr
    );
}

/// Whether the running server accepts `name:token` (asserts `Not authorized` if not).
async fn accepted(server: &Server, name: &str, token: &str) -> bool {
    let resp = server
        .as_account(&Account::new(name, token))
        .get(AUTHCHECK)
        .await;
    if resp.status() == 200 {
        return true;
    }
    assert_not_authorized(resp).await;
    false
}

fn socket(otsd: &Otsd) -> PathBuf {
    otsd.data_path().join("admin.sock")
}

#[tokio::test]
async fn user_add_before_the_first_serve_prints_the_token_alone_and_serve_accepts_it() {
    if on_postgres() {
        // `--init` guards against making a sled database in the wrong
        // directory; a PostgreSQL URL names its database (see
        // `user_commands_open_the_database_directly_when_no_server_runs`).
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    assert!(!otsd.data_path().exists(), "no data directory yet");

    // Without --init, nothing is made: the command says where it looked.
    let refused = user(&otsd, &["add", "alice@example.com"]);
    assert!(!refused.status.success());
    let db = otsd.data_path().join("db").display().to_string();
    assert!(
        refused.stderr.contains(&db) && refused.stderr.contains("--init"),
        "names the place it looked and how to go on; stderr:\n{}",
        refused.stderr
    );
    assert!(
        !otsd.data_path().exists(),
        "no data directory or key is made"
    );

    let token = printed_token(&user(&otsd, &["--init", "add", "alice@example.com"]), "add");

    assert!(
        otsd.data_path().join("master.key").is_file(),
        "the key was made"
    );
    assert_eq!(listed(&otsd), ["alice@example.com"]);
    let server = otsd.start();
    assert!(accepted(&server, "alice@example.com", &token).await);
    let meta = server
        .as_account(&Account::new("alice@example.com", &token))
        .share(&[("secret", "from the first account")])
        .await;
    assert_eq!(text(&meta, "custid"), "alice@example.com");
    server.stop();
}

#[tokio::test]
async fn user_commands_go_through_the_admin_socket_while_the_server_runs() {
    if on_postgres() {
        // On PostgreSQL the command works on the database beside the running
        // nodes, never through one (tests/cluster.rs runs it so).
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    let server = otsd.start();
    assert!(
        socket(&otsd).exists(),
        "the running server listens on admin.sock"
    );

    let first = printed_token(&user(&otsd, &["add", "bob"]), "add");
    assert!(accepted(&server, "bob", &first).await, "usable at once");
    assert_eq!(listed(&otsd), ["bob"]);

    let second = printed_token(&user(&otsd, &["token", "bob"]), "token");
    assert_ne!(first, second);
    assert!(
        !accepted(&server, "bob", &first).await,
        "the old token stops at once"
    );
    assert!(accepted(&server, "bob", &second).await);

    let removed = user(&otsd, &["remove", "bob"]);
    assert!(
        removed.status.success(),
        "remove; stderr:\n{}",
        removed.stderr
    );
    assert!(!accepted(&server, "bob", &second).await, "removed at once");
    assert_eq!(listed(&otsd), Vec::<String>::new());

    let log = server.log();
    for line in [
        "admin: add account bob",
        "admin: new token for account bob",
        "admin: remove account bob",
    ] {
        assert!(log.contains(line), "the server did {line:?}; log:\n{log}");
    }
    server.stop();
    assert!(
        !socket(&otsd).exists(),
        "a stopped server removes admin.sock"
    );
}

#[tokio::test]
async fn user_commands_open_the_database_directly_when_no_server_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    otsd.start().stop();
    assert!(!socket(&otsd).exists());

    let old = printed_token(&user(&otsd, &["add", "carol"]), "add carol");
    let dave = printed_token(&user(&otsd, &["add", "dave"]), "add dave");
    let new = printed_token(&user(&otsd, &["token", "carol"]), "token carol");
    let removed = user(&otsd, &["remove", "dave"]);
    assert!(
        removed.status.success(),
        "remove; stderr:\n{}",
        removed.stderr
    );
    assert_eq!(listed(&otsd), ["carol"]);
    assert!(
        !socket(&otsd).exists(),
        "no server was started for the commands"
    );

    let server = otsd.start();
    assert!(accepted(&server, "carol", &new).await);
    assert!(!accepted(&server, "carol", &old).await);
    assert!(!accepted(&server, "dave", &dave).await);
    server.stop();
}

#[tokio::test]
async fn user_command_errors_exit_non_zero_with_a_message_online_and_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    printed_token(&user(&otsd, &["--init", "add", "erin"]), "add erin");
    let invalid_name = "an account name is 1 to 128 letters";

    for running in [false, true] {
        let server = running.then(|| otsd.start());
        let mode = if running {
            "server running"
        } else {
            "no server"
        };

        let cases = [
            (
                &["add", "erin"][..],
                "an account with that name already exists",
            ),
            (&["remove", "nobody"][..], "no such account"),
            (&["token", "nobody"][..], "no such account"),
            (&["add", "a:b"][..], invalid_name),
            (&["add", "anon"][..], invalid_name),
            (&["add", "has space"][..], invalid_name),
        ];
        for (args, message) in cases {
            assert_refused(&user(&otsd, args), message, &format!("{args:?}, {mode}"));
        }
        assert_eq!(listed(&otsd), ["erin"], "{mode}: nothing changed");
        if let Some(server) = server {
            server.stop();
        }
    }
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a data directory") {
            let path = entry.expect("a directory entry").path();
            let kind = std::fs::symlink_metadata(&path)
                .expect("metadata")
                .file_type();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn no_token_is_stored_in_the_data_directory_or_written_to_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    let mut tokens = Vec::new();
    let mut outputs = String::new();
    let mut run = |args: &[&str]| {
        let done = user(&otsd, args);
        outputs.push_str(&done.stderr);
        printed_token(&done, &format!("{args:?}"))
    };

    tokens.push(run(&["--init", "add", "frank"]));
    let server = otsd.start();
    tokens.push(run(&["add", "grace"]));
    tokens.push(run(&["token", "grace"]));
    for (name, token) in [("frank", &tokens[0]), ("grace", &tokens[2])] {
        assert!(accepted(&server, name, token).await);
        let account = Account::new(name, token);
        server.as_account(&account).share(&[("secret", "s")]).await;
    }
    let log = server.stop().stderr;
    tokens.push(run(&["token", "frank"]));

    // Every file of the data directory, and what the store holds (sled's
    // files are among those; PostgreSQL's database as a `pg_dump`).
    let mut files: Vec<(String, Vec<u8>)> = files_under(otsd.data_path())
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).expect("read a data file");
            (f.display().to_string(), bytes)
        })
        .collect();
    files.extend(stored_bytes(otsd.data_path()));
    assert!(
        files.iter().any(|(f, _)| !f.ends_with("master.key")),
        "the database is there to scan: {:?}",
        files.iter().map(|(f, _)| f).collect::<Vec<_>>()
    );
    let readable = |needle: &[u8]| files.iter().any(|(_, bytes)| contains(bytes, needle));
    assert!(
        readable(b"grace"),
        "the scan sees the account records (their names are stored in the clear)"
    );
    for token in &tokens {
        // Neither the token nor its unkeyed SHA-256 is anywhere on disk.
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        for (file, bytes) in &files {
            assert!(!contains(bytes, token.as_bytes()), "a token in {file:?}");
            assert!(
                !contains(bytes, digest.as_ref()),
                "a token's SHA-256 in {file:?}"
            );
        }
        assert!(!log.contains(token.as_str()), "a token in the server log");
        assert!(
            !outputs.contains(token.as_str()),
            "a token in a command's stderr"
        );
    }
}

#[tokio::test]
async fn user_commands_work_after_a_crash_left_a_stale_admin_socket() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    otsd.start().kill9();
    assert!(
        socket(&otsd).exists(),
        "SIGKILL leaves the socket file behind"
    );

    let token = printed_token(&user(&otsd, &["add", "heidi"]), "add after a crash");

    assert_eq!(listed(&otsd), ["heidi"]);
    let server = otsd.start();
    assert!(accepted(&server, "heidi", &token).await);
    server.stop();
}

#[tokio::test]
async fn the_config_files_limit_and_rate_limit_sections_reach_the_running_server() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd_with_config(
        tmp.path(),
        r#"
[limits.anonymous]
max_ttl = 3600

[limits.authenticated]
default_ttl = 1200
max_ttl = 7200
max_secret_bytes = 20

[rate_limits]
window_secs = 1099511627776
create = 3
trusted_proxies = ["127.0.0.1"]
"#,
    );
    let token = printed_token(&user(&otsd, &["--init", "add", "ivan"]), "add");
    let server = otsd.start();
    let ivan = Account::new("ivan", &token);
    let share = |from: &str, form: &[(&str, &str)], account: bool| {
        server
            .forwarded_for(from)
            .as_caller(account.then_some(&ivan))
            .post_form(SHARE, form)
    };
    let long_ttl = [("secret", "s"), ("ttl", "99999")];

    let anonymous = ok_json(share("198.51.100.1", &long_ttl, false).await).await;
    let defaulted = ok_json(share("198.51.100.2", &[("secret", "s")], true).await).await;
    let clamped = ok_json(share("198.51.100.3", &long_ttl, true).await).await;
    let too_large = share("198.51.100.4", &[("secret", &"x".repeat(21))], true).await;
    ok_json(share("198.51.100.1", &[("secret", "s")], false).await).await;
    ok_json(share("198.51.100.1", &[("secret", "s")], false).await).await;
    let limited = share("198.51.100.1", &[("secret", "s")], false).await;

    assert_eq!(anonymous["ttl"], 3600, "limits.anonymous.max_ttl");
    assert_eq!(defaulted["ttl"], 1200, "limits.authenticated.default_ttl");
    assert_eq!(clamped["ttl"], 7200, "limits.authenticated.max_ttl");
    assert_error(
        too_large,
        413,
        "Secret value exceeds the maximum size of 20 bytes",
    )
    .await;
    // rate_limits.create, per forwarded address.
    assert_rate_limited(limited).await;
    server.stop();
}

#[tokio::test]
async fn a_user_command_run_by_root_leaves_only_files_the_data_directory_owner_owns() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // The package's case: root runs `otsd user` on the service user's directory.
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: only root can switch to another user");
        return;
    }
    const SERVICE: u32 = 65534; // any user but root
    let tmp = tempfile::tempdir().unwrap();
    // The service user must reach its directory through the temp dir.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let otsd = otsd(tmp.path());
    std::fs::create_dir(otsd.data_path()).unwrap();
    std::os::unix::fs::chown(otsd.data_path(), Some(SERVICE), Some(SERVICE)).unwrap();

    printed_token(&user(&otsd, &["--init", "add", "erin"]), "add erin");

    let files = files_under(otsd.data_path());
    // The master key, and the sled database unless on PostgreSQL.
    let least = if on_postgres() { 1 } else { 2 };
    assert!(files.len() >= least, "{files:?}");
    for file in files {
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid()),
            (SERVICE, SERVICE),
            "{}",
            file.display()
        );
    }
}

/// `2026-12-04 05:40:00 UTC` → seconds since the epoch, checking the shape on
/// the way (civil-to-days, the inverse of what the binary computes).
fn parse_utc(text: &str) -> u64 {
    let digits = |range: std::ops::Range<usize>| -> i64 {
        text.get(range.clone())
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| panic!("{text:?}: digits at {range:?}"))
            .parse()
            .unwrap()
    };
    assert_eq!(text.len(), 23, "{text:?}: YYYY-MM-DD HH:MM:SS UTC");
    for (at, sep) in [(4, '-'), (7, '-'), (10, ' '), (13, ':'), (16, ':')] {
        assert_eq!(text[at..].chars().next(), Some(sep), "{text:?} at {at}");
    }
    assert!(text.ends_with(" UTC"), "{text:?} says UTC");
    let (y, m, d) = (digits(0..4), digits(5..7), digits(8..10));
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + digits(11..13) * 3600 + digits(14..16) * 60 + digits(17..19)) as u64
}

#[test]
fn user_list_prints_when_each_account_was_made_as_a_utc_date_not_epoch_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    printed_token(&user(&otsd, &["--init", "add", "alice"]), "add alice");
    let after = before + 60;

    let done = user(&otsd, &["list"]);
    assert!(done.status.success(), "list; stderr:\n{}", done.stderr);
    let line = done.stdout.lines().next().expect("one line for alice");
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(fields.len(), 4, "name, extid, created, updated: {line:?}");
    assert_eq!(fields[0], "alice");
    for (field, label) in [(fields[2], "created "), (fields[3], "updated ")] {
        let date = field
            .strip_prefix(label)
            .unwrap_or_else(|| panic!("{field:?} starts with {label:?}"));
        let when = parse_utc(date);
        assert!(
            (before..=after).contains(&when),
            "{date:?} is now (between {before} and {after}), in UTC"
        );
    }
}
