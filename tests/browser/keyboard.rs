//! Sign-in and "My secrets" by keyboard alone, with JavaScript off, in each
//! of the five languages (issue 28): Tab moves the focus, typing goes where
//! the focus is, Enter follows a link or sends a form. No element is clicked
//! and no script runs, so what a person with only a keyboard cannot reach,
//! this test cannot either.

use super::languages::text;
use crate::browser::support::*;
use crate::browser::webdriver::{Browser, ENTER, TAB};
use crate::common::{add_account, set_password, text as field};

const PASSWORD: &str = "correct horse battery";
/// More than any page here has controls before its main content's last one.
const MAX_TABS: usize = 40;

/// Presses Tab until `css` has the focus; panics if it never does.
async fn tab_to(browser: &Browser, css: &str) {
    let target = browser.find(css).await;
    for _ in 0..MAX_TABS {
        browser.press(TAB).await;
        if browser.focused().await.same(&target) {
            return;
        }
    }
    browser.screenshot("unreachable").await;
    panic!("{css} is not reached with Tab within {MAX_TABS} presses");
}

/// The page's `<html lang>` and its `h1`.
async fn lang_and_title(browser: &Browser) -> (String, String) {
    let lang = browser.find("html").await.attribute("lang").await;
    let title = browser.find("h1").await.text().await;
    (lang.unwrap_or_default(), title)
}

#[tokio::test]
async fn sign_in_my_secrets_burn_and_sign_out_by_keyboard_alone_in_every_language() {
    let lab = Lab::new("keyboard").await;
    let account = add_account(&lab.app, "ann");
    set_password(&lab.app, "ann", PASSWORD);

    for code in ["en", "de", "nl", "sv", "tr"] {
        let made = lab
            .app
            .as_account(&account)
            .share(&[("secret", "burned by keyboard")])
            .await;
        let receipt = field(&made, "metadata_key").to_owned();
        let browser = lab.browser_without_js(code).await;

        // The sign-in page, in the chosen language (remembered from here on).
        browser
            .goto(&lab.url(&format!("/signin?lang={code}")))
            .await;
        assert_eq!(
            lang_and_title(&browser).await,
            (code.to_owned(), text(code, "signin.title"))
        );
        tab_to(&browser, "#name").await;
        browser.press("ann").await;
        tab_to(&browser, "#password").await;
        browser.press(PASSWORD).await;
        browser.press(ENTER).await;
        browser
            .wait_url("the front page, signed in", |u| u == lab.url("/"))
            .await;
        assert!(
            browser.try_find("#sign-out").await.is_some(),
            "{code}: signed in"
        );

        // My secrets, from the header's link.
        tab_to(&browser, "a[href='/account']").await;
        browser.press(ENTER).await;
        browser
            .wait_url("My secrets", |u| u == lab.url("/account"))
            .await;
        assert_eq!(
            lang_and_title(&browser).await,
            (code.to_owned(), text(code, "account.title"))
        );
        browser.screenshot(&format!("account-{code}")).await;

        // Burn the secret through its confirm step.
        tab_to(&browser, &format!("a.burn[href='/private/{receipt}/burn']")).await;
        browser.press(ENTER).await;
        browser
            .wait_url("the confirm step", |u| u.ends_with("/burn"))
            .await;
        assert_eq!(
            lang_and_title(&browser).await,
            (code.to_owned(), text(code, "burn.title"))
        );
        tab_to(&browser, "button.danger").await;
        browser.press(ENTER).await;
        browser
            .wait_url("the receipt", |u| {
                u == lab.url(&format!("/private/{receipt}"))
            })
            .await;
        assert_eq!(receipt_state(&browser).await, "burned", "{code}");
        let api = lab.api_receipt(&receipt).await;
        assert_eq!(field(&api, "state"), "burned", "{code}: burned for real");

        // Sign out: the header offers "Sign in" again and the session is gone.
        tab_to(&browser, "#sign-out").await;
        browser.press(ENTER).await;
        let sign_in = browser.find("#sign-in-link").await;
        assert_eq!(sign_in.text().await, text(code, "nav.sign_in"), "{code}");
        assert!(browser.try_find("#sign-out").await.is_none(), "{code}");
        browser.goto(&lab.url("/account")).await;
        browser
            .wait_url("the sign-in page", |u| u == lab.url("/signin"))
            .await;
    }
}
