//! Request a secret in the browser: the requester makes a request link, the
//! person asked answers it once in a browser of their own, the requester
//! reveals the answer once, or cancels; in English and in other languages.

use crate::browser::flow::MULTILINE;
use crate::browser::support::*;
use crate::browser::webdriver::Browser;
use crate::common::*;

/// A note with markup in it, which must show as text.
const NOTE: &str = "The Wi-Fi password, please\n<b>guest</b> network & \"lobby\"";

/// On `/request`, fills the note and presses the button; the private page's
/// URL and the request link on it.
async fn make_request(
    lab: &Lab,
    browser: &Browser,
    note: &str,
    button_text: &str,
) -> (String, String) {
    if !note.is_empty() {
        browser.find("#note").await.send_keys(note).await;
    }
    button(browser, button_text).await.click().await;
    let prefix = lab.url("/request/");
    let private_page = browser
        .wait_url("the private page", |u| u.starts_with(&prefix))
        .await;
    assert_key(&private_page[prefix.len()..], "private key in the URL");
    let link = browser.find("#link").await.value().await;
    assert!(link.starts_with(&lab.url("/ask/")), "{link}");
    assert_key(&link[lab.url("/ask/").len()..], "request key in the link");
    (private_page, link)
}

/// `data-state` of the private page's badge, after loading it.
async fn private_state(browser: &Browser, private_page: &str) -> String {
    browser.goto(private_page).await;
    receipt_state(browser).await
}

#[tokio::test]
async fn a_request_is_answered_once_and_its_answer_revealed_once() {
    let lab = Lab::new("request").await;
    let requester = lab.browser("requester").await;

    // From the start page to the request form.
    requester.goto(&lab.url("/")).await;
    with_text(&requester, "a", "Request a secret")
        .await
        .click()
        .await;
    requester
        .wait_url("/request", |u| u.ends_with("/request"))
        .await;
    assert_eq!(requester.find("h1").await.text().await, "Request a secret");
    assert_eq!(
        requester
            .find("#note")
            .await
            .attribute("maxlength")
            .await
            .as_deref(),
        Some("500")
    );
    assert!(requester.find_all("#ttl option").await.len() > 1);
    requester.screenshot("ask").await;

    // The private page: the request link (with its QR code), the note, waiting.
    let (private_page, link) = make_request(&lab, &requester, NOTE, "Create a request link").await;
    assert_eq!(requester.find("blockquote.note").await.text().await, NOTE);
    let qr = requester.find("figure.qr svg").await.screenshot_png().await;
    assert_eq!(decode_qr(&qr), link, "the QR code holds the request link");
    assert_eq!(private_state(&requester, &private_page).await, "waiting");
    assert!(
        requester.try_find("#reveal").await.is_none(),
        "nothing to reveal yet"
    );
    requester.screenshot("private-waiting").await;

    // The person asked, in a browser of their own: the note as text, one form.
    let asked = lab.browser("asked").await;
    asked.goto(&link).await;
    assert_eq!(
        asked.find("h1").await.text().await,
        "You have been asked for a secret"
    );
    assert_eq!(asked.find("blockquote.note").await.text().await, NOTE);
    assert!(
        asked.find_all("blockquote.note b").await.is_empty(),
        "the note's markup is text"
    );
    assert!(
        !asked.source().await.contains(&private_page),
        "no private link here"
    );
    asked.screenshot("answer-form").await;
    asked.find("#secret").await.send_keys(MULTILINE).await;
    button(&asked, "Send it securely").await.click().await;
    asked
        .wait_url("the confirmation", |u| u.ends_with("/sent"))
        .await;
    assert_eq!(asked.find("h1").await.text().await, "Your answer was sent");
    assert!(
        !asked.source().await.contains("秘密の合言葉"),
        "never shown back"
    );
    asked.screenshot("answer-sent").await;
    asked.refresh().await;
    assert_eq!(
        asked.find("h1").await.text().await,
        "Your answer was sent",
        "a reload sends nothing again"
    );

    // The link takes no second answer: not in the browser, not over the API.
    asked.goto(&link).await;
    assert_eq!(
        asked.find("h1").await.text().await,
        "This request is not available"
    );
    assert!(asked.try_find("#secret").await.is_none());
    asked.screenshot("answer-again").await;
    let request_key = &link[lab.url("/ask/").len()..];
    assert_eq!(lab.app.answer(request_key, "second").await.status(), 404);

    // The requester: the answer is there; revealed once, exactly as sent.
    assert_eq!(private_state(&requester, &private_page).await, "answered");
    assert!(
        requester.try_find("#link").await.is_none(),
        "the link is spent"
    );
    requester.screenshot("private-answered").await;
    requester.find("#reveal").await.click().await;
    let value = requester.find("textarea#value").await;
    assert_eq!(value.value().await, MULTILINE);
    assert!(
        requester.try_find("nav.languages").await.is_none(),
        "no switcher on a page a reload would lose"
    );
    assert!(
        requester
            .main_text()
            .await
            .contains("deleted from the server")
    );
    requester.screenshot("answer-revealed").await;
    assert_eq!(private_state(&requester, &private_page).await, "revealed");
    assert!(requester.try_find("#reveal").await.is_none());
    assert!(!requester.source().await.contains("秘密の合言葉"));
    requester.screenshot("private-revealed").await;
}

#[tokio::test]
async fn a_cancelled_request_takes_no_answer() {
    let lab = Lab::new("request-cancel").await;
    let requester = lab.browser("requester").await;
    requester.goto(&lab.url("/request")).await;
    let (private_page, link) = make_request(&lab, &requester, "", "Create a request link").await;
    assert!(
        requester.try_find("blockquote.note").await.is_none(),
        "no note, no quote"
    );

    button(&requester, "Cancel this request")
        .await
        .click()
        .await;
    assert_eq!(
        requester.find("h1").await.text().await,
        "Cancel this request?"
    );
    requester.screenshot("cancel-confirm").await;
    button(&requester, "Keep it").await.click().await;
    assert_eq!(
        private_state(&requester, &private_page).await,
        "waiting",
        "kept"
    );

    button(&requester, "Cancel this request")
        .await
        .click()
        .await;
    button(&requester, "Yes, cancel this request")
        .await
        .click()
        .await;
    requester
        .wait_url("the private page", |u| u == private_page)
        .await;
    assert_eq!(private_state(&requester, &private_page).await, "cancelled");
    assert_eq!(requester.find("span.state").await.text().await, "Cancelled");
    requester.screenshot("cancelled").await;

    let asked = lab.browser("asked").await;
    asked.goto(&link).await;
    assert_eq!(
        asked.find("h1").await.text().await,
        "This request is not available"
    );
    // Its confirmation confirms nothing: nobody answered.
    asked.goto(&format!("{link}/sent")).await;
    assert_eq!(
        asked.find("h1").await.text().await,
        "This request is not available"
    );
    // An unknown private link has a page of its own.
    requester
        .goto(&lab.url(&format!("/request/{}", unissued_key())))
        .await;
    assert_eq!(
        requester.find("h1").await.text().await,
        "This request is not available"
    );
    assert!(requester.main_text().await.contains("private link"));
}

/// The requester reads German, the person asked Swedish: each page speaks
/// its reader's language, `<html lang>` included.
#[tokio::test]
async fn each_side_reads_its_own_language() {
    let lab = Lab::new("request-languages").await;
    let requester = lab.browser_in("requester-de", "de-DE,de").await;
    requester.goto(&lab.url("/request")).await;
    assert_eq!(
        requester.find("h1").await.text().await,
        "Ein Geheimnis anfordern"
    );
    let (private_page, link) = make_request(
        &lab,
        &requester,
        "Das Passwort bitte",
        "Anforderungslink erstellen",
    )
    .await;
    assert_eq!(
        requester.find("span.state").await.text().await,
        "Wartet auf eine Antwort"
    );
    assert_eq!(
        requester
            .find("html")
            .await
            .attribute("lang")
            .await
            .as_deref(),
        Some("de")
    );
    requester.screenshot("private-de").await;

    let asked = lab.browser_in("asked-sv", "sv-SE,sv").await;
    asked.goto(&link).await;
    assert_eq!(
        asked.find("h1").await.text().await,
        "Någon ber dig om en hemlighet"
    );
    asked.screenshot("answer-sv").await;
    asked.find("#secret").await.send_keys("lösenord").await;
    button(&asked, "Skicka säkert").await.click().await;
    asked
        .wait_url("the confirmation", |u| u.ends_with("/sent"))
        .await;
    assert_eq!(
        asked.find("h1").await.text().await,
        "Ditt svar har skickats"
    );

    assert_eq!(private_state(&requester, &private_page).await, "answered");
    button(&requester, "Antwort anzeigen").await.click().await;
    assert_eq!(
        requester.find("textarea#value").await.value().await,
        "lösenord"
    );
    requester.screenshot("revealed-de").await;
}

/// On a closed instance without sign-in on the pages the request form asks
/// for an account, like the share form; the person asked needs none (nor
/// JavaScript).
#[tokio::test]
async fn a_closed_instance_asks_requesters_for_an_account_but_not_whoever_answers() {
    let lab = Lab::with("request-closed", |s| {
        s.anonymous_create = false;
        s.web.password_sign_in = false;
    })
    .await;
    let token = add_account(&lab.app, "alice").token;
    let requester = lab.browser("requester").await;
    requester.goto(&lab.url("/request")).await;
    requester.find("#account").await.send_keys("alice").await;
    requester.find("#token").await.send_keys("wrong").await;
    button(&requester, "Create a request link")
        .await
        .click()
        .await;
    assert_eq!(
        requester.find("p.error").await.text().await,
        "Not authorized"
    );
    requester.screenshot("closed-refused").await;

    // The account's name is kept; the token is typed again.
    assert_eq!(requester.find("#account").await.value().await, "alice");
    assert_eq!(requester.find("#token").await.value().await, "");
    requester.find("#token").await.send_keys(&token).await;
    let (private_page, link) =
        make_request(&lab, &requester, "for alice", "Create a request link").await;
    let private_key = &private_page[lab.url("/request/").len()..];
    let view: serde_json::Value = lab
        .app
        .private_view(private_key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["custid"], "alice");

    // Without JavaScript, too: the pages are plain forms.
    let asked = lab.browser_without_js("asked-nojs").await;
    asked.goto(&link).await;
    assert!(asked.try_find("#account").await.is_none());
    asked.find("#secret").await.send_keys("from a guest").await;
    button(&asked, "Send it securely").await.click().await;
    asked
        .wait_url("the confirmation", |u| u.ends_with("/sent"))
        .await;
    assert_eq!(private_state(&requester, &private_page).await, "answered");
}

/// What the service refuses is said in the reader's language on both forms
/// (the API keeps its English words).
#[tokio::test]
async fn a_refusal_is_said_in_the_readers_language() {
    // No way to sign in on the pages: the forms ask for the account's token,
    // whose refusal is what is said here.
    let lab = Lab::with("refusal-de", |s| {
        s.anonymous_create = false;
        s.web.password_sign_in = false;
    })
    .await;
    add_account(&lab.app, "alice");
    let reader = lab.browser_in("reader-de", "de-DE,de").await;
    for (path, submit) in [
        ("/request", "Anforderungslink erstellen"),
        ("/", "Geheimen Link erstellen"),
    ] {
        reader.goto(&lab.url(path)).await;
        reader.find("#account").await.send_keys("alice").await;
        reader.find("#token").await.send_keys("wrong").await;
        if let Some(secret) = reader.try_find("#secret").await {
            secret.send_keys("s").await;
        }
        button(&reader, submit).await.click().await;
        assert_eq!(
            reader.find("p.error").await.text().await,
            "Nicht berechtigt",
            "{path}"
        );
    }
    reader.screenshot("refused-de").await;
    let api = lab.app.post_form(REQUESTS, &[]).await;
    assert_real_error(
        api,
        401,
        "An account is required to create secrets on this server.",
    )
    .await;
}
