//! An account's `recipient` gets one plain message through the real SMTP server:
//! the link and who sent it, never the secret, the passphrase or the receipt's key.
//! The receipt keeps only an obfuscated address.

use serde_json::{Value, json};

use crate::common::*;
use crate::email::smtp::{Mail, SmtpServer};
use crate::email::support::*;

/// Asserts what every message must be: one plain text part, from the configured
/// sender, to exactly `to`.
fn assert_plain_message_to(mail: &Mail, to: &str) {
    assert_eq!(
        mail.must_header("x-rcptto"),
        to,
        "the envelope's recipients"
    );
    assert_eq!(mail.must_header("to"), to);
    assert_eq!(mail.must_header("x-mailfrom"), FROM_ADDRESS);
    assert_eq!(mail.must_header("from"), FROM_HEADER);
    let content_type = mail.must_header("content-type").to_ascii_lowercase();
    assert!(
        content_type.starts_with("text/plain"),
        "one plain part, not {content_type}"
    );
}

#[tokio::test]
async fn an_accounts_recipient_gets_the_link_and_the_sender_but_never_the_secret() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, |_| {}).await;
    let alice = add_account(&app, "alice");
    let secret = "the-Secret-Value-9qX2";
    let passphrase = "pass-Phrase-Kw71";

    let resp = app.as_account(&alice).post_form(
        SHARE,
        &[
            ("secret", secret),
            ("passphrase", passphrase),
            ("ttl", "3600"),
            ("recipient", "delano@example.com"),
        ],
    );
    let receipt = ok_json(resp.await).await;

    assert_eq!(receipt["recipient"], json!(["de*****@e*****.com"]));
    assert_eq!(receipt["custid"], "alice");
    let mail = smtp.only_message().await;
    assert_plain_message_to(&mail, "delano@example.com");
    assert!(
        mail.must_header("subject").contains("alice"),
        "the subject says who sent it"
    );
    let id = mail.must_header("message-id");
    assert!(
        id.starts_with('<') && id.ends_with('>') && id.contains('@'),
        "a Message-ID, which spam filters expect: {id:?}"
    );
    assert!(mail.header("date").is_some(), "a Date header");
    assert!(
        mail.body.contains(&link(&app.address, &receipt)),
        "the body holds the link:\n{}",
        mail.body
    );
    assert!(mail.body.contains("alice"), "the body says who sent it");
    assert!(
        mail.body.contains("passphrase"),
        "the body says a passphrase is needed"
    );
    mail.assert_conceals(secret, "secret");
    mail.assert_conceals(passphrase, "passphrase");
    mail.assert_conceals(text(&receipt, "metadata_key"), "metadata key");

    // The link the recipient got works, once.
    let revealed = ok_json(
        app.reveal(text(&receipt, "secret_key"), Some(passphrase))
            .await,
    )
    .await;
    assert_eq!(revealed["value"], secret);
    assert_eq!(smtp.count(), 1, "revealing sends nothing");
}

#[tokio::test]
async fn generate_emails_the_link_but_never_the_generated_password() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, |s| s.metrics.enabled = true).await;
    let bob = add_account(&app, "bob@example.org");

    let resp = app.as_account(&bob).post_form(
        GENERATE,
        &[("recipient", "carol@example.com"), ("length", "40")],
    );
    let receipt = ok_json(resp.await).await;

    let value = text(&receipt, "value");
    assert_eq!(value.chars().count(), 40);
    assert_eq!(receipt["recipient"], json!(["ca*****@e*****.com"]));
    let mail = smtp.only_message().await;
    assert_plain_message_to(&mail, "carol@example.com");
    assert!(mail.body.contains(&link(&app.address, &receipt)));
    assert!(mail.body.contains("bob@example.org"));
    assert!(
        !mail.body.contains("passphrase"),
        "no passphrase note without one:\n{}",
        mail.body
    );
    mail.assert_conceals(value, "generated password");
    mail.assert_conceals(text(&receipt, "metadata_key"), "metadata key");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("otsd_emails_total{result=\"sent\"} 1"),
        "the email is counted:\n{metrics}"
    );
}

#[tokio::test]
async fn a_transfer_encoded_message_still_decodes_to_the_link_and_nothing_secret() {
    // A 128-character sender name makes lines too long for 7bit: the mailer must
    // transfer-encode the body (and encode the subject), and the secret must not be
    // in it under any encoding.
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, |s| {
        s.base_url = "https://secrets.example.test/a/rather/long/prefix/for/links".into();
    })
    .await;
    let name = format!("{}@example.org", "long.sender.name".repeat(7));
    assert_eq!(name.len(), 124);
    let sender = add_account(&app, &name);
    let secret = "Zm9v-not-base64-Secret-3Jp";

    let resp = app.as_account(&sender).post_form(
        SHARE,
        &[("secret", secret), ("recipient", "dave@example.net")],
    );
    let receipt = ok_json(resp.await).await;

    let mail = smtp.only_message().await;
    let encoding = mail
        .must_header("content-transfer-encoding")
        .to_ascii_lowercase();
    assert!(
        encoding == "quoted-printable" || encoding == "base64",
        "long lines are transfer-encoded, not {encoding}"
    );
    assert!(mail.must_header("subject").contains(&name));
    assert!(mail.body.contains(&name), "body:\n{}", mail.body);
    let expected = link(
        "https://secrets.example.test/a/rather/long/prefix/for/links",
        &receipt,
    );
    assert!(mail.body.contains(&expected), "body:\n{}", mail.body);
    mail.assert_conceals(secret, "secret");
}

#[tokio::test]
async fn only_the_first_recipient_is_emailed_and_listed() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, |_| {}).await;
    let alice = add_account(&app, "alice");
    let first = "first@example.com";
    let second = "second@example.org";

    let form_shapes: [&[(&str, &str)]; 3] = [
        &[("recipient[]", first), ("recipient[]", second)],
        &[("recipient", first), ("recipient", second)],
        &[("recipient", first), ("recipient[]", second)],
    ];
    let mut receipts = Vec::new();
    for shape in form_shapes {
        let mut form = vec![("secret", "for the first only")];
        form.extend_from_slice(shape);
        receipts.push(ok_json(app.as_account(&alice).post_form(SHARE, &form).await).await);
    }
    let json_body = json!({"secret": "for the first only", "recipient": [first, second]});
    let resp = app.as_account(&alice).post_json(SHARE, &json_body).await;
    receipts.push(ok_json(resp).await);

    let messages = smtp.wait_for(receipts.len()).await;
    assert_eq!(messages.len(), receipts.len(), "one message per secret");
    for (mail, receipt) in messages.iter().zip(&receipts) {
        assert_eq!(receipt["recipient"], json!(["fi*****@e*****.com"]));
        assert_plain_message_to(mail, first);
        mail.assert_conceals(second, "second recipient");
        mail.assert_conceals("for the first only", "secret");
    }
    // The messages arrive in order, so each one holds its own secret's link.
    for receipt in &receipts {
        let link = link(&app.address, receipt);
        let holding = messages.iter().filter(|m| m.body.contains(&link)).count();
        assert_eq!(holding, 1, "exactly one message holds {link}");
    }
}

#[tokio::test]
async fn receipts_keep_only_the_obfuscated_address() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, |_| {}).await;
    let alice = add_account(&app, "alice");
    // The rule (src/mail.rs): the first two characters of the local part, the
    // first of the domain, then the domain's last label.
    let cases = [
        ("delano@example.com", "de*****@e*****.com"),
        ("x@mail.example.org", "x*****@m*****.org"),
        ("Bob.Smith@Example.CO.UK", "Bo*****@E*****.UK"),
        ("  padded@example.net  ", "pa*****@e*****.net"),
        ("root@localhost", "ro*****@l*****"),
    ];

    let mut metadata_keys = Vec::new();
    for (address, obfuscated) in cases {
        let form = [("secret", "s"), ("recipient", address)];
        let created = app.as_account(&alice).post_form(SHARE, &form).await;
        let receipt = ok_json(created).await;
        assert_eq!(receipt["recipient"], json!([obfuscated]), "{address}");
        assert_obfuscated(&receipt, address.trim());

        let key = text(&receipt, "metadata_key").to_owned();
        let shown = ok_json(app.metadata(&key).await).await;
        assert_eq!(shown["recipient"], json!([obfuscated]), "{address}");
        assert_obfuscated(&shown, address.trim());
        metadata_keys.push(key);
    }
    let recent = ok_json(app.as_account(&alice).get(RECENT[0]).await).await;
    for (address, _) in cases {
        assert_obfuscated(&recent, address.trim());
    }
    let listed: Vec<&Value> = recent.as_array().expect("an array").iter().collect();
    assert_eq!(listed.len(), cases.len());

    // Each address got its message, to itself only.
    let messages = smtp.wait_for(cases.len()).await;
    assert_eq!(messages.len(), cases.len());
    for (address, _) in cases {
        let to = |m: &&Mail| m.must_header("x-rcptto") == address.trim();
        assert_eq!(messages.iter().filter(to).count(), 1, "{address}");
    }

    // Nor does the database hold the address in the clear.
    let dir = app.stop().await;
    for (address, _) in cases {
        assert_not_on_disk(dir.path(), address.trim());
    }
}

/// The JSON text of a receipt (or a list of them) does not hold `address`.
fn assert_obfuscated(json: &Value, address: &str) {
    let text = json.to_string();
    assert!(!text.contains(address), "{address} in the clear: {text}");
    let local = address.split('@').next().unwrap();
    if local.len() > 2 {
        assert!(!text.contains(&format!("{local}@")), "{text}");
    }
}

/// No file under `dir` holds `needle`.
fn assert_not_on_disk(dir: &std::path::Path, needle: &str) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            assert_not_on_disk(&path, needle);
        } else if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !bytes
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle.as_bytes())),
                "{} holds {needle}",
                path.display()
            );
        }
    }
}
