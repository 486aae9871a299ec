//! API v2 §1, §3, §5: what a create reads (JSON nested under `secret`,
//! bracketed forms, the query string under the body), each refusal with its
//! status, `error_type`, sentence and `field` (and nothing stored), and the
//! TTL: 7 days when missing, clamped into the caller's range.

use serde_json::{Value, json};

use crate::common::*;

const DAY: u64 = 86_400;

/// The creation TTL of a create answer, as the receipt and the secret say it.
fn ttl_of(created: &Value) -> u64 {
    let receipt = created["record"]["receipt"]["secret_ttl"].as_u64();
    assert_eq!(receipt, created["record"]["secret"]["secret_ttl"].as_u64());
    receipt.unwrap_or_else(|| panic!("an integer TTL in {created}"))
}

#[tokio::test]
async fn a_bracketed_form_body_nests_like_json() {
    let app = spawn_app().await;

    let created = v2_ok(
        app.post_form(
            V2_CONCEAL,
            &[
                ("secret[secret]", "from a form"),
                ("secret[ttl]", "3600"),
                ("secret[passphrase]", "open sesame"),
            ],
        )
        .await,
    )
    .await;

    assert_eq!(ttl_of(&created), 3600);
    assert_eq!(created["record"]["secret"]["has_passphrase"], true);
    let (key, _) = v2_keys(&created);
    let revealed = v2_ok(app.reveal_v2(&key, Some("open sesame")).await).await;
    assert_eq!(revealed["record"]["secret_value"], "from a form");

    // `secret[recipient][]` is read as the recipient: refused to an
    // anonymous caller, and nothing stored.
    let resp = app
        .post_form(
            V2_CONCEAL,
            &[
                ("secret[secret]", "s"),
                ("secret[recipient][]", "b@example.com"),
            ],
        )
        .await;
    v2_error(
        resp,
        401,
        "Unauthorized",
        ACCOUNT_REQUIRED_FOR_EMAIL,
        Some("recipient"),
    )
    .await;
    // The one secret made, and revealed.
    assert_eq!(app.stop_and_count_records().await, (0, 1));
}

#[tokio::test]
async fn the_query_string_is_read_and_the_body_wins_over_it() {
    let app = spawn_app().await;

    let from_query = v2_ok(
        app.post_query(
            V2_CONCEAL,
            &[("secret[secret]", "from the query"), ("secret[ttl]", "600")],
        )
        .await,
    )
    .await;
    assert_eq!(ttl_of(&from_query), 600);
    let (key, _) = v2_keys(&from_query);
    assert_eq!(app.reveal_value(&key, None).await, "from the query");

    let path = with_query(
        V2_CONCEAL,
        &[("secret[secret]", "from the query"), ("secret[ttl]", "600")],
    );
    let both = v2_ok(
        app.post_json(
            &path,
            &json!({"secret": {"secret": "from the body", "ttl": 120}}),
        )
        .await,
    )
    .await;
    assert_eq!(ttl_of(&both), 120);
    let (key, _) = v2_keys(&both);
    assert_eq!(app.reveal_value(&key, None).await, "from the body");
}

#[tokio::test]
async fn a_secret_that_is_not_an_object_is_an_incorrect_payload_format() {
    let app = spawn_app().await;

    for body in [
        json!({"secret": "v1 style"}),
        json!({"secret": 5}),
        json!({"secret": ["s"]}),
        json!({"secret": true}),
    ] {
        let resp = app.post_json(V2_CONCEAL, &body).await;
        v2_error(
            resp,
            422,
            "FormError",
            "Incorrect payload format",
            Some("secret"),
        )
        .await;
    }
    let resp = app.post_form(V2_CONCEAL, &[("secret", "v1 style")]).await;
    v2_error(
        resp,
        422,
        "FormError",
        "Incorrect payload format",
        Some("secret"),
    )
    .await;

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn malformed_json_is_a_400_form_error() {
    let app = spawn_app().await;

    for path in [V2_CONCEAL, V2_GENERATE] {
        for raw in [
            r#"{"secret": {"secret": "cut"#,
            "{",
            "not json at all",
            r#"{"a":1}}"#,
        ] {
            let resp = app.post_raw(path, "application/json", raw).await;
            let body = v2_answer(resp).await;
            assert_eq!(
                body,
                (
                    400,
                    json!({"error": "Malformed JSON body", "error_type": "FormError"})
                ),
                "{path} {raw:?}"
            );
        }
    }

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn each_refusal_of_a_create_answers_422_with_its_sentence_and_stores_nothing() {
    let app = spawn_app_with(|s| {
        // A relay that is never reached: the address is refused first.
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = free_port();
        s.smtp.security = otsd::mail::SmtpSecurity::Plaintext;
    })
    .await;
    let alice = add_account(&app, "alice");
    let long_passphrase = "p".repeat(129);
    let too_large = "x".repeat(100_001);
    let cases: [(&str, Value, &str, &str, &str); 14] = [
        (V2_CONCEAL, json!({}), "missing", NOTHING_TO_SHARE, "secret"),
        (
            V2_CONCEAL,
            json!({"secret": {}}),
            "missing",
            NOTHING_TO_SHARE,
            "secret",
        ),
        (
            V2_CONCEAL,
            json!({"secret": {"secret": ""}}),
            "missing",
            NOTHING_TO_SHARE,
            "secret",
        ),
        (
            V2_CONCEAL,
            json!({"secret": {"secret": too_large}}),
            "FormError",
            "Secret content must be no more than 100000 bytes long",
            "secret",
        ),
        (
            V2_CONCEAL,
            json!({"secret": {"secret": "s", "passphrase": long_passphrase}}),
            "FormError",
            PASSPHRASE_TOO_LONG,
            "passphrase",
        ),
        (
            V2_CONCEAL,
            json!({"secret": {"secret": "s", "ttl": "soon"}}),
            "FormError",
            "Invalid TTL",
            "ttl",
        ),
        (
            V2_GENERATE,
            json!({"secret": {"ttl": 3600.5}}),
            "FormError",
            "Invalid TTL",
            "ttl",
        ),
        (
            V2_CONCEAL,
            json!({"secret": {"secret": "s", "share_domain": "unknown.example"}}),
            "FormError",
            "Unknown domain: unknown.example",
            "share_domain",
        ),
        (
            V2_GENERATE,
            json!({"secret": {"length": 129}}),
            "FormError",
            "Generated password length must be no more than 128 characters",
            "length",
        ),
        (
            V2_GENERATE,
            json!({"secret": {"length": 3}}),
            "FormError",
            "Generated password length must be at least 4 characters",
            "length",
        ),
        (
            V2_GENERATE,
            json!({"secret": {"length": "twelve"}}),
            "FormError",
            "Invalid length",
            "length",
        ),
        (
            V2_GENERATE,
            json!({"secret": {"length": 12.5}}),
            "FormError",
            "Invalid length",
            "length",
        ),
        (
            V2_CONCEAL,
            json!({"secret": {"secret": "s", "recipient": "not-an-address"}}),
            "invalid_email",
            "Undeliverable email address: not-an-address",
            "recipient",
        ),
        (
            V2_GENERATE,
            json!({"secret": {"recipient": ["", "not-an-address"]}}),
            "invalid_email",
            "Undeliverable email address: not-an-address",
            "recipient",
        ),
    ];

    for (path, body, kind, sentence, field) in cases {
        let resp = app.as_account(&alice).post_json(path, &body).await;
        v2_error(resp, 422, kind, sentence, Some(field)).await;
        if kind != "invalid_email" {
            // The same for an anonymous caller (whose secrets are smaller).
            let sentence = sentence.replace("100000 bytes", "10000 bytes");
            let resp = app.post_json(path, &body).await;
            v2_error(resp, 422, kind, &sentence, Some(field)).await;
        }
    }

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_recipient_without_email_configured_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");

    let resp = app
        .as_account(&alice)
        .post_json(
            V2_CONCEAL,
            &json!({"secret": {"secret": "s", "recipient": "bob@example.com"}}),
        )
        .await;

    v2_error(
        resp,
        422,
        "FormError",
        "Email is not configured on this server",
        Some("recipient"),
    )
    .await;
    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_missing_ttl_is_seven_days_and_any_other_is_clamped_into_the_callers_range() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let owner = app.as_account(&alice);
    let anonymous: &Client = &app;
    let cases: [(&Client, Value, u64); 9] = [
        (anonymous, json!(null), 7 * DAY),
        (anonymous, json!(1), 60),
        (anonymous, json!(0), 60),
        (anonymous, json!("3600"), 3600),
        (anonymous, json!(1_000_000_000_u64), 7 * DAY),
        (anonymous, json!(30 * DAY), 7 * DAY),
        (&owner, json!(null), 7 * DAY),
        (&owner, json!(1_000_000_000_u64), 30 * DAY),
        (&owner, json!(10 * DAY), 10 * DAY),
    ];

    for (client, ttl, expected) in cases {
        let mut secret = json!({"secret": "s"});
        if !ttl.is_null() {
            secret["ttl"] = ttl.clone();
        }
        let created = client.conceal_v2(secret.clone()).await;
        assert_eq!(ttl_of(&created), expected, "conceal ttl {ttl}");
        secret.as_object_mut().unwrap().remove("secret");
        let generated = client.generate_v2(secret).await;
        assert_eq!(ttl_of(&generated), expected, "generate ttl {ttl}");

        let (key, _) = v2_keys(&created);
        let status = v2_ok(client.v2_get(&format!("/secret/{key}/status")).await).await;
        let left = status["details"]["current_expiration"]
            .as_u64()
            .expect("an integer");
        assert!(
            left <= expected && left + 60 >= expected,
            "{left} s left of {expected}"
        );
    }
}
