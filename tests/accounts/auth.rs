//! Spec §1 auth: HTTP Basic `NAME:TOKEN`. No header is the anonymous user, and so
//! is `Basic Og==`; any other header must be valid credentials of a known account,
//! or the request is `Not authorized` — never served as anonymous, on any route.

use crate::common::*;
use serde_json::{Value, json};

/// Every v1 route, as a request `app`'s caller could make, for the given keys.
fn every_route(app: &Client, secret_key: &str, metadata_key: &str) -> Vec<(String, Call)> {
    let mut routes = vec![
        ("GET status".into(), app.get(STATUS)),
        ("GET authcheck".into(), app.get(AUTHCHECK)),
        (
            "POST share".into(),
            app.post_form(SHARE, &[("secret", "s")]),
        ),
        (
            "POST create".into(),
            app.post_form("/api/v1/create", &[("secret", "s")]),
        ),
        ("POST generate".into(), app.post_form(GENERATE, &[])),
        ("POST secret".into(), app.reveal(secret_key, None)),
        ("GET private".into(), app.metadata(metadata_key)),
        (
            "POST metadata".into(),
            app.post_form(&format!("/api/v1/metadata/{metadata_key}"), &[]),
        ),
        ("POST burn".into(), app.burn(metadata_key, None)),
    ];
    for path in RECENT {
        routes.push((format!("GET {path}"), app.get(path)));
    }
    routes
}

/// Sends `authorization` on every route and expects `Not authorized` each time;
/// then checks that nothing was created, revealed or burned.
async fn assert_refused_everywhere(app: &TestApp, authorization: &[u8], what: &str) {
    let meta = app.share(&[("secret", "still here")]).await;
    let (secret_key, metadata_key) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));

    let caller = app.authorization(authorization);
    for (route, request) in every_route(&caller, secret_key, metadata_key) {
        let resp = request.await;
        let body = assert_error_status(resp, 401).await;
        assert_eq!(
            body["message"], "Not authorized",
            "{what} on {route}: {body}"
        );
    }

    let receipt = ok_json(app.metadata(metadata_key).await).await;
    assert_eq!(
        receipt["state"], "new",
        "{what}: nothing was revealed or burned"
    );
    assert_eq!(app.reveal_value(secret_key, None).await, "still here");
}

#[tokio::test]
async fn no_authorization_header_is_the_anonymous_user() {
    let app = spawn_app().await;

    let status = ok_json(app.get(STATUS).await).await;
    let meta = app.share(&[("secret", "anonymous")]).await;
    let generated = ok_json(app.post_form(GENERATE, &[]).await).await;

    assert_eq!(status, json!({"status": "nominal", "locale": "en"}));
    assert_eq!(meta["custid"], "anon");
    assert_eq!(generated["custid"], "anon");
    assert_not_authorized(app.get(AUTHCHECK).await).await;
}

#[tokio::test]
async fn valid_basic_credentials_authenticate_the_account() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice@example.com");

    let check = ok_json(app.as_account(&alice).get(AUTHCHECK).await).await;
    let status = ok_json(app.as_account(&alice).get(STATUS).await).await;
    let meta = app.as_account(&alice).share(&[("secret", "mine")]).await;

    assert_eq!(check, json!({"status": "nominal", "locale": "en"}));
    assert_eq!(status, check, "authcheck has the body of status");
    assert_eq!(meta["custid"], "alice@example.com");
}

#[tokio::test]
async fn a_wrong_token_is_not_authorized_on_every_route_never_anonymous() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let wrong = format!("alice:{}", "x".repeat(alice.token.len()));
    let credentials = format!("Basic {}", base64(wrong.as_bytes()));

    assert_refused_everywhere(&app, credentials.as_bytes(), "a wrong token").await;

    assert_eq!(
        app.stop_and_count_records().await,
        (0, 1),
        "only the test's own secret was stored, and it was revealed"
    );
}

#[tokio::test]
async fn an_unknown_account_is_not_authorized_even_with_another_accounts_token() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let credentials = format!(
        "Basic {}",
        base64(format!("mallory:{}", alice.token).as_bytes())
    );

    assert_refused_everywhere(&app, credentials.as_bytes(), "an unknown account").await;
}

#[tokio::test]
async fn malformed_authorization_headers_are_not_authorized() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let bearer = format!("Bearer {}", alice.token);
    let no_colon = format!("Basic {}", base64(b"alice"));
    let empty_user = format!("Basic {}", base64(format!(":{}", alice.token).as_bytes()));
    let empty_token = format!("Basic {}", base64(b"alice:"));
    let cases: [(&str, &[u8]); 9] = [
        ("not base64", b"Basic !!!not-base64!!!"),
        ("no colon", no_colon.as_bytes()),
        ("Bearer scheme", bearer.as_bytes()),
        ("empty header", b""),
        ("scheme alone", b"Basic"),
        ("empty user, a token", empty_user.as_bytes()),
        ("a known user, empty token", empty_token.as_bytes()),
        ("not UTF-8", b"Basic \xff\xfe"),
        ("unpadded Og==", b"Basic Og"),
    ];

    for (what, header) in cases {
        let share = app
            .authorization(header)
            .post_form(SHARE, &[("secret", what)])
            .await;
        assert_error(share, 401, "Not authorized").await;
        let status = app.authorization(header).get(STATUS).await;
        assert_error(status, 401, "Not authorized").await;
    }

    assert_eq!(
        app.stop_and_count_records().await,
        (0, 0),
        "no refused share stored anything"
    );
}

#[tokio::test]
async fn basic_with_an_empty_user_and_token_is_the_anonymous_user() {
    let app = spawn_app().await;
    add_account(&app, "alice");
    let og = b"Basic Og==";

    let status = ok_json(app.authorization(og).get(STATUS).await).await;
    let meta = ok_json(
        app.authorization(og)
            .post_form(SHARE, &[("secret", "og")])
            .await,
    )
    .await;
    let revealed = app
        .authorization(og)
        .reveal_value(text(&meta, "secret_key"), None)
        .await;

    assert_eq!(status["status"], "nominal");
    assert_eq!(meta["custid"], "anon");
    assert_eq!(revealed, "og");
    assert_not_authorized(app.authorization(og).get(AUTHCHECK).await).await;
    for path in RECENT {
        assert_not_authorized(app.authorization(og).get(path).await).await;
    }
}

#[tokio::test]
async fn custid_is_the_account_name_in_every_object_an_account_creates() {
    let app = spawn_app().await;
    let alice = add_account(&app, "ops+otsd@example.com");
    let name = Value::from(alice.name.as_str());

    let shared = app
        .as_account(&alice)
        .share(&[("secret", "by alice")])
        .await;
    let generated = ok_json(app.as_account(&alice).post_form(GENERATE, &[]).await).await;
    let anonymous_read = ok_json(app.metadata(text(&shared, "metadata_key")).await).await;
    let own_read = ok_json(
        app.as_account(&alice)
            .metadata(text(&shared, "metadata_key"))
            .await,
    )
    .await;
    let burned = ok_json(
        app.as_account(&alice)
            .burn(text(&generated, "metadata_key"), None)
            .await,
    )
    .await;
    let recent = ok_json(app.as_account(&alice).get(RECENT[0]).await).await;

    assert_eq!(shared["custid"], name, "share");
    assert_eq!(generated["custid"], name, "generate");
    assert_eq!(
        anonymous_read["custid"], name,
        "metadata read without an account"
    );
    assert_eq!(own_read["custid"], name, "metadata read by the account");
    assert_eq!(burned["state"]["custid"], name, "burn");
    let listed = recent.as_array().expect("recent is an array");
    assert_eq!(listed.len(), 2, "{recent}");
    assert!(listed.iter().all(|r| r["custid"] == name), "{recent}");
}

#[tokio::test]
async fn a_replaced_token_stops_working_at_once_and_the_new_one_works() {
    let app = spawn_app().await;
    let old = add_account(&app, "alice");
    ok_json(app.as_account(&old).get(AUTHCHECK).await).await;

    let new = replace_token(&app, &old);

    assert_ne!(new.token, old.token);
    assert_not_authorized(app.as_account(&old).get(AUTHCHECK).await).await;
    assert_not_authorized(
        app.as_account(&old)
            .post_form(SHARE, &[("secret", "s")])
            .await,
    )
    .await;
    ok_json(app.as_account(&new).get(AUTHCHECK).await).await;
}

#[tokio::test]
async fn a_removed_accounts_token_stops_working_but_its_secrets_stay_readable() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let meta = app
        .as_account(&alice)
        .share(&[("secret", "outlives the account")])
        .await;

    remove_account(&app, &alice);

    assert_not_authorized(app.as_account(&alice).get(AUTHCHECK).await).await;
    assert_not_authorized(app.as_account(&alice).get(STATUS).await).await;
    assert_eq!(
        app.reveal_value(text(&meta, "secret_key"), None).await,
        "outlives the account"
    );
}

/// The scheme name is case-insensitive (RFC 9110 §11.1): `basic` and `BASIC`
/// authenticate like `Basic`, and a wrong token in any case is still refused.
#[tokio::test]
async fn the_basic_scheme_name_is_case_insensitive() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let good = base64(format!("alice:{}", alice.token).as_bytes());
    let bad = base64(b"alice:not-the-token");
    for scheme in ["basic", "BASIC", "bAsIc"] {
        let check = app
            .authorization(format!("{scheme} {good}").as_bytes())
            .get(AUTHCHECK)
            .await;
        assert_eq!(ok_json(check).await["status"], "nominal", "{scheme}");
        let wrong = app
            .authorization(format!("{scheme} {bad}").as_bytes())
            .get(AUTHCHECK)
            .await;
        assert_not_authorized(wrong).await;
    }
}

#[test]
fn base64_matches_rfc_4648_examples() {
    assert_eq!(base64(b":"), "Og==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b""), "");
}
