//! An account's extid (API v2 §12: the official client sends `ur…` as the
//! Basic user name): `otsd user add` and `token` name it on stderr (stdout
//! stays the token alone), `otsd user list` shows it, and it never changes:
//! not across a restart, a token renewal, or a backup and restore.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use serde_json::json;

use super::cli::{otsd, printed_token, user};
use crate::common::*;

/// The extid `otsd user add|token` names on stderr.
fn extid_on_stderr(done: &Finished) -> String {
    let extid = done
        .stderr
        .split("names it ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("an extid on stderr:\n{}", done.stderr))
        .to_owned();
    assert!(
        extid.starts_with("ur")
            && extid.len() > 2
            && extid
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "an extid: {extid:?}"
    );
    extid
}

/// `otsd user list`: (name, extid) of each account.
fn listed_extids(otsd: &Otsd) -> Vec<(String, String)> {
    let done = user(otsd, &["list"]);
    assert!(done.status.success(), "list; stderr:\n{}", done.stderr);
    done.stdout
        .lines()
        .map(|line| {
            let mut columns = line.split('\t');
            let name = columns.next().unwrap_or_default().to_owned();
            let extid = columns.next().unwrap_or_default().to_owned();
            (name, extid)
        })
        .collect()
}

/// Whether the server takes `user:token` for a v2 create, and as whom.
async fn creates_as(server: &Server, user: &str, token: &str) -> Option<String> {
    let resp = server
        .as_account(&Account::new(user, token))
        .post_json(V2_CONCEAL, &json!({"secret": {"secret": "s"}}))
        .await;
    let (status, body) = v2_answer(resp).await;
    match status {
        200 => Some(text(&body["record"]["receipt"], "custid").to_owned()),
        401 => None,
        _ => panic!("{status}: {body}"),
    }
}

#[tokio::test]
async fn user_add_names_the_extid_on_stderr_and_user_list_shows_it() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    otsd.start().stop();

    let added = user(&otsd, &["add", "alice"]);
    let token = printed_token(&added, "add");
    let extid = extid_on_stderr(&added);
    assert!(!added.stdout.contains(&extid), "stdout is the token alone");
    let other = extid_on_stderr(&user(&otsd, &["add", "bob"]));
    assert_ne!(extid, other, "each account has its own");

    assert_eq!(
        listed_extids(&otsd),
        [
            ("alice".to_owned(), extid.clone()),
            ("bob".to_owned(), other)
        ]
    );
    let server = otsd.start();
    assert_eq!(
        creates_as(&server, &extid, &token).await.as_deref(),
        Some("alice")
    );
    server.stop();
}

#[tokio::test]
async fn an_extid_stays_the_same_across_a_restart_and_a_token_renewal() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    otsd.start().stop();
    let added = user(&otsd, &["add", "alice"]);
    let old_token = printed_token(&added, "add");
    let extid = extid_on_stderr(&added);

    let server = otsd.start();
    assert_eq!(
        creates_as(&server, &extid, &old_token).await.as_deref(),
        Some("alice")
    );
    server.stop();
    let server = otsd.start();
    assert_eq!(
        creates_as(&server, &extid.to_uppercase(), &old_token)
            .await
            .as_deref(),
        Some("alice"),
        "after a restart, in upper case too"
    );

    let renewed = user(&otsd, &["token", "alice"]);
    let new_token = printed_token(&renewed, "token");
    assert_eq!(
        extid_on_stderr(&renewed),
        extid,
        "a new token, the same extid"
    );
    assert_eq!(listed_extids(&otsd), [("alice".to_owned(), extid.clone())]);
    assert_eq!(
        creates_as(&server, &extid, &new_token).await.as_deref(),
        Some("alice")
    );
    assert_eq!(creates_as(&server, &extid, &old_token).await, None);
    server.stop();
}

#[tokio::test]
async fn a_backup_and_restore_keeps_every_extid() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = otsd(tmp.path());
    otsd.start().stop();
    let added = user(&otsd, &["add", "alice"]);
    let token = printed_token(&added, "add");
    let extid = extid_on_stderr(&added);
    let server = otsd.start();

    let file = tmp.path().join("otsd.backup");
    let done = Otsd::bare(tmp.path())
        .data_dir(otsd.data_path())
        .arg("backup")
        .arg(&file)
        .run();
    assert!(done.status.success(), "backup; stderr:\n{}", done.stderr);
    server.stop();

    let restored = tmp.path().join("restored");
    with_master_key_of(otsd.data_path(), &restored);
    let done = Otsd::bare(tmp.path())
        .data_dir(&restored)
        .arg("restore")
        .arg(&file)
        .run();
    assert!(done.status.success(), "restore; stderr:\n{}", done.stderr);

    let restored = otsd.clone().data_dir(&restored);
    assert_eq!(
        listed_extids(&restored),
        [("alice".to_owned(), extid.clone())]
    );
    let server = restored.start();
    assert_eq!(
        creates_as(&server, &extid, &token).await.as_deref(),
        Some("alice")
    );
    server.stop();
}

/// Makes `dir` holding only a copy of `from`'s master key: what an operator
/// brings back before restoring.
fn with_master_key_of(from: &Path, dir: &Path) {
    std::fs::DirBuilder::new().mode(0o700).create(dir).unwrap();
    let key = dir.join("master.key");
    std::fs::copy(from.join("master.key"), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
}
