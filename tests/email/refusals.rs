//! When a recipient cannot or must not be emailed, the request fails with a clear
//! message and nothing is stored: bad addresses, anonymous callers, no SMTP, a
//! relay that is down, silent or refusing, and the per-account email limit.

use serde_json::json;
use std::time::{Duration, Instant};

use crate::common::free_port;
use crate::common::*;
use crate::email::smtp::{Behaviour, FakeRelay, SmtpServer};
use crate::email::support::*;

/// A generous bound on a request that must fail because of the relay: the SMTP
/// timeout in these tests is 2 s.
const PROMPT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn an_invalid_recipient_is_undeliverable_and_nothing_is_stored_or_sent() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, |_| {}).await;
    let alice = add_account(&app, "alice");
    let invalid = [
        "not-an-address",
        "bob@",
        "@example.com",
        "bob@@example.com",
        "bob smith@example.com",
        "Bob <bob@example.com>",
        "bob@example.com\r\nBcc: eve@example.com",
    ];

    for path in [SHARE, GENERATE] {
        for address in invalid {
            for name in ["recipient", "recipient[]"] {
                let form = [("secret", "kept back"), (name, address)];
                let resp = app.as_account(&alice).post_form(path, &form).await;
                let message = format!("Undeliverable email address: {}", address.trim());
                assert_error(resp, 400, &message).await;
            }
        }
    }
    // Only the first recipient counts, so a bad first one is refused even when a
    // good one follows.
    let form = [
        ("secret", "kept back"),
        ("recipient[]", "not-an-address"),
        ("recipient[]", "good@example.com"),
    ];
    let resp = app.as_account(&alice).post_form(SHARE, &form).await;
    assert_error(resp, 400, "Undeliverable email address: not-an-address").await;

    assert_eq!(smtp.count(), 0, "nothing was sent");
    assert_eq!(app.stop_and_count_records().await, (0, 0), "nothing stored");
}

#[tokio::test]
async fn an_anonymous_recipient_needs_an_account_and_nothing_is_stored_or_sent() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, |_| {}).await;

    for path in [SHARE, GENERATE] {
        for name in ["recipient", "recipient[]"] {
            for address in ["friend@example.com", "not-an-address"] {
                let form = [("secret", "kept back"), (name, address)];
                let resp = app.post_form(path, &form).await;
                assert_error(resp, 401, ACCOUNT_REQUIRED_FOR_EMAIL).await;
            }
        }
    }
    let resp = app
        .post_json(
            SHARE,
            &json!({"secret": "kept back", "recipient": ["friend@example.com"]}),
        )
        .await;
    assert_error(resp, 401, ACCOUNT_REQUIRED_FOR_EMAIL).await;

    assert_eq!(smtp.count(), 0, "nothing was sent");
    assert_eq!(app.stop_and_count_records().await, (0, 0), "nothing stored");
}

#[tokio::test]
async fn without_smtp_a_recipient_is_refused_clearly_and_nothing_is_stored() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    // The account may share; only the email is what cannot be done.
    ok_json(
        app.as_account(&alice)
            .post_form(SHARE, &[("secret", "no email")])
            .await,
    )
    .await;

    for path in [SHARE, GENERATE] {
        let form = [("secret", "kept back"), ("recipient", "friend@example.com")];
        let resp = app.as_account(&alice).post_form(path, &form).await;
        assert_error(resp, 400, "Email is not configured on this server").await;
    }

    assert_eq!(
        app.stop_and_count_records().await,
        (1, 1),
        "only the secret shared without a recipient is stored"
    );
}

/// Shares and generates with a recipient through a relay that cannot take the
/// message; each must fail with the email error within `PROMPT`, and the account's
/// `recent` list must stay empty.
async fn assert_every_email_fails_promptly(app: &TestApp, alice: &Account) {
    for path in [SHARE, GENERATE] {
        let form = [
            ("secret", "kept back"),
            ("passphrase", "also kept back"),
            ("recipient", "friend@example.com"),
        ];
        let start = Instant::now();
        let resp = app.as_account(alice).post_form(path, &form).await;
        let took = start.elapsed();
        assert_error(resp, 500, EMAIL_FAILED).await;
        assert!(took < PROMPT, "{path} took {took:?}");
    }
    let recent = ok_json(app.as_account(alice).get(RECENT[0]).await).await;
    assert_eq!(recent, json!([]), "no receipt is left behind");
}

#[tokio::test]
async fn when_the_relay_is_down_the_request_fails_promptly_and_nothing_is_stored() {
    let port = free_port(); // nothing listens there
    let app = spawn_with_relay(port, |s| {
        s.smtp.timeout_secs = 2;
        s.metrics.enabled = true;
    })
    .await;
    let alice = add_account(&app, "alice");

    assert_every_email_fails_promptly(&app, &alice).await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    for counted in [
        "otsd_emails_total{result=\"failed\"} 2",
        "otsd_emails_total{result=\"sent\"} 0",
        "otsd_secrets_created_total 0",
    ] {
        assert!(
            metrics.contains(counted),
            "/metrics has {counted}:\n{metrics}"
        );
    }

    assert_eq!(app.stop_and_count_records().await, (0, 0), "nothing stored");
}

#[tokio::test]
async fn when_the_relay_never_answers_the_request_fails_after_the_timeout_and_nothing_is_stored() {
    let relay = FakeRelay::start(Behaviour::Silent).await;
    let app = spawn_with_relay(relay.port, |s| s.smtp.timeout_secs = 2).await;
    let alice = add_account(&app, "alice");

    assert_every_email_fails_promptly(&app, &alice).await;

    assert!(relay.connections() >= 2, "the server did try the relay");
    assert_eq!(app.stop_and_count_records().await, (0, 0), "nothing stored");
}

#[tokio::test]
async fn when_the_relay_refuses_the_recipient_the_request_fails_and_nothing_is_stored() {
    let relay = FakeRelay::start(Behaviour::Refusing).await;
    let app = spawn_with_relay(relay.port, |s| s.smtp.timeout_secs = 2).await;
    let alice = add_account(&app, "alice");

    assert_every_email_fails_promptly(&app, &alice).await;

    assert!(relay.connections() >= 2, "the server did try the relay");
    assert_eq!(app.stop_and_count_records().await, (0, 0), "nothing stored");
}

/// A server whose accounts may email `limit` times per (endless) window.
async fn spawn_with_email_limit(smtp: &SmtpServer, limit: u32, exempt_accounts: bool) -> TestApp {
    spawn_with_relay(smtp.port, |s| {
        s.rate_limits.email = limit;
        s.rate_limits.window_secs = WINDOW;
        s.rate_limits.exempt_accounts = exempt_accounts;
    })
    .await
}

#[tokio::test]
async fn crossing_the_accounts_email_limit_is_refused_sends_nothing_and_stores_nothing() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_email_limit(&smtp, 2, false).await;
    let alice = add_account(&app, "alice");
    let form = [("secret", "s"), ("recipient", "friend@example.com")];

    ok_json(app.as_account(&alice).post_form(SHARE, &form).await).await;
    ok_json(app.as_account(&alice).post_form(GENERATE, &form).await).await;
    assert_eq!(smtp.wait_for(2).await.len(), 2);

    for path in [SHARE, GENERATE] {
        let resp = app.as_account(&alice).post_form(path, &form).await;
        assert_error(resp, 429, RATE_LIMITED).await;
    }
    assert_eq!(smtp.count(), 2, "no message past the limit");

    // Only email is limited: the account still shares without a recipient.
    ok_json(
        app.as_account(&alice)
            .post_form(SHARE, &[("secret", "s")])
            .await,
    )
    .await;

    assert_eq!(app.stop_and_count_records().await, (3, 3));
    assert_eq!(smtp.count(), 2);
}

#[tokio::test]
async fn the_email_limit_is_per_account() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_email_limit(&smtp, 1, false).await;
    let alice = add_account(&app, "alice");
    let bob = add_account(&app, "bob");
    let form = [("secret", "s"), ("recipient", "friend@example.com")];

    ok_json(app.as_account(&alice).post_form(SHARE, &form).await).await;
    let resp = app.as_account(&alice).post_form(SHARE, &form).await;
    assert_error(resp, 429, RATE_LIMITED).await;

    // Bob, from the same address, has his own allowance.
    ok_json(app.as_account(&bob).post_form(SHARE, &form).await).await;
    let resp = app.as_account(&bob).post_form(SHARE, &form).await;
    assert_error(resp, 429, RATE_LIMITED).await;

    assert_eq!(smtp.wait_for(2).await.len(), 2);
    assert_eq!(app.stop_and_count_records().await, (2, 2));
}

#[tokio::test]
async fn accounts_exempt_from_rate_limits_are_still_limited_for_email() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_email_limit(&smtp, 1, true).await;
    let alice = add_account(&app, "alice");
    let form = [("secret", "s"), ("recipient", "friend@example.com")];

    ok_json(app.as_account(&alice).post_form(SHARE, &form).await).await;
    let resp = app.as_account(&alice).post_form(SHARE, &form).await;
    assert_error(resp, 429, RATE_LIMITED).await;

    assert_eq!(smtp.wait_for(1).await.len(), 1);
    assert_eq!(smtp.count(), 1);
    assert_eq!(app.stop_and_count_records().await, (1, 1));
}

#[tokio::test]
async fn a_creator_who_stops_waiting_for_a_silent_relay_leaves_nothing_behind() {
    let relay = FakeRelay::start(Behaviour::Silent).await;
    let app = spawn_with_relay(relay.port, |s| s.smtp.timeout_secs = 2).await;
    let alice = add_account(&app, "alice");
    let form = [("secret", "kept back"), ("recipient", "friend@example.com")];

    // The client hangs up while the server waits for the relay.
    let request = app
        .as_account(&alice)
        .post_form(SHARE, &form)
        .timeout(Duration::from_millis(300));
    assert!(request.try_send().await.is_err(), "the client gave up");

    // The secret is stored before the relay is tried; once the relay has been
    // tried, the receipt must go away (the email could not be sent).
    let start = Instant::now();
    while relay.connections() == 0 {
        assert!(start.elapsed() < PROMPT, "the server never tried the relay");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    loop {
        let recent = ok_json(app.as_account(&alice).get(RECENT[0]).await).await;
        if recent == json!([]) {
            break;
        }
        assert!(
            start.elapsed() < PROMPT,
            "the secret is still there: {recent}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.stop_and_count_records().await, (0, 0), "nothing stored");
}
