//! A closed instance (`anonymous_create = false`) with no way to sign in on
//! the pages (`web.password_sign_in = false`, no `[oidc]`): the form asks for
//! the account's name and token itself. (With sign-in on, a visitor gets the
//! sign-in page instead: see `signin.rs`.)

use crate::browser::support::*;
use crate::common::*;

#[tokio::test]
async fn a_closed_instance_asks_for_account_and_token() {
    let lab = Lab::with("closed", |s| {
        s.anonymous_create = false;
        s.web.password_sign_in = false;
    })
    .await;
    let name = "alice@example.com";
    let token = add_account(&lab.app, name).token;

    let sender = lab.browser("sender").await;
    sender.goto(&lab.url("/")).await;
    sender.find("#account").await;
    assert_eq!(
        sender
            .find("#token")
            .await
            .attribute("type")
            .await
            .as_deref(),
        Some("password")
    );
    sender.screenshot("index").await;

    // A wrong token: refused, nothing created, the secret not echoed back.
    create_attempt(&sender, &lab, name, "not-the-token").await;
    let error = sender.find("p.error").await.text().await;
    assert_eq!(error, "Not authorized");
    assert!(!sender.current_url().await.contains("/private/"));
    assert!(!sender.source().await.contains("closed-instance secret"));
    sender.find("#account").await;
    sender.screenshot("wrong-token").await;

    // No account at all ("Generate" skips the browser's required-field check).
    sender.goto(&lab.url("/")).await;
    button(&sender, "Generate a password").await.click().await;
    let error = sender.find("p.error").await.text().await;
    assert_eq!(
        error,
        "An account is required to create secrets on this server."
    );
    assert!(sender.try_find("#generated").await.is_none());

    // The right token.
    create_attempt(&sender, &lab, name, &token).await;
    let created = read_receipt(&lab, &sender).await;
    sender.screenshot("receipt").await;
    assert_eq!(lab.api_receipt(&created.metadata_key).await["custid"], name);
    assert!(
        !sender.source().await.contains(&token),
        "the token is not shown"
    );

    // Anyone with the link can reveal.
    let recipient = lab.browser("recipient").await;
    recipient.goto(&created.link).await;
    recipient.find("#reveal").await.click().await;
    assert_eq!(
        recipient.find("#value").await.value().await,
        "closed-instance secret"
    );
    recipient.screenshot("revealed").await;
}

async fn create_attempt(
    browser: &crate::browser::webdriver::Browser,
    lab: &Lab,
    account: &str,
    token: &str,
) {
    browser.goto(&lab.url("/")).await;
    fill_form(
        browser,
        &Form {
            secret: "closed-instance secret",
            account: Some((account, token)),
            ..Form::default()
        },
    )
    .await;
    button(browser, "Create a secret link").await.click().await;
}
