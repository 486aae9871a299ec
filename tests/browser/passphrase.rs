//! A secret with a passphrase: a wrong one keeps it, the right one reveals it.

use crate::browser::support::*;

const SECRET: &str = "vault combination: 12-34-56\nsecond line ✓";
const PASSPHRASE: &str = "correct horse battery staple";

#[tokio::test]
async fn a_wrong_passphrase_keeps_the_secret_and_the_right_one_reveals_it() {
    let lab = Lab::new("passphrase").await;
    let sender = lab.browser("sender").await;
    let created = create_secret(
        &lab,
        &sender,
        &Form {
            secret: SECRET,
            passphrase: Some(PASSPHRASE),
            ..Form::default()
        },
    )
    .await;
    assert_eq!(
        receipt_field(&sender, "Passphrase").await.as_deref(),
        Some("required"),
        "the receipt says a passphrase is needed"
    );
    assert!(!sender.source().await.contains(PASSPHRASE));
    sender.screenshot("receipt").await;

    let recipient = lab.browser("recipient").await;
    recipient.goto(&created.link).await;
    let field = recipient.find("#passphrase").await;
    assert_eq!(field.attribute("type").await.as_deref(), Some("password"));
    recipient.find("#reveal").await;
    recipient.screenshot("offer").await;

    // Wrong: the page comes back with an error, still offering to reveal.
    field.send_keys("not the passphrase").await;
    recipient.find("#reveal").await.click().await;
    let error = recipient.find("p.error").await.text().await;
    assert!(
        error.contains("passphrase is not right"),
        "a wrong passphrase is reported: {error:?}"
    );
    assert!(recipient.try_find("#value").await.is_none());
    recipient.find("#passphrase").await;
    recipient.find("#reveal").await;
    assert!(!recipient.source().await.contains("12-34-56"));
    recipient.screenshot("wrong-passphrase").await;

    // It was kept: the receipt is viewed, not received.
    let meta = lab.api_receipt(&created.metadata_key).await;
    assert_eq!(
        meta["state"], "viewed",
        "a wrong passphrase consumes nothing"
    );
    assert_eq!(
        receipt_state_after_reload(&sender, &created).await,
        "viewed"
    );

    // Right: the exact value.
    recipient
        .find("#passphrase")
        .await
        .send_keys(PASSPHRASE)
        .await;
    recipient.find("#reveal").await.click().await;
    assert_eq!(recipient.find("#value").await.value().await, SECRET);
    recipient.screenshot("revealed").await;

    wait_receipt_state(&sender, &created.receipt_url, "received").await;
    recipient.goto(&created.link).await;
    assert_gone(&recipient).await;
}

async fn receipt_state_after_reload(
    browser: &crate::browser::webdriver::Browser,
    created: &Created,
) -> String {
    browser.goto(&created.receipt_url).await;
    receipt_state(browser).await
}
