//! The words of a page follow the state of what it shows: a receipt says what
//! became of the secret (and offers to burn it only while it can), the state
//! badge is one line at a desktop's and a phone's width, and the copy button
//! says "Copied" in the page's own language.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::browser::support::*;
use crate::browser::webdriver::{Browser, DESKTOP, PHONE};

const LIVE_HINT: &str = "Keep this page's address private: it lets you see and burn this secret.";
const DONE_HINT: &str = "The secret is no longer on the server and its link no longer works: \
                         this page only records what became of it.";

/// The receipt's heading, its hint, and whether it offers a burn.
async fn receipt_words(browser: &Browser) -> (String, String, bool) {
    let heading = browser.find("h1").await.text().await;
    let hint = browser.find("#receipt-hint").await.text().await;
    let burn = browser.try_find("a[href$='/burn']").await.is_some();
    (heading, hint, burn)
}

/// A secret shared over the API: its metadata key and secret key.
async fn shared(lab: &Lab, ttl: &str) -> (String, String) {
    let made = lab
        .app
        .share(&[("secret", "state words"), ("ttl", ttl)])
        .await;
    (
        made["metadata_key"].as_str().unwrap().to_owned(),
        made["secret_key"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_new_or_viewed_receipt_offers_its_link_and_says_it_can_burn_the_secret() {
    let lab = Lab::new("states-live").await;
    let sender = lab.browser("sender").await;
    let (metadata, secret) = shared(&lab, "3600").await;
    sender.goto(&lab.url(&format!("/private/{metadata}"))).await;
    assert_eq!(
        receipt_words(&sender).await,
        ("Your secret link".into(), LIVE_HINT.into(), true)
    );
    // Opened, not revealed: still live.
    let recipient = lab.browser("recipient").await;
    recipient.goto(&lab.url(&format!("/secret/{secret}"))).await;
    recipient.find("#reveal").await;
    wait_receipt_state(&sender, &lab.url(&format!("/private/{metadata}")), "viewed").await;
    assert_eq!(
        receipt_words(&sender).await,
        ("Your secret link".into(), LIVE_HINT.into(), true)
    );
    sender.screenshot("viewed").await;
}

#[tokio::test]
async fn after_the_reveal_the_receipt_says_the_secret_was_received_and_offers_no_burn() {
    let lab = Lab::new("states-received").await;
    let sender = lab.browser("sender").await;
    let (metadata, secret) = shared(&lab, "3600").await;
    assert_eq!(lab.app.reveal(&secret, None).await.status(), 200);
    let badge = wait_receipt_state(
        &sender,
        &lab.url(&format!("/private/{metadata}")),
        "received",
    )
    .await;
    assert_eq!(badge, "Received");
    assert_eq!(
        receipt_words(&sender).await,
        ("Your secret was received".into(), DONE_HINT.into(), false)
    );
    assert!(!sender.main_text().await.contains("lets you see and burn"));
    sender.screenshot("received").await;
}

#[tokio::test]
async fn after_a_burn_the_receipt_says_the_secret_was_burned() {
    let lab = Lab::new("states-burned").await;
    let sender = lab.browser("sender").await;
    let (metadata, _) = shared(&lab, "3600").await;
    let resp = lab
        .app
        .post(&format!("/api/v1/private/{metadata}/burn"))
        .send()
        .await;
    assert_eq!(resp.status(), 200, "burned over the API");
    wait_receipt_state(&sender, &lab.url(&format!("/private/{metadata}")), "burned").await;
    assert_eq!(
        receipt_words(&sender).await,
        ("Your secret was burned".into(), DONE_HINT.into(), false)
    );
    sender.screenshot("burned").await;
}

#[tokio::test]
async fn after_expiry_the_receipt_says_the_secret_expired() {
    let lab = Lab::with("states-expired", |s| {
        s.limits.min_ttl = 1;
        s.reaper.interval_secs = 3600;
    })
    .await;
    let sender = lab.browser("sender").await;
    let (metadata, _) = shared(&lab, "2").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while lab.api_receipt(&metadata).await["state"] != "expired" {
        assert!(Instant::now() < deadline, "the secret expired within 10 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_receipt_state(
        &sender,
        &lab.url(&format!("/private/{metadata}")),
        "expired",
    )
    .await;
    assert_eq!(
        receipt_words(&sender).await,
        ("Your secret expired".into(), DONE_HINT.into(), false)
    );
    sender.screenshot("expired").await;
}

/// The badge's height, and the height of the same badge holding one letter:
/// equal when the badge is one line. Also whether it stays inside the window.
async fn badge_lines(browser: &Browser) -> Value {
    browser
        .execute(
            "const badge = document.querySelector('span.state'); \
             const one = badge.cloneNode(); one.textContent = 'X'; \
             badge.parentNode.appendChild(one); \
             const h1 = one.getBoundingClientRect().height; one.remove(); \
             const r = badge.getBoundingClientRect(); \
             return {height: r.height, one_line: h1, right: r.right, width: window.innerWidth, \
                     text: badge.textContent};",
            vec![],
        )
        .await
        .expect("measure the badge")
}

async fn assert_badge_is_one_line(browser: &Browser, what: &str) {
    for (size, name) in [(DESKTOP, "desktop"), (PHONE, "phone")] {
        browser.set_window(size).await;
        let m = badge_lines(browser).await;
        let (height, one) = (
            m["height"].as_f64().unwrap(),
            m["one_line"].as_f64().unwrap(),
        );
        assert!(
            (height - one).abs() < 1.0,
            "{what} at {name} width: the badge is one line: {m}"
        );
        assert!(
            m["right"].as_f64().unwrap() <= m["width"].as_f64().unwrap(),
            "{what} at {name} width: the badge stays in the window: {m}"
        );
    }
    browser.set_window(DESKTOP).await;
}

#[tokio::test]
async fn the_state_badge_is_one_line_on_desktop_and_phone_in_every_language() {
    let lab = Lab::new("states-badge").await;
    let asked = lab.app.ask(&[("note", "the VPN password")]).await;
    let private = asked["private_key"].as_str().unwrap().to_owned();
    let request = asked["request_key"].as_str().unwrap().to_owned();
    assert_eq!(lab.app.answer(&request, "hunter2").await.status(), 200);
    let (viewed_metadata, viewed_secret) = shared(&lab, "3600").await;
    let browser = lab.browser("requester").await;
    browser
        .goto(&lab.url(&format!("/secret/{viewed_secret}")))
        .await;
    browser.find("#reveal").await;
    for code in ["en", "de", "nl", "sv", "tr"] {
        browser
            .goto(&lab.url(&format!("/request/{private}?lang={code}")))
            .await;
        assert_eq!(receipt_state(&browser).await, "answered");
        assert_badge_is_one_line(&browser, &format!("an answered request ({code})")).await;
        browser
            .goto(&lab.url(&format!("/private/{viewed_metadata}?lang={code}")))
            .await;
        assert_eq!(receipt_state(&browser).await, "viewed");
        assert_badge_is_one_line(&browser, &format!("a viewed secret ({code})")).await;
    }
    browser
        .goto(&lab.url(&format!("/request/{private}?lang=en")))
        .await;
    assert_eq!(browser.find("span.state").await.text().await, "Answered");
    let detail = browser.find("span.state-detail").await.text().await;
    assert!(
        detail.ends_with("UTC: the answer is waiting for you"),
        "the date and what it means follow the badge: {detail:?}"
    );
    browser.screenshot("answered").await;
}

/// Each catalogue's word for "Copied".
const COPIED: [(&str, &str); 5] = [
    ("en", "Copied"),
    ("de", "Kopiert"),
    ("nl", "Gekopieerd"),
    ("sv", "Kopierat"),
    ("tr", "Kopyalandı"),
];

#[tokio::test]
async fn the_copy_button_says_copied_in_the_pages_language() {
    let lab = Lab::new("states-copied").await;
    let (metadata, secret) = shared(&lab, "3600").await;
    for (code, word) in COPIED {
        let catalogue = std::fs::read_to_string(format!(
            "{}/src/http/web/locales/{code}.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let table: toml::Table = toml::from_str(&catalogue).unwrap();
        assert_eq!(table["copied"].as_str(), Some(word), "{code} has `copied`");
        let page = lab
            .app
            .get(&format!("/private/{metadata}?lang={code}"))
            .send()
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("data-copy=\"link\" data-copied=\"{word}\"")),
            "the {code} receipt's copy button carries {word:?}"
        );
    }
    // Clicked in German, the button says the German word.
    let browser = lab.browser_in("german", "de-DE,de").await;
    browser
        .goto(&lab.url(&format!("/private/{metadata}")))
        .await;
    assert_copy_button_says(
        &browser,
        "link",
        &lab.url(&format!("/secret/{secret}")),
        "Kopiert",
    )
    .await;
    browser.screenshot("kopiert").await;
}
