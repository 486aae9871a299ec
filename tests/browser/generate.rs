//! "Generate a password": shown once on the page right after creating it.

use crate::browser::support::*;

#[tokio::test]
async fn a_generated_password_is_shown_once_and_revealed_by_the_link() {
    let lab = Lab::new("generate").await;
    let sender = lab.browser("sender").await;
    sender.goto(&lab.url("/")).await;
    // No secret typed: the generate button does not need one.
    button(&sender, "Generate a password").await.click().await;
    let generated = sender.find("#generated").await;
    let password = generated.value().await;
    assert_eq!(generated.property("readOnly").await, true);
    assert_eq!(password.chars().count(), 12, "default length: {password:?}");
    for (class, test) in [
        ("lowercase", char::is_ascii_lowercase as fn(&char) -> bool),
        ("uppercase", char::is_ascii_uppercase),
        ("digit", char::is_ascii_digit),
        ("symbol", char::is_ascii_punctuation),
    ] {
        assert!(
            password.chars().any(|c| test(&c)),
            "{password:?} has a {class}"
        );
    }
    assert!(
        !password.chars().any(|c| "ilo1IO0".contains(c)),
        "no look-alikes in {password:?}"
    );
    assert_copy_button_copies(&sender, "generated", &password).await;
    let said = sender.main_text().await;
    assert!(
        said.contains("only time the password is shown"),
        "the page says it is shown once: {said:?}"
    );
    let link = sender.find("#link").await.value().await;
    let secret_key = secret_key_of(&lab, &link);
    assert_eq!(receipt_state(&sender).await, "new");
    sender.screenshot("generated").await;

    // The receipt's own address never shows the password again.
    let burn_href = sender
        .find("a[href$='/burn']")
        .await
        .attribute("href")
        .await
        .expect("burn link");
    let receipt_path = burn_href.trim_end_matches("/burn").to_owned();
    let receipt_url = lab.url(&receipt_path);
    sender.goto(&receipt_url).await;
    assert!(sender.try_find("#generated").await.is_none());
    assert!(
        !sender.source().await.contains(&password),
        "the receipt does not show the password a second time"
    );
    assert_eq!(sender.find("#link").await.value().await, link);
    sender.screenshot("receipt-later").await;

    // The recipient gets exactly that password.
    let recipient = lab.browser("recipient").await;
    recipient.goto(&link).await;
    recipient.find("#reveal").await.click().await;
    assert_eq!(recipient.find("#value").await.value().await, password);
    recipient.screenshot("revealed").await;
    wait_receipt_state(&sender, &receipt_url, "received").await;
    let resp = lab.app.reveal(&secret_key, None).await;
    assert_eq!(resp.status(), 404, "revealed once");

    // Generate with a passphrase: the receipt says one is required.
    sender.goto(&lab.url("/")).await;
    sender.find("#passphrase").await.send_keys("pass me").await;
    button(&sender, "Generate a password").await.click().await;
    sender.find("#generated").await;
    assert_eq!(
        receipt_field(&sender, "Passphrase").await.as_deref(),
        Some("required")
    );
}
