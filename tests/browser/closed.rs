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

    // A wrong token: refused, nothing created; the secret and the account's
    // name are kept in the form, the token is not (see `pages::Typed`).
    create_attempt(&sender, &lab, name, "not-the-token").await;
    let error = sender.find("p.error").await.text().await;
    assert_eq!(error, "Not authorized");
    assert!(!sender.current_url().await.contains("/private/"));
    assert_kept(&sender, "closed-instance secret", name).await;
    assert!(!sender.source().await.contains("not-the-token"));
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

/// The refused form kept the secret and the account's name, and not the token.
async fn assert_kept(browser: &crate::browser::webdriver::Browser, secret: &str, account: &str) {
    assert_eq!(
        browser.find("#secret").await.value().await,
        secret,
        "the typed secret is still in the form"
    );
    assert_eq!(browser.find("#account").await.value().await, account);
    assert_eq!(
        browser.find("#token").await.value().await,
        "",
        "the token is typed again, never put back"
    );
}

#[tokio::test]
async fn a_secret_over_the_limit_on_a_closed_instance_is_kept_in_the_form_and_the_page_is_never_stored()
 {
    let lab = Lab::with("closed-kept", |s| {
        s.anonymous_create = false;
        s.web.password_sign_in = false;
        s.limits.authenticated.max_secret_bytes = 32;
    })
    .await;
    let name = "bob";
    let token = add_account(&lab.app, name).token;
    let long = "forty characters of a secret, too long!!";
    assert!(long.len() > 32);

    let sender = lab.browser("sender").await;
    sender.goto(&lab.url("/")).await;
    fill_form(
        &sender,
        &Form {
            secret: long,
            ttl: Some("3600"),
            account: Some((name, &token)),
            ..Form::default()
        },
    )
    .await;
    button(&sender, "Create a secret link").await.click().await;
    let error = sender.find("p.error").await.text().await;
    assert!(!error.is_empty(), "the refusal says why");
    assert!(!sender.current_url().await.contains("/private/"));
    assert_kept(&sender, long, name).await;
    assert_eq!(
        sender.find("#ttl").await.value().await,
        "3600",
        "the chosen expiry is kept"
    );
    assert!(
        !sender.source().await.contains(&token),
        "the token is not in the page"
    );
    sender.screenshot("too-long").await;

    // Shortened in place, it goes through.
    sender
        .execute(
            "document.getElementById('secret').value = arguments[0];",
            vec![serde_json::Value::from("short enough")],
        )
        .await
        .unwrap();
    sender.find("#token").await.send_keys(&token).await;
    button(&sender, "Create a secret link").await.click().await;
    let created = read_receipt(&lab, &sender).await;
    assert_eq!(lab.api_receipt(&created.metadata_key).await["custid"], name);

    // The page that carries a typed secret back is never stored by a cache or
    // the browser, and a multi-line secret comes back whole.
    let resp = lab
        .app
        .post_form(
            "/share",
            &[
                ("account", name),
                ("token", "wrong-token"),
                ("secret", "\nfirst line\nsecond <line>"),
            ],
        )
        .send()
        .await;
    assert_eq!(
        resp.headers()["cache-control"].to_str().unwrap(),
        "no-store"
    );
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("spellcheck=\"false\">\n\nfirst line\nsecond &lt;line&gt;</textarea>"),
        "the secret, escaped, with its leading newline: {page}"
    );
    assert!(!page.contains("wrong-token"));
}
