//! Every page works with JavaScript switched off; only the copy buttons need it.

use crate::browser::support::*;
use crate::browser::webdriver::Browser;

const SECRET: &str = "no scripts needed\nzweite Zeile: äöü";

#[tokio::test]
async fn everything_works_with_javascript_disabled() {
    let lab = Lab::new("nojs").await;
    let sender = lab.browser_without_js("sender").await;

    sender.goto(&lab.url("/")).await;
    assert_javascript_off(&sender).await;
    sender.screenshot("index").await;

    // Create with a passphrase.
    let created = create_secret(
        &lab,
        &sender,
        &Form {
            secret: SECRET,
            passphrase: Some("pass phrase"),
            ..Form::default()
        },
    )
    .await;
    assert_javascript_off(&sender).await;
    let copy = sender.find("button[data-copy=link]").await;
    assert!(
        !copy.is_displayed().await,
        "without JavaScript the copy button (which needs it) is hidden"
    );
    assert!(sender.find("#link").await.is_displayed().await);
    sender.screenshot("receipt").await;

    // The recipient, also without JavaScript.
    let recipient = lab.browser_without_js("recipient").await;
    recipient.goto(&created.link).await;
    assert_javascript_off(&recipient).await;
    recipient.find("#passphrase").await.send_keys("wrong").await;
    recipient.find("#reveal").await.click().await;
    recipient.find("p.error").await;
    recipient
        .find("#passphrase")
        .await
        .send_keys("pass phrase")
        .await;
    recipient.find("#reveal").await.click().await;
    let value = recipient.find("#value").await;
    assert_eq!(value.value().await, SECRET);
    assert!(
        !recipient
            .find("button[data-copy=value]")
            .await
            .is_displayed()
            .await
    );
    recipient.screenshot("revealed").await;
    recipient.refresh().await;
    assert_gone(&recipient).await;
    assert_eq!(
        wait_receipt_state(&sender, &created.receipt_url, "received")
            .await
            .split(' ')
            .next(),
        Some("Received")
    );

    // Generate.
    sender.goto(&lab.url("/")).await;
    button(&sender, "Generate a password").await.click().await;
    let password = sender.find("#generated").await.value().await;
    assert_eq!(password.chars().count(), 12);
    sender.screenshot("generated").await;

    // Burn, through the confirm step.
    button(&sender, "Burn this secret").await.click().await;
    button(&sender, "Yes, burn this secret").await.click().await;
    sender
        .wait_url("a receipt", |u| {
            u.starts_with(&lab.url("/private/")) && !u.ends_with("/burn")
        })
        .await;
    assert_eq!(receipt_state(&sender).await, "burned");
    sender.screenshot("burned").await;
}

/// `app.js` marks `<html class="js">`; without JavaScript the class is absent.
async fn assert_javascript_off(browser: &Browser) {
    let class = browser
        .find("html")
        .await
        .attribute("class")
        .await
        .unwrap_or_default();
    assert!(
        !class.split_whitespace().any(|c| c == "js"),
        "JavaScript is really off in this browser (html class {class:?})"
    );
}
