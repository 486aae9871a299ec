//! Moving between engines is a backup and a restore (the backup format is the
//! same for sled and PostgreSQL): a sled server's backup restored into an
//! empty PostgreSQL database, with the same master key, serves every old link,
//! receipt, token and request; and a PostgreSQL backup restored into an empty
//! sled data directory does the same.

use std::path::Path;

use super::kit::*;
use crate::common::postgres::Cluster;
use crate::common::*;

/// What was made on the first server, to be found on the others.
/// A secret as (secret key, metadata key, value); a request as (request key,
/// private key).
struct Made {
    plain: (String, String, String),
    guarded: (String, String, String),
    passphrase: String,
    owned: (String, String, String),
    account: Account,
    note: String,
    open: (String, String),
    answer: String,
    answered: String,
}

/// Shares `form` (the secret first): (secret key, metadata key, value).
async fn share(client: &Client, form: &[(&str, &str)]) -> (String, String, String) {
    let meta = client.share(form).await;
    (
        text(&meta, "secret_key").to_owned(),
        text(&meta, "metadata_key").to_owned(),
        form[0].1.to_owned(),
    )
}

/// Makes on `server` a secret, one with a passphrase, one of `account`, a
/// request still open and one answered and unread.
async fn make(server: &Server, account: Account) -> Made {
    let passphrase = unique("pass-");
    let guarded_value = unique("guarded-");
    let plain = share(server, &[("secret", &unique("plain-"))]).await;
    let guarded = share(
        server,
        &[("secret", &guarded_value), ("passphrase", &passphrase)],
    )
    .await;
    let owned = share(
        &server.as_account(&account),
        &[("secret", &unique("owned-"))],
    )
    .await;
    let note = unique("note-");
    let open = server.ask(&[("note", &note)]).await;
    let answered = server.ask(&[]).await;
    let answer = unique("answer-");
    ok_json(server.answer(text(&answered, "request_key"), &answer).await).await;
    Made {
        plain,
        guarded,
        passphrase,
        owned,
        account,
        note,
        open: (
            text(&open, "request_key").to_owned(),
            text(&open, "private_key").to_owned(),
        ),
        answer,
        answered: text(&answered, "private_key").to_owned(),
    }
}

/// Everything of `made` works on `server`, once; what is read is then gone.
async fn all_there(server: &Server, made: &Made, engine: &str) {
    let receipt = ok_json(server.metadata(&made.plain.1).await).await;
    assert_eq!(
        receipt["state"], "new",
        "{engine}: the receipt works: {receipt}"
    );
    let as_owner = server.as_account(&made.account);
    ok_json(as_owner.get(AUTHCHECK).await).await;
    let recent = ok_json(as_owner.get(RECENT[0]).await).await;
    assert!(
        recent.to_string().contains(&made.owned.1),
        "{engine}: the account's recent list: {recent}"
    );
    let (key, value) = (&made.plain.0, &made.plain.2);
    assert_eq!(&server.reveal_value(key, None).await, value, "{engine}");
    let receipt = ok_json(server.metadata(&made.plain.1).await).await;
    assert_eq!(receipt["state"], "received", "{engine}: {receipt}");
    assert_eq!(
        server
            .reveal_value(&made.guarded.0, Some(&made.passphrase))
            .await,
        made.guarded.2,
        "{engine}"
    );
    assert_eq!(server.reveal_value(&made.owned.0, None).await, made.owned.2);
    for key in [&made.plain.0, &made.guarded.0, &made.owned.0] {
        assert_unknown_secret(server.reveal(key, None).await, key).await;
    }
    let open = ok_json(server.open_request(&made.open.0).await).await;
    assert_eq!(open["note"], made.note.as_str(), "{engine}: {open}");
    let view = ok_json(server.private_view(&made.open.1).await).await;
    assert_eq!(view["state"], "waiting", "{engine}: {view}");
    let answer = ok_json(server.reveal_answer(&made.answered).await).await;
    assert_eq!(answer["value"], made.answer.as_str(), "{engine}: {answer}");
}

fn run_ok(otsd: Otsd, what: &str) -> Finished {
    let done = otsd.run();
    succeeded(&done, what);
    done
}

fn backup(dir: &Path, name: &str, url: Option<&str>, key: &Path, file: &Path) {
    run_ok(
        command(dir, name, url, key).arg("backup").arg(file),
        "otsd backup",
    );
}

/// Restores `file`; asserts that it restored what [`make`] made (three
/// secrets unread, one account, two requests).
fn restore(dir: &Path, name: &str, url: Option<&str>, key: &Path, file: &Path) {
    let done = run_ok(
        command(dir, name, url, key).arg("restore").arg(file),
        "otsd restore",
    );
    assert!(
        done.stderr.contains(
            "restored 3 secrets (3 still to be revealed) and 1 account, and 2 requests for a secret"
        ),
        "{}",
        done.stderr
    );
}

#[tokio::test]
async fn a_sled_backup_restored_into_postgresql_and_back_serves_every_old_link() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let key = master_key_file(dir);
    let sled_node = |name: &str| node(dir, name, "", &key).without_env("OTSD_DATABASE_URL");

    let sled = sled_node("sled").start();
    let account = add_account(&sled, "erin");
    let made = make(&sled, account).await;
    let from_sled = dir.join("from-sled.backup");
    backup(dir, "sled", None, &key, &from_sled);
    drop(sled.stop());

    let url = Cluster::shared().new_database();
    restore(dir, "pg", Some(&url), &key, &from_sled);
    let pg = node(dir, "pg", &url, &key).start();
    // A backup of PostgreSQL before anything is read there.
    let from_pg = dir.join("from-postgres.backup");
    backup(dir, "pg", Some(&url), &key, &from_pg);
    all_there(&pg, &made, "PostgreSQL from sled").await;
    drop(pg.stop());

    restore(dir, "sled-again", None, &key, &from_pg);
    let sled = sled_node("sled-again").start();
    all_there(&sled, &made, "sled from PostgreSQL").await;
    drop(sled.stop());
}
