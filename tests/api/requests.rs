//! Request a secret (`/api/requests`, otsd's own API beside v1): a requester
//! gets a request link and a private link; the request link takes exactly one
//! answer, sealed like a secret; the private link reveals it once, or cancels.
//! Errors carry their real status. Limits and rate limits are those of shares.

use crate::common::*;
use serde_json::Value;
use std::future::IntoFuture;
use std::time::Duration;

const NOTE_TOO_LONG: &str = "A note must be no more than 500 characters long";
const NO_ANSWER_YET: &str = "There is no answer yet";

/// Asks, and returns `(request key, private key, the whole answer)`.
async fn ask(app: &TestApp, form: &[(&str, &str)]) -> (String, String, Value) {
    let body = app.ask(form).await;
    let request = text(&body, "request_key").to_owned();
    let private = text(&body, "private_key").to_owned();
    (request, private, body)
}

#[tokio::test]
async fn a_request_takes_one_answer_which_its_requester_reveals_once() {
    let app = spawn_app().await;
    let note = "The VPN password\nfor <b>bob</b>'s laptop";
    let (request, private, asked) = ask(&app, &[("note", note), ("ttl", "3600")]).await;

    assert_key(&request, "request_key");
    assert_key(&private, "private_key");
    assert_ne!(request, private);
    assert_eq!(asked["state"], "waiting");
    assert_eq!(asked["note"], note);
    assert_eq!(asked["ttl"], 3600);
    assert_eq!(asked["custid"], "anon");
    assert_eq!(asked["answered"], Value::Null);
    assert!((3590..=3600).contains(&asked["expires_in"].as_u64().unwrap()));
    assert_eq!(asked["request_url"], app.url(&format!("/ask/{request}")));
    assert_eq!(
        asked["private_url"],
        app.url(&format!("/request/{private}"))
    );

    let open = ok_json(app.open_request(&request).await).await;
    assert_eq!(open["state"], "waiting");
    assert_eq!(open["note"], note);
    assert!(open.get("private_key").is_none(), "{open}");
    assert!(!open.to_string().contains(&private), "{open}");
    assert_real_error(app.reveal_answer(&private).await, 409, NO_ANSWER_YET).await;
    assert_eq!(
        ok_json(app.private_view(&private).await).await["state"],
        "waiting"
    );

    let answered = ok_json(app.answer(&request, "hunter2").await).await;
    assert_eq!(answered, serde_json::json!({ "state": "answered" }));
    assert_real_error(app.answer(&request, "again").await, 404, UNKNOWN_REQUEST).await;
    assert_real_error(app.open_request(&request).await, 404, UNKNOWN_REQUEST).await;

    let waiting = ok_json(app.private_view(&private).await).await;
    assert_eq!(waiting["state"], "answered");
    assert_eq!(waiting["request_key"], Value::Null);
    assert_eq!(waiting["request_url"], Value::Null);
    assert_eq!(waiting["note"], note);
    assert!(waiting["answered"].is_u64());
    assert!(!waiting.to_string().contains("hunter2"), "{waiting}");

    let revealed = ok_json(app.reveal_answer(&private).await).await;
    assert_eq!(revealed["value"], "hunter2");
    assert_eq!(revealed["state"], "revealed");
    assert_real_error(app.reveal_answer(&private).await, 404, UNKNOWN_REQUEST).await;
    let after = ok_json(app.private_view(&private).await).await;
    assert_eq!(after["state"], "revealed");
    assert_eq!(after["note"], Value::Null, "gone with the answer");
    assert_eq!(after["expires_in"], Value::Null);
}

/// Many answers at once: exactly one is taken, and it is the one revealed.
#[tokio::test]
async fn concurrent_answers_have_exactly_one_winner() {
    let app = spawn_app().await;
    let (request, private, _) = ask(&app, &[]).await;
    let values: Vec<String> = (0..16).map(|i| format!("answer-{i}")).collect();

    let responses = futures_util::future::join_all(
        values
            .iter()
            .map(|value| app.answer(&request, value).into_future()),
    )
    .await;

    let mut winners = Vec::new();
    for (value, response) in values.iter().zip(responses) {
        match response.status().as_u16() {
            200 => winners.push(value.clone()),
            404 => assert_eq!(
                response.json::<Value>().await.unwrap()["message"],
                UNKNOWN_REQUEST
            ),
            other => panic!("answer got {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "one answer taken: {winners:?}");
    let revealed = ok_json(app.reveal_answer(&private).await).await;
    assert_eq!(revealed["value"], winners[0].as_str());
}

#[tokio::test]
async fn a_cancelled_request_takes_no_answer_and_an_unread_answer_goes_with_it() {
    let app = spawn_app().await;
    let (request, private, _) = ask(&app, &[("note", "cancel me")]).await;
    let cancelled = ok_json(app.cancel_request(&private).await).await;
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(cancelled["request_url"], Value::Null);
    assert_real_error(app.answer(&request, "too late").await, 404, UNKNOWN_REQUEST).await;
    assert_real_error(app.cancel_request(&private).await, 404, UNKNOWN_REQUEST).await;

    let (request, private, _) = ask(&app, &[]).await;
    ok_json(app.answer(&request, "never read").await).await;
    assert_eq!(
        ok_json(app.cancel_request(&private).await).await["state"],
        "cancelled"
    );
    assert_real_error(app.reveal_answer(&private).await, 404, UNKNOWN_REQUEST).await;
    let dir = app.stop().await;
    assert_eq!(count_requests(&dir), (0, 2), "nothing sealed is left");
}

/// A key opens only what it was issued for: a request key is no private key,
/// and neither is a secret's key, nor the other way round.
#[tokio::test]
async fn keys_open_only_their_own_kind() {
    let app = spawn_app().await;
    let (request, private, _) = ask(&app, &[]).await;
    let secret = app.share(&[("secret", "s")]).await;
    let (secret_key, metadata_key) = (text(&secret, "secret_key"), text(&secret, "metadata_key"));

    for wrong in [&private, secret_key, metadata_key, &unissued_key()] {
        assert_real_error(app.open_request(wrong).await, 404, UNKNOWN_REQUEST).await;
        assert_real_error(app.answer(wrong, "x").await, 404, UNKNOWN_REQUEST).await;
    }
    for wrong in [&request, secret_key, metadata_key, "not-a-key"] {
        assert_real_error(app.private_view(wrong).await, 404, UNKNOWN_REQUEST).await;
        assert_real_error(app.reveal_answer(wrong).await, 404, UNKNOWN_REQUEST).await;
        assert_real_error(app.cancel_request(wrong).await, 404, UNKNOWN_REQUEST).await;
    }
    assert_unknown_secret(app.reveal(&request, None).await, &request).await;
    assert_unknown_secret(app.metadata(&private).await, &private).await;
    assert_eq!(
        ok_json(app.private_view(&private).await).await["state"],
        "waiting"
    );
}

#[tokio::test]
async fn notes_answers_and_ttls_are_held_to_their_limits() {
    let app = spawn_app_with(|s| s.limits.anonymous.max_secret_bytes = 32).await;
    let at_most = "n".repeat(500);
    ask(&app, &[("note", &at_most)]).await;
    let too_long = format!("{at_most}n");
    assert_real_error(
        app.post_form(REQUESTS, &[("note", &too_long)]).await,
        400,
        NOTE_TOO_LONG,
    )
    .await;
    assert_real_error(
        app.post_form(REQUESTS, &[("note", "a\u{1b}[31m red")])
            .await,
        400,
        "A note must be plain text",
    )
    .await;
    assert_real_error(
        app.post_form(REQUESTS, &[("ttl", "soon")]).await,
        400,
        "Invalid TTL",
    )
    .await;
    let clamped = app.ask(&[("ttl", "99999999999")]).await;
    assert_eq!(
        clamped["ttl"], 604_800,
        "clamped to the maximum, as for shares"
    );

    let (request, private, _) = ask(&app, &[]).await;
    assert_real_error(app.answer(&request, "").await, 400, NOTHING_TO_SHARE).await;
    assert_real_error(
        app.answer(&request, &"x".repeat(33)).await,
        413,
        "Secret value exceeds the maximum size of 32 bytes",
    )
    .await;
    assert_eq!(
        ok_json(app.private_view(&private).await).await["state"],
        "waiting",
        "refused answers change nothing"
    );
    ok_json(app.answer(&request, &"x".repeat(32)).await).await;
}

#[tokio::test]
async fn on_a_closed_instance_accounts_ask_and_anyone_answers() {
    let app = spawn_app_with(|s| s.anonymous_create = false).await;
    let alice = add_account(&app, "alice");
    assert_real_error(
        app.post_form(REQUESTS, &[]).await,
        401,
        "An account is required to create secrets on this server.",
    )
    .await;
    let asked = app.as_account(&alice).ask(&[("note", "for alice")]).await;
    assert_eq!(asked["custid"], "alice");

    ok_json(app.answer(text(&asked, "request_key"), "from anyone").await).await;
    let revealed = ok_json(app.reveal_answer(text(&asked, "private_key")).await).await;
    assert_eq!(revealed["value"], "from anyone");
}

#[tokio::test]
async fn asking_and_answering_count_as_creates_for_the_rate_limit() {
    let app = spawn_app_with(|s| {
        s.rate_limits.window_secs = WINDOW;
        s.rate_limits.create = 3;
    })
    .await;
    let (request, _, _) = ask(&app, &[]).await;
    app.share(&[("secret", "two")]).await;
    ok_json(app.answer(&request, "three").await).await;

    let refused = app.post_form(REQUESTS, &[]).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=WINDOW).contains(&retry_after));
    assert_real_error(refused, 429, RATE_LIMITED).await;
    let dir = app.stop().await;
    assert_eq!(
        count_requests(&dir),
        (1, 1),
        "the refused ask stored nothing"
    );
}

/// A request that nobody answered in time is closed, reads `expired`, and
/// is gone with its record a TTL later; the reaper removes it.
#[tokio::test]
async fn an_unanswered_request_expires_and_the_reaper_removes_it() {
    let app = spawn_app_with(|s| {
        s.limits.min_ttl = 1;
        s.reaper.interval_secs = 1;
    })
    .await;
    let (request, private, asked) = ask(&app, &[("ttl", "2"), ("note", "soon gone")]).await;
    let created = asked["created"].as_u64().unwrap();

    sleep_until_unix(created + 2, Duration::from_secs(4)).await;
    assert_real_error(app.open_request(&request).await, 404, UNKNOWN_REQUEST).await;
    assert_real_error(app.answer(&request, "late").await, 404, UNKNOWN_REQUEST).await;
    let expired = ok_json(app.private_view(&private).await).await;
    assert_eq!(expired["state"], "expired");
    assert_eq!(expired["expires_in"], Value::Null);
    assert_real_error(app.reveal_answer(&private).await, 404, UNKNOWN_REQUEST).await;

    sleep_until_unix(created + 4, Duration::from_secs(4)).await;
    assert_real_error(app.private_view(&private).await, 404, UNKNOWN_REQUEST).await;
    // The reaper runs every second: give it two rounds.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let dir = app.stop().await;
    assert_eq!(count_requests(&dir), (0, 0));
}

/// An answer that arrives late in a request's life can still be read for a
/// whole TTL after it came.
#[tokio::test]
async fn an_answer_can_be_read_for_a_ttl_after_it_came() {
    let app = spawn_app_with(|s| {
        s.limits.min_ttl = 1;
        s.reaper.interval_secs = 1;
    })
    .await;
    let (request, private, asked) = ask(&app, &[("ttl", "3")]).await;
    let created = asked["created"].as_u64().unwrap();
    sleep_until_unix(created + 2, Duration::from_secs(4)).await;
    ok_json(app.answer(&request, "just in time").await).await;

    sleep_until_unix(created + 4, Duration::from_secs(4)).await;
    let view = ok_json(app.private_view(&private).await).await;
    assert_eq!(view["state"], "answered", "past the request's own end");
    let revealed = ok_json(app.reveal_answer(&private).await).await;
    assert_eq!(revealed["value"], "just in time");
}

#[tokio::test]
async fn what_the_requests_api_does_not_have_is_not_found() {
    let app = spawn_app().await;
    let (request, _, _) = ask(&app, &[]).await;
    for call in [
        app.get(REQUESTS),
        app.request(reqwest::Method::DELETE, &format!("{REQUESTS}/{request}")),
        app.get(&format!("{REQUESTS}/{request}/answer")),
        app.post_form(&format!("{REQUESTS}/{request}/nothing"), &[]),
    ] {
        let response = call.await;
        assert_eq!(
            response.headers()["cache-control"].to_str().unwrap(),
            "no-store"
        );
        assert_real_error(response, 404, "Not Found").await;
    }
    assert_eq!(
        ok_json(app.open_request(&request).await).await["state"],
        "waiting"
    );
}
