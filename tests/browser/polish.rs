//! The rough edges a new user hits: the pages for unknown paths and receipts,
//! the way back after a reveal, a generated password that a reload does not
//! make twice, the link as a QR code, the instance's name, the passphrase lock
//! that says how long it lasts, and the dark scheme's colours as drawn.

use crate::browser::support::*;
use crate::common::{RATE_LIMITED, WINDOW};

/// A well-formed key (52 characters of the key alphabet) that was never issued.
const UNISSUED: &str = "0000000000000000000000000000000000000000000000000000";

#[tokio::test]
async fn a_browser_gets_a_page_for_unknown_paths_and_the_api_keeps_its_json() {
    let lab = Lab::new("not-found").await;
    let browser = lab.browser("visitor").await;
    browser.goto(&lab.url("/no/such/page")).await;
    assert_eq!(
        browser.find("h1").await.text().await,
        "There is no page here"
    );
    assert!(browser.title().await.starts_with("Page not found"));
    assert!(
        !browser.source().await.contains("\"message\""),
        "not raw JSON"
    );
    browser.find("main a[href='/']").await;
    browser.screenshot("unknown-path").await;

    // A client that asks for no HTML gets the v1 error, as do API paths.
    let resp = lab.app.get("/no/such/page").send().await;
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["x-ots-intended-status"], "404");
    let resp = lab
        .app
        .get("/api/v1/nothing")
        .header("accept", "text/html")
        .send()
        .await;
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let html = lab
        .app
        .get("/no/such/page")
        .header("accept", "text/html,*/*")
        .send()
        .await;
    assert_eq!(html.status(), 404);
    assert_eq!(html.headers()["content-type"], "text/html; charset=utf-8");
    assert!(html.headers().contains_key("content-security-policy"));
}

#[tokio::test]
async fn an_unknown_receipt_speaks_of_the_receipt_not_of_a_secret() {
    let lab = Lab::new("receipt-gone").await;
    let browser = lab.browser("sender").await;
    for path in [
        format!("/private/{UNISSUED}"),
        format!("/private/{UNISSUED}/burn"),
    ] {
        browser.goto(&lab.url(&path)).await;
        assert_eq!(
            browser.find("h1").await.text().await,
            "This receipt is not available",
            "{path}"
        );
        assert!(
            !browser
                .main_text()
                .await
                .contains("This secret is not available")
        );
    }
    browser.screenshot("unknown-receipt").await;
    // Malformed keys, too.
    browser.goto(&lab.url("/private/not-a-key")).await;
    assert_eq!(
        browser.find("h1").await.text().await,
        "This receipt is not available"
    );
}

#[tokio::test]
async fn after_a_reveal_the_reader_can_share_a_secret_of_their_own() {
    let lab = Lab::new("way-back").await;
    let sender = lab.browser("sender").await;
    let created = create_secret(
        &lab,
        &sender,
        &Form {
            secret: "s",
            ..Form::default()
        },
    )
    .await;
    let recipient = lab.browser("recipient").await;
    recipient.goto(&created.link).await;
    recipient.find("#reveal").await.click().await;
    recipient.find("#value").await;
    with_text(&recipient, "main a", "Share a secret of your own")
        .await
        .click()
        .await;
    recipient
        .wait_url("the start page", |u| u == lab.url("/"))
        .await;
    recipient.find("#secret").await;
}

#[tokio::test]
async fn generate_redirects_so_a_reload_neither_creates_again_nor_shows_the_password_again() {
    let lab = Lab::new("generate-prg").await;
    let sender = lab.browser("sender").await;
    sender.goto(&lab.url("/")).await;
    button(&sender, "Generate a password").await.click().await;
    let created = read_receipt(&lab, &sender).await;
    let password = sender.find("#generated").await.value().await;
    assert_eq!(password.chars().count(), 12);
    let face = sender.find("#generated").await.css("font-family").await;
    assert!(face.contains("monospace"), "a monospace face: {face}");
    sender.screenshot("generated").await;

    // A reload is a GET of the receipt: the same secret, the password gone.
    sender.refresh().await;
    assert_eq!(sender.current_url().await, created.receipt_url);
    assert!(sender.try_find("#generated").await.is_none());
    assert!(!sender.source().await.contains(&password));
    assert_eq!(sender.find("#link").await.value().await, created.link);
    let recent = lab.app.stop_and_count_records().await;
    assert_eq!(
        recent,
        (1, 1),
        "one secret and one receipt, after the reload too"
    );
}

#[tokio::test]
async fn the_handover_cookie_is_scoped_to_the_receipt_and_cleared_when_used() {
    let lab = Lab::new("generate-cookie").await;
    let client = lab.app.client.not_following_redirects();
    let resp = client
        .post_form("/share", &[("action", "generate")])
        .send()
        .await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains(&format!("Path={location};")), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Max-Age=60"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_owned();
    let (name, token) = pair.split_once('=').unwrap();

    // A wrong token shows nothing; the right one shows the password once.
    let wrong = format!("{name}={}", "f".repeat(token.len()));
    let page = client.get(&location).header("cookie", &wrong).send().await;
    assert!(!page.text().await.unwrap().contains("id=\"generated\""));
    let page = client.get(&location).header("cookie", &pair).send().await;
    let cleared = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(page.text().await.unwrap().contains("id=\"generated\""));
    let again = client.get(&location).header("cookie", &pair).send().await;
    assert!(
        !again.text().await.unwrap().contains("id=\"generated\""),
        "shown once"
    );
}

#[tokio::test]
async fn the_receipt_offers_the_link_as_a_qr_code_that_decodes_to_it() {
    let lab = Lab::new("qr").await;
    let sender = lab.browser("sender").await;
    let created = create_secret(
        &lab,
        &sender,
        &Form {
            secret: "to a phone",
            ..Form::default()
        },
    )
    .await;
    let svg = sender.find("figure.qr svg").await;
    let png = svg.screenshot_png().await;
    assert_eq!(
        decode_qr(&png),
        created.link,
        "the QR code holds the share link"
    );
    sender.screenshot("qr").await;

    // Once the secret is gone there is no link, and no code.
    lab.app.reveal(&created.secret_key, None).await;
    sender.goto(&created.receipt_url).await;
    assert!(sender.try_find("figure.qr").await.is_none());
}

#[tokio::test]
async fn the_instance_name_is_in_every_header_and_title_as_text() {
    let lab = Lab::with("instance-name", |s| {
        s.web.instance_name = "Acme <IT>".into()
    })
    .await;
    let browser = lab.browser("visitor").await;
    for path in ["/", "/no/such/page", &format!("/secret/{UNISSUED}")] {
        browser.goto(&lab.url(path)).await;
        assert_eq!(
            browser.find("header .brand").await.text().await,
            "Acme <IT>",
            "{path}"
        );
        assert!(browser.title().await.ends_with(" · Acme <IT>"), "{path}");
    }
    browser.screenshot("named").await;
}

#[tokio::test]
async fn too_many_wrong_passphrases_say_how_long_the_lock_lasts() {
    // One window for the whole test (windows are aligned to the clock: with
    // the default minute, a test could straddle two, or see seconds left).
    let lab = Lab::with("passphrase-lock", |s| {
        s.rate_limits.failed_passphrase = 2;
        s.rate_limits.window_secs = WINDOW;
    })
    .await;
    let created = lab
        .app
        .share(&[("secret", "guarded"), ("passphrase", "right")])
        .await;
    let key = created["secret_key"].as_str().unwrap().to_owned();
    let recipient = lab.browser("recipient").await;
    recipient.goto(&lab.url(&format!("/secret/{key}"))).await;
    for attempt in ["wrong", "wrong", "right"] {
        recipient.find("#passphrase").await.send_keys(attempt).await;
        recipient.find("#reveal").await.click().await;
        // The answer is a new page, whose passphrase field is empty again.
        wait_script(
            &recipient,
            "return document.querySelector('#passphrase')?.value === ''",
        )
        .await;
    }
    let said = recipient.find("p.error").await.text().await;
    assert!(said.contains("locked for you for"), "{said}");
    assert!(
        said.contains("minute") || said.contains("hour") || said.contains("day"),
        "{said}"
    );
    assert!(recipient.try_find("#value").await.is_none());
    recipient.screenshot("locked").await;

    // The page answers 429 with Retry-After; the API its v1 error with it too.
    let page = lab
        .app
        .post_form(&format!("/secret/{key}"), &[("passphrase", "right")])
        .send()
        .await;
    assert_eq!(page.status(), 429);
    let seconds: u64 = page.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seconds >= 1);
    let api = lab.app.reveal(&key, Some("right")).await;
    assert!(api.headers().contains_key("retry-after"));
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(
        body["message"], RATE_LIMITED,
        "the API's message is unchanged"
    );
}

#[tokio::test]
async fn in_the_dark_scheme_links_and_borders_take_the_checked_colours() {
    let lab = Lab::new("dark").await;
    let browser = lab.browser("visitor").await;
    browser.set_dark(true).await;
    browser.goto(&lab.url(&format!("/secret/{UNISSUED}"))).await;
    let link = browser.find("main a").await.css("color").await;
    assert_eq!(link, "rgba(108, 180, 255, 1)", "--link of the dark scheme");
    browser.set_dark(false).await;
    let link = browser.find("main a").await.css("color").await;
    assert_eq!(link, "rgba(11, 92, 173, 1)", "--link of the light scheme");
    browser.goto(&lab.url("/")).await;
    let border = browser.find("#secret").await.css("border-top-color").await;
    assert_eq!(
        border, "rgba(118, 118, 118, 1)",
        "--border of the light scheme"
    );
}

#[tokio::test]
async fn the_burn_page_says_how_long_its_passphrase_lock_lasts_and_burns_nothing() {
    let lab = Lab::with("burn-lock", |s| s.rate_limits.failed_passphrase = 2).await;
    let created = lab
        .app
        .share(&[("secret", "guarded"), ("passphrase", "right")])
        .await;
    let metadata_key = created["metadata_key"].as_str().unwrap().to_owned();
    let burn = format!("/private/{metadata_key}/burn");
    for _ in 0..2 {
        let wrong = lab
            .app
            .post_form(&burn, &[("passphrase", "wrong")])
            .send()
            .await;
        assert_eq!(wrong.status(), 400);
    }
    let locked = lab
        .app
        .post_form(&burn, &[("passphrase", "right")])
        .send()
        .await;
    assert_eq!(locked.status(), 429);
    assert!(locked.headers().contains_key("retry-after"));
    let page = locked.text().await.unwrap();
    assert!(page.contains("locked for you for"), "{page}");
    let receipt = lab.api_receipt(&metadata_key).await;
    assert_eq!(receipt["state"], "new", "nothing was burned");
}

/// Runs `script` (bounded) until it returns `true`: for the page that follows
/// a form post, whose elements replace the ones found before it.
async fn wait_script(browser: &crate::browser::webdriver::Browser, script: &str) {
    let deadline = std::time::Instant::now() + crate::browser::webdriver::WAIT;
    loop {
        if let Ok(serde_json::Value::Bool(true)) = browser.execute(script, vec![]).await {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{script} never held");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
