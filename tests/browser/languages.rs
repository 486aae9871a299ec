//! The pages in English, German, Dutch, Swedish and Turkish: chosen from
//! `Accept-Language`, switched with plain links (no JavaScript) and remembered
//! in a cookie, with `lang` on `<html>`; the API's messages stay English.

use crate::browser::support::*;
use crate::common::UNKNOWN_SECRET;

/// Each language's code and catalogue, as built into the server.
const CATALOGUES: [(&str, &str); 5] = [
    ("en", include_str!("../../src/http/web/locales/en.toml")),
    ("de", include_str!("../../src/http/web/locales/de.toml")),
    ("nl", include_str!("../../src/http/web/locales/nl.toml")),
    ("sv", include_str!("../../src/http/web/locales/sv.toml")),
    ("tr", include_str!("../../src/http/web/locales/tr.toml")),
];

/// The text of a dotted `key` (`index.title`) in the catalogue of `code`.
pub(super) fn text(code: &str, key: &str) -> String {
    let (_, source) = CATALOGUES
        .iter()
        .find(|(c, _)| *c == code)
        .expect("a language");
    let table: toml::Table = toml::from_str(source).expect("catalogue parses");
    let mut value = &toml::Value::Table(table);
    for part in key.split('.') {
        value = &value[part];
    }
    value.as_str().expect("text").to_owned()
}

fn html_lang(page: &str) -> &str {
    let start = page.find("<html lang=\"").expect("<html lang>") + "<html lang=\"".len();
    &page[start..start + page[start..].find('"').unwrap()]
}

#[tokio::test]
async fn each_language_is_chosen_from_accept_language_and_others_get_english() {
    let lab = Lab::new("languages-negotiated").await;
    for (header, code) in [
        ("de-AT,de;q=0.9,en;q=0.8", "de"),
        ("nl-BE", "nl"),
        ("fr-FR,sv;q=0.6,en;q=0.5", "sv"),
        ("tr-TR", "tr"),
        ("en-GB", "en"),
        ("fr, ja;q=0.8", "en"),
    ] {
        let page = lab
            .app
            .get("/")
            .header("accept-language", header)
            .send()
            .await;
        let page = page.text().await.unwrap();
        assert_eq!(html_lang(&page), code, "{header}");
        let title = text(code, "index.title");
        assert!(
            page.contains(&format!("<h1>{title}</h1>")),
            "{header}: {title}"
        );
    }
    // The API answers in English whatever the client prefers.
    let resp = lab
        .app
        .reveal("0000000000000000000000000000000", None)
        .header("accept-language", "de")
        .send()
        .await;
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["message"], UNKNOWN_SECRET);
}

#[tokio::test]
async fn a_browser_in_swedish_gets_swedish_pages() {
    let lab = Lab::new("languages-browser").await;
    let browser = lab.browser_in("swede", "sv-SE,sv,en;q=0.5").await;
    browser.goto(&lab.url("/")).await;
    assert_eq!(
        browser.find("h1").await.text().await,
        text("sv", "index.title")
    );
    let lang = browser.find("html").await.attribute("lang").await;
    assert_eq!(lang.as_deref(), Some("sv"));
    browser.screenshot("index").await;
}

#[tokio::test]
async fn the_switcher_works_without_javascript_and_every_page_follows_it() {
    let lab = Lab::new("languages-switcher").await;
    let browser = lab.browser_without_js("visitor").await;
    browser.goto(&lab.url("/")).await;
    assert_eq!(browser.find("h1").await.text().await, "Share a secret");
    for code in ["de", "nl", "sv", "tr", "en"] {
        browser
            .find(&format!("footer a[hreflang={code}]"))
            .await
            .click()
            .await;
        browser
            .wait_url("the switched page", |u| {
                u.ends_with(&format!("?lang={code}"))
            })
            .await;
        assert_eq!(
            browser.find("h1").await.text().await,
            text(code, "index.title")
        );
        let current = browser.find("footer [aria-current]").await;
        assert_eq!(current.attribute("lang").await.as_deref(), Some(code));
        browser.screenshot(&format!("index-{code}")).await;
    }

    // German is remembered: the form, the receipt, its dates and durations,
    // the reveal, and the error pages all follow without `?lang=`.
    browser.find("footer a[hreflang=de]").await.click().await;
    browser
        .wait_url("German", |u| u.ends_with("?lang=de"))
        .await;
    browser.goto(&lab.url("/")).await;
    assert_eq!(
        browser.find("h1").await.text().await,
        text("de", "index.title")
    );
    let week = browser
        .find("#ttl option[value='604800']")
        .await
        .text()
        .await;
    assert_eq!(week, "7 Tage");
    browser.find("#secret").await.send_keys("geheim").await;
    button(&browser, &text("de", "index.share"))
        .await
        .click()
        .await;
    let created = read_receipt(&lab, &browser).await;
    assert_eq!(
        browser.find("h1").await.text().await,
        text("de", "receipt.title")
    );
    let expires = receipt_field(&browser, &text("de", "receipt.expires"))
        .await
        .unwrap();
    assert!(
        expires.starts_with("noch 6 Tage") || expires.starts_with("noch 7 Tage"),
        "{expires}"
    );
    assert!(expires.ends_with(" UTC)"), "{expires}");
    let months: Vec<String> = (1..=12)
        .map(|m| text("de", &format!("month.{m}")))
        .collect();
    assert!(
        months.iter().any(|m| expires.contains(m.as_str())),
        "a German month: {expires}"
    );
    assert_eq!(
        browser.find("span.state").await.text().await,
        text("de", "state.new")
    );
    browser.screenshot("receipt-de").await;

    browser.goto(&created.link).await;
    assert_eq!(
        browser.find("#reveal").await.text().await,
        text("de", "reveal.button")
    );
    browser.find("#reveal").await.click().await;
    browser.find("#value").await; // the revealed page, not the form before it
    assert_eq!(
        browser.find("h1").await.text().await,
        text("de", "revealed.title")
    );
    assert!(
        browser.try_find("footer nav").await.is_none(),
        "no switcher where a reload would lose the secret"
    );
    browser.screenshot("revealed-de").await;
    browser.goto(&created.link).await;
    assert_eq!(
        browser.find("h1").await.text().await,
        text("de", "gone.heading")
    );
    browser.goto(&lab.url("/no/such/page")).await;
    assert_eq!(
        browser.find("h1").await.text().await,
        text("de", "not_found.heading")
    );
}
