//! Security headers of every page, and form posts from other sites refused.

use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::browser::support::*;
use crate::common::*;

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The headers every page carries (redirects between pages too).
fn assert_page_headers(what: &str, resp: &Response) {
    let h = resp.headers();
    let csp = header(h, "content-security-policy");
    assert!(
        csp.contains("script-src 'self'"),
        "{what}: CSP limits scripts to our own files: {csp:?}"
    );
    for weak in ["unsafe-inline", "unsafe-eval", "*", "data:"] {
        assert!(!csp.contains(weak), "{what}: CSP allows {weak}: {csp:?}");
    }
    assert!(
        csp.contains("default-src 'none'") || csp.contains("default-src 'self'"),
        "{what}: CSP has a strict default: {csp:?}"
    );
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{what}: CSP forbids framing: {csp:?}"
    );
    assert!(
        header(h, "x-frame-options").eq_ignore_ascii_case("DENY"),
        "{what}: X-Frame-Options {:?}",
        header(h, "x-frame-options")
    );
    assert_eq!(header(h, "referrer-policy"), "no-referrer", "{what}");
    assert_eq!(header(h, "x-content-type-options"), "nosniff", "{what}");
    assert!(
        header(h, "cache-control").contains("no-store"),
        "{what}: Cache-Control {:?}",
        header(h, "cache-control")
    );
    if resp.status() != StatusCode::SEE_OTHER {
        assert_eq!(
            header(h, "content-type"),
            "text/html; charset=utf-8",
            "{what}"
        );
    }
}

/// `GET path`, showing a redirect instead of following it.
async fn get(app: &TestApp, path: &str) -> Response {
    app.not_following_redirects().get(path).await
}

/// `POST path` with a form, showing a redirect instead of following it.
async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Response {
    app.not_following_redirects().post_form(path, form).await
}

fn location(resp: &Response) -> String {
    header(resp.headers(), "location").to_owned()
}

#[tokio::test]
async fn every_page_sends_the_security_headers() {
    let app = spawn_app().await;

    let resp = get(&app, "/").await;
    assert_eq!(resp.status(), 200);
    assert_page_headers("GET /", &resp);

    // Create from the form: 303 to the receipt.
    let resp = post(
        &app,
        "/share",
        &[
            ("secret", "headers"),
            ("passphrase", "pw"),
            ("action", "share"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_page_headers("POST /share", &resp);
    let receipt_path = location(&resp);
    assert!(receipt_path.starts_with("/private/"), "{receipt_path}");
    let metadata_key = receipt_path.trim_start_matches("/private/").to_owned();
    let meta: Value = app.metadata(&metadata_key).await.json().await.unwrap();
    let secret_key = meta["secret_key"].as_str().unwrap().to_owned();

    let resp = post(&app, "/share", &[("secret", ""), ("action", "share")]).await;
    assert_eq!(resp.status(), 400, "an empty secret is refused");
    assert_page_headers("POST /share refused", &resp);

    let resp = post(&app, "/share", &[("action", "generate")]).await;
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "generate redirects too"
    );
    assert_page_headers("POST /share (generate)", &resp);

    let resp = get(&app, &receipt_path).await;
    assert_eq!(resp.status(), 200);
    assert_page_headers("GET /private/{key}", &resp);

    let resp = get(&app, &format!("{receipt_path}/burn")).await;
    assert_eq!(resp.status(), 200);
    assert_page_headers("GET /private/{key}/burn", &resp);

    let secret_path = format!("/secret/{secret_key}");
    let resp = get(&app, &secret_path).await;
    assert_eq!(resp.status(), 200);
    assert_page_headers("GET /secret/{key}", &resp);

    let resp = post(&app, &secret_path, &[("passphrase", "wrong")]).await;
    assert_eq!(resp.status(), 400);
    assert_page_headers("POST /secret/{key} wrong passphrase", &resp);

    let resp = post(&app, &secret_path, &[("passphrase", "pw")]).await;
    assert_eq!(resp.status(), 200);
    assert_page_headers("POST /secret/{key} revealed", &resp);
    assert!(resp.text().await.unwrap().contains("headers"));

    let resp = get(&app, &secret_path).await;
    assert_eq!(resp.status(), 404);
    assert_page_headers("GET /secret/{key} gone", &resp);

    let resp = get(&app, "/private/0123456789abcdefghijklmnopqrstu").await;
    assert_eq!(resp.status(), 404);
    assert_page_headers("GET /private/{unknown}", &resp);

    // Burn through the form: 303 back to the receipt.
    let other = app.share(&[("secret", "burn me")]).await;
    let other_receipt = format!("/private/{}", other["metadata_key"].as_str().unwrap());
    let resp = post(&app, &format!("{other_receipt}/burn"), &[]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), other_receipt);
    assert_page_headers("POST /private/{key}/burn", &resp);

    // The scripts and styles the CSP allows are served with their real types
    // (with nosniff a wrong type would stop them).
    for (path, kind) in [
        ("/static/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
    ] {
        let resp = get(&app, path).await;
        assert_eq!(resp.status(), 200, "{path}");
        assert!(
            header(resp.headers(), "content-type").starts_with(kind),
            "{path}"
        );
        assert_eq!(header(resp.headers(), "x-content-type-options"), "nosniff");
    }
}

#[tokio::test]
async fn form_posts_from_other_sites_are_refused_and_consume_nothing() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "not for csrf")]).await;
    let secret_key = meta["secret_key"].as_str().unwrap();
    let metadata_key = meta["metadata_key"].as_str().unwrap();

    let foreign: [(&str, &str); 4] = [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("origin", "http://127.0.0.1.evil.example"),
    ];
    for (name, value) in foreign {
        for path in [
            format!("/secret/{secret_key}"),
            format!("/private/{metadata_key}/burn"),
            "/share".to_owned(),
        ] {
            let resp = app
                .not_following_redirects()
                .post_form(&path, &[("secret", "forged"), ("action", "share")])
                .header(name, value)
                .await;
            assert_eq!(
                resp.status(),
                StatusCode::FORBIDDEN,
                "POST {path} with {name}: {value} is refused"
            );
            assert_page_headers("refused post", &resp);
            let body = resp.text().await.unwrap();
            assert!(!body.contains("not for csrf"), "nothing revealed");
            assert!(body.contains("refused"), "the page says why: {body}");
        }
    }

    // Nothing consumed, nothing burned, nothing created.
    let state: Value = app.metadata(metadata_key).await.json().await.unwrap();
    assert_eq!(state["state"], "new");
    let resp = app.reveal(secret_key, None).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["value"], "not for csrf", "the secret is still there");
}

#[tokio::test]
async fn a_real_browser_cross_site_form_post_is_refused() {
    let lab = Lab::new("cross-site").await;
    let meta = lab.app.share(&[("secret", "csrf target")]).await;
    let secret_key = meta["secret_key"].as_str().unwrap();
    let browser = lab.browser("victim").await;

    // Another site's page (a data: URL is an opaque, foreign origin) with a form
    // that posts to the reveal URL.
    let attacker = format!(
        "data:text/html;charset=utf-8,<form method=post action=\"{}\">\
         <button id=go type=submit>win a prize</button></form>",
        lab.url(&format!("/secret/{secret_key}"))
    )
    .replace(' ', "%20")
    .replace('"', "%22");
    browser.goto(&attacker).await;
    browser.find("#go").await.click().await;
    let error = browser.find("p.error").await.text().await;
    assert!(
        error.contains("refused"),
        "the forged post is refused: {error:?}"
    );
    assert!(browser.try_find("#value").await.is_none());
    assert!(!browser.source().await.contains("csrf target"));
    browser.screenshot("refused").await;

    let body: Value = lab.app.reveal(secret_key, None).await.json().await.unwrap();
    assert_eq!(
        body["value"], "csrf target",
        "the forged post consumed nothing"
    );
}
