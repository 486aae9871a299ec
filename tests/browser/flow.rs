//! The whole life of a secret in two browsers: the creator's and the recipient's.

use crate::browser::support::*;

/// Unicode from several scripts, an emoji, several lines, inner and trailing
/// spaces on a line.
pub const MULTILINE: &str = "Grüße aus Köln — naïve café\n\
                             пароль: секрет · 秘密の合言葉 🔐🦀\n\
                             \x20 indented, with trailing spaces  \n\
                             last line: ½ ≠ ∞";

#[tokio::test]
async fn create_open_reveal_once_and_the_receipt_follows() {
    let lab = Lab::new("flow").await;
    let sender = lab.browser("sender").await;

    // The form.
    sender.goto(&lab.url("/")).await;
    assert_eq!(sender.find("#secret").await.tag_name().await, "textarea");
    assert_eq!(
        sender
            .find("#passphrase")
            .await
            .attribute("type")
            .await
            .as_deref(),
        Some("password")
    );
    assert_eq!(sender.find("#ttl").await.tag_name().await, "select");
    assert!(
        sender.find_all("#ttl option").await.len() > 1,
        "several expiry choices"
    );
    button(&sender, "Create a secret link").await;
    button(&sender, "Generate a password").await;
    assert!(
        sender.try_find("#account").await.is_none(),
        "an open instance does not ask for an account"
    );
    sender.screenshot("index").await;

    // Create → the receipt with the link.
    fill_form(
        &sender,
        &Form {
            secret: MULTILINE,
            ..Form::default()
        },
    )
    .await;
    sender.screenshot("index-filled").await;
    button(&sender, "Create a secret link").await.click().await;
    let created = read_receipt(&lab, &sender).await;
    let link_field = sender.find("#link").await;
    assert_eq!(
        link_field.property("readOnly").await,
        true,
        "#link is read-only"
    );
    let copy = sender.find("button[data-copy=link]").await;
    assert!(
        copy.is_displayed().await,
        "with JavaScript the copy button shows"
    );
    assert_eq!(receipt_state(&sender).await, "new");
    assert_eq!(
        receipt_field(&sender, "Passphrase").await.as_deref(),
        Some("none")
    );
    let expires = receipt_field(&sender, "Expires")
        .await
        .expect("the receipt says when the secret expires");
    assert!(
        expires.starts_with("in 6 days") || expires.starts_with("in 7 days"),
        "default expiry is 7 days: {expires:?}"
    );
    button(&sender, "Burn this secret").await;
    assert!(
        !sender.source().await.contains("秘密の合言葉"),
        "the receipt never shows the value"
    );
    sender.screenshot("receipt-new").await;

    // The copy button puts exactly the link on the clipboard.
    assert_copy_button_copies(&sender, "link", &created.link).await;

    // The recipient, in a browser of their own, opens the link: nothing revealed.
    let recipient = lab.browser("recipient").await;
    recipient.goto(&created.link).await;
    let reveal = recipient.find("#reveal").await;
    assert_eq!(reveal.text().await, "Click to reveal");
    assert!(
        recipient.try_find("#passphrase").await.is_none(),
        "no passphrase box for a secret without one"
    );
    assert!(recipient.try_find("#value").await.is_none());
    assert!(!recipient.source().await.contains("秘密の合言葉"));
    recipient.screenshot("secret-offer").await;

    // The GET consumed nothing: a reload still offers to reveal, and the receipt
    // says viewed.
    recipient.refresh().await;
    recipient.find("#reveal").await;
    assert_eq!(
        wait_receipt_state(&sender, &created.receipt_url, "viewed").await,
        "Viewed"
    );
    assert_eq!(
        sender.find("span.state-detail").await.text().await,
        "the link was opened, the secret not yet revealed"
    );
    sender.screenshot("receipt-viewed").await;

    // Reveal: the exact value, read-only, with a copy button and a note it is gone.
    recipient.find("#reveal").await.click().await;
    let value = recipient.find("textarea#value").await;
    assert_eq!(value.value().await, MULTILINE, "the exact value is shown");
    assert_eq!(
        value.property("readOnly").await,
        true,
        "#value is read-only"
    );
    assert_copy_button_copies(&recipient, "value", MULTILINE).await;
    let said = recipient.main_text().await;
    assert!(
        said.contains("deleted from the server"),
        "the page says the secret is gone now: {said:?}"
    );
    recipient.screenshot("revealed").await;

    // Reloading the revealed page (or opening the link again) says it is gone.
    recipient.refresh().await;
    let gone = assert_gone(&recipient).await;
    assert!(!gone.contains("秘密の合言葉"));
    recipient.screenshot("reload-gone").await;
    recipient.goto(&created.link).await;
    assert_gone(&recipient).await;

    // The receipt says received, with the time, and offers nothing more.
    let state = wait_receipt_state(&sender, &created.receipt_url, "received").await;
    assert_eq!(state, "Received");
    let when = sender.find("span.state-detail").await.text().await;
    assert!(when.ends_with(" UTC"), "received with a time: {when:?}");
    assert!(
        sender.try_find("#link").await.is_none(),
        "no link once received"
    );
    assert!(
        find_text(&sender, "Burn this secret").await.is_none(),
        "nothing left to burn"
    );
    sender.screenshot("receipt-received").await;

    // The API agrees.
    let meta = lab.api_receipt(&created.metadata_key).await;
    assert_eq!(meta["state"], "received");
}

async fn find_text(browser: &crate::browser::webdriver::Browser, text: &str) -> Option<()> {
    for candidate in browser.find_all("button, a").await {
        if candidate.text().await.trim() == text {
            return Some(());
        }
    }
    None
}

/// A value that starts with a line break (or ends in white space) is shown
/// exactly: nothing trimmed, nothing lost to HTML parsing.
#[tokio::test]
async fn white_space_at_the_edges_of_a_value_is_kept() {
    let lab = Lab::new("edges").await;
    let value = "\nafter a blank first line\n  ends with spaces   ";
    let meta = lab.app.share(&[("secret", value)]).await;
    let link = lab.url(&format!("/secret/{}", meta["secret_key"].as_str().unwrap()));

    let recipient = lab.browser("recipient").await;
    recipient.goto(&link).await;
    recipient.find("#reveal").await.click().await;
    let shown = recipient.find("#value").await.value().await;
    recipient.screenshot("revealed").await;
    assert_eq!(
        shown, value,
        "the revealed textarea holds the exact value (a textarea drops one line \
         break right after its start tag, so one must be written before the value)"
    );
}
