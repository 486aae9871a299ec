//! Expired, used and unknown links: one plain page that does not tell which.

use std::time::{Duration, Instant};

use crate::browser::support::*;

/// TTL offered by the form in this test (seconds).
const SHORT_TTL: u64 = 3;

#[tokio::test]
async fn an_expired_link_says_so_like_a_used_or_unknown_one() {
    // The reaper is far away: an expired secret must not be served even before
    // it is swept.
    let lab = Lab::with("expiry", |s| {
        s.limits.min_ttl = 1;
        s.web.ttl_choices = vec![SHORT_TTL, 3600];
        s.reaper.interval_secs = 3600;
    })
    .await;
    let sender = lab.browser("sender").await;
    sender.goto(&lab.url("/")).await;
    let label = sender
        .find(&format!("#ttl option[value=\"{SHORT_TTL}\"]"))
        .await
        .text()
        .await;
    assert_eq!(label, "3 seconds", "the expiry choice is shown in words");
    let started = Instant::now();
    let expiring = create_secret(
        &lab,
        &sender,
        &Form {
            secret: "short-lived",
            ttl: Some(&SHORT_TTL.to_string()),
            ..Form::default()
        },
    )
    .await;
    let expires = receipt_field(&sender, "Expires").await.unwrap_or_default();
    assert!(
        expires.starts_with("in ") && expires.contains("second"),
        "expires in seconds: {expires:?}"
    );

    // A used one and an unknown one to compare with.
    let used = lab
        .app
        .share(&[("secret", "used up"), ("ttl", "3600")])
        .await;
    let used_key = used["secret_key"].as_str().unwrap().to_owned();
    assert_eq!(lab.app.reveal(&used_key, None).await.status(), 200);
    let unknown_key = "0123456789abcdefghijklmnopqrstu";

    // Wait (bounded) until the API says the secret has expired; reading the
    // receipt over the API changes nothing.
    let deadline = started + Duration::from_secs(SHORT_TTL + 5);
    loop {
        let state = lab.api_receipt(&expiring.metadata_key).await["state"].clone();
        if state == "expired" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {state} {:?} after creating it with a {SHORT_TTL} s TTL",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The receipt says expired (it outlives the secret: 2 × TTL).
    sender.goto(&expiring.receipt_url).await;
    assert_eq!(receipt_state(&sender).await, "expired");
    assert!(sender.try_find("#link").await.is_none());
    assert!(
        sender.find_all("a.button").await.is_empty(),
        "nothing to burn"
    );
    sender.screenshot("receipt-expired").await;

    let recipient = lab.browser("recipient").await;
    recipient.goto(&expiring.link).await;
    let expired_text = assert_gone(&recipient).await;
    assert!(
        expired_text.contains("unknown, has already been used, or has expired"),
        "the page says plainly that the link does not work: {expired_text:?}"
    );
    recipient.screenshot("expired-link").await;

    recipient
        .goto(&lab.url(&format!("/secret/{used_key}")))
        .await;
    let used_text = assert_gone(&recipient).await;
    recipient.screenshot("used-link").await;
    recipient
        .goto(&lab.url(&format!("/secret/{unknown_key}")))
        .await;
    let unknown_text = assert_gone(&recipient).await;
    recipient.screenshot("unknown-link").await;
    recipient.goto(&lab.url("/secret/not-even-a-key")).await;
    let malformed_text = assert_gone(&recipient).await;

    assert_eq!(expired_text, used_text, "expired and used look the same");
    assert_eq!(used_text, unknown_text, "used and unknown look the same");
    assert_eq!(unknown_text, malformed_text);

    // Byte for byte, with the same status, for GET and for POST.
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let mut answers = Vec::new();
        for key in [expiring.secret_key.as_str(), used_key.as_str(), unknown_key] {
            let resp = lab
                .app
                .request(method.clone(), &format!("/secret/{key}"))
                .await;
            let status = resp.status();
            let body = resp.text().await.expect("body");
            answers.push((status, body));
        }
        assert_eq!(answers[0].0, 404, "{method} of an expired link");
        assert!(
            answers.windows(2).all(|w| w[0] == w[1]),
            "{method}: expired, used and unknown links answer identically"
        );
    }
}
