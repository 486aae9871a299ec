//! Spec §5: a copy of the database alone (sled's files, or a `pg_dump` of
//! PostgreSQL's) reveals no value, passphrase or key; the generated master key
//! is readable by its owner only.

use crate::common::*;
use std::os::unix::fs::PermissionsExt;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_database_holds_no_value_passphrase_or_key_in_the_clear() {
    let app = spawn_app().await;
    let plain_value = unique("VALUE");
    let guarded_value = unique("GUARDED-VALUE");
    let passphrase = unique("PASSPHRASE");
    let burned_value = unique("BURNED-VALUE");
    let revealed_value = unique("REVEALED-VALUE");

    let mut needles: Vec<String> = vec![
        plain_value.clone(),
        guarded_value.clone(),
        passphrase.clone(),
        burned_value.clone(),
        revealed_value.clone(),
    ];
    let mut keep_keys = |meta: &serde_json::Value| {
        needles.push(text(meta, "secret_key").to_owned());
        needles.push(text(meta, "metadata_key").to_owned());
    };
    let plain = app.share(&[("secret", &plain_value)]).await;
    keep_keys(&plain);
    let guarded = app
        .share(&[("secret", &guarded_value), ("passphrase", &passphrase)])
        .await;
    keep_keys(&guarded);
    let generated = ok_json(app.post_form("/api/v1/generate", &[("length", "64")]).await).await;
    keep_keys(&generated);
    let burned = app.share(&[("secret", &burned_value)]).await;
    keep_keys(&burned);
    ok_json(app.burn(text(&burned, "metadata_key"), None).await).await;
    let revealed = app.share(&[("secret", &revealed_value)]).await;
    keep_keys(&revealed);
    ok_json(app.reveal(text(&revealed, "secret_key"), None).await).await;
    needles.push(text(&generated, "value").to_owned());

    let data_dir = app.stop().await;

    let files = stored_bytes(data_dir.path());
    assert!(!files.is_empty(), "the database has files");
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    assert!(total > 0, "the database has bytes");
    for (path, bytes) in &files {
        for needle in &needles {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{path} holds {needle:?} in the clear"
            );
        }
    }
    // The store is still readable: what was written is there, only sealed.
    assert_eq!(count_records(&data_dir), (3, 5));
}

#[tokio::test]
async fn the_generated_master_key_is_readable_by_its_owner_only() {
    let app = spawn_app().await;
    app.share(&[("secret", "s")]).await;

    let data_dir = app.stop().await;

    let meta = std::fs::metadata(data_dir.path().join("master.key")).expect("master.key exists");
    assert!(meta.is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

/// Requests for a secret too: their notes, answers (read, unread, cancelled)
/// and both their keys are nowhere in the database files.
#[tokio::test]
async fn the_database_holds_no_request_note_answer_or_key_in_the_clear() {
    let app = spawn_app().await;
    let mut needles = Vec::new();
    let mut ask = async |answer: Option<&str>| {
        let note = unique("NOTE");
        let asked = app.ask(&[("note", &note)]).await;
        let (request, private) = (text(&asked, "request_key"), text(&asked, "private_key"));
        if let Some(answer) = answer {
            ok_json(app.answer(request, answer).await).await;
        }
        needles.extend([note, request.to_owned(), private.to_owned()]);
        private.to_owned()
    };
    ask(None).await;
    let unread = unique("UNREAD-ANSWER");
    ask(Some(&unread)).await;
    let read = unique("READ-ANSWER");
    let private = ask(Some(&read)).await;
    ok_json(app.reveal_answer(&private).await).await;
    let cancelled = unique("CANCELLED-ANSWER");
    let private = ask(Some(&cancelled)).await;
    ok_json(app.cancel_request(&private).await).await;
    needles.extend([unread, read, cancelled]);

    let data_dir = app.stop().await;
    for (path, bytes) in &stored_bytes(data_dir.path()) {
        for needle in &needles {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{path} holds {needle:?} in the clear"
            );
        }
    }
}
