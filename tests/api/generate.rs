//! Spec §3 generate: a random password from four character classes without
//! look-alikes, its length clamped into 4–128, returned once in `value` and stored
//! like any shared secret.

use crate::common::*;
use serde_json::Value;

const LOOKALIKES: [char; 7] = ['i', 'l', 'o', '1', 'I', 'O', '0'];

async fn generate(app: &TestApp, form: &[(&str, &str)]) -> Value {
    ok_json(app.post_form("/api/v1/generate", form).await).await
}

/// Asserts the spec's alphabet rules for a generated value of `length` characters.
fn assert_password(value: &str, length: usize) {
    assert_eq!(value.chars().count(), length, "{value:?}");
    assert!(
        value.chars().any(|c| c.is_ascii_lowercase()),
        "lowercase in {value:?}"
    );
    assert!(
        value.chars().any(|c| c.is_ascii_uppercase()),
        "uppercase in {value:?}"
    );
    assert!(
        value.chars().any(|c| c.is_ascii_digit()),
        "digit in {value:?}"
    );
    assert!(
        value.chars().any(|c| c.is_ascii_punctuation()),
        "symbol in {value:?}"
    );
    assert!(
        value.chars().all(|c| c.is_ascii_graphic()),
        "printable ASCII only: {value:?}"
    );
    assert!(
        !value.contains(LOOKALIKES),
        "no look-alikes (i l o 1 I O 0) in {value:?}"
    );
}

#[tokio::test]
async fn generate_returns_the_metadata_object_with_the_value() {
    let app = spawn_app().await;

    let meta = generate(&app, &[("ttl", "3600")]).await;

    assert_eq!(meta["custid"], "anon");
    assert_key_shape(&meta["metadata_key"]);
    assert_key_shape(&meta["secret_key"]);
    assert_eq!(meta["state"], "new");
    assert_eq!(meta["ttl"], 3600);
    let metadata_ttl = meta["metadata_ttl"].as_u64().expect("integer metadata_ttl");
    assert!((7199..=7200).contains(&metadata_ttl), "{meta}");
    assert!(meta["secret_ttl"].is_u64(), "{meta}");
    assert!(
        meta["created"].is_u64() && meta["updated"].is_u64(),
        "{meta}"
    );
    assert_eq!(meta["recipient"], Value::Array(vec![]));
    assert_eq!(meta["share_domain"], "");
    assert_eq!(meta["passphrase_required"], false);
    assert_password(text(&meta, "value"), 12);
}

#[tokio::test]
async fn a_missing_or_empty_length_is_twelve_and_ttl_defaults_to_a_week() {
    let app = spawn_app().await;

    for form in [vec![], vec![("length", "")]] {
        let meta = generate(&app, &form).await;
        assert_password(text(&meta, "value"), 12);
        assert_eq!(meta["ttl"], 604_800);
    }
}

#[tokio::test]
async fn every_generated_value_has_all_four_classes_and_no_lookalikes() {
    let app = spawn_app().await;

    // At length 4 each class must appear exactly once: the strictest case.
    for _ in 0..25 {
        let meta = generate(&app, &[("length", "4")]).await;
        assert_password(text(&meta, "value"), 4);
    }
    for _ in 0..5 {
        let meta = generate(&app, &[("length", "128")]).await;
        assert_password(text(&meta, "value"), 128);
    }
}

#[tokio::test]
async fn generated_values_differ() {
    let app = spawn_app().await;

    let a = generate(&app, &[("length", "32")]).await;
    let b = generate(&app, &[("length", "32")]).await;

    assert_ne!(a["value"], b["value"]);
}

#[tokio::test]
async fn an_integer_length_outside_four_to_128_is_clamped() {
    let app = spawn_app().await;

    for (given, length) in [
        ("2", 4),
        ("0", 4),
        ("-7", 4),
        ("4", 4),
        ("5", 5),
        ("64", 64),
        ("128", 128),
        ("129", 128),
        ("500", 128),
        ("99999999999999999999999", 128),
    ] {
        let meta = generate(&app, &[("length", given)]).await;
        assert_password(text(&meta, "value"), length);
    }
}

#[tokio::test]
async fn a_length_that_is_not_an_integer_is_invalid_and_stores_nothing() {
    let app = spawn_app().await;

    for length in ["abc", "3.5", "12chars"] {
        let resp = app
            .post_form("/api/v1/generate", &[("length", length)])
            .await;
        assert_error(resp, 400, "Invalid length").await;
    }
    let resp = app.post_form("/api/v1/generate", &[("ttl", "abc")]).await;
    assert_error(resp, 400, "Invalid TTL").await;

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn the_generated_value_is_revealed_once_through_the_secret_route() {
    let app = spawn_app().await;
    let meta = generate(&app, &[]).await;
    let key = text(&meta, "secret_key");

    let revealed = ok_json(app.reveal(key, None).await).await;
    assert_eq!(revealed["value"], meta["value"]);
    assert_eq!(revealed["secret_key"], key);

    let again = assert_error(app.reveal(key, None).await, 404, "Unknown secret").await;
    assert_eq!(again["secret_key"], key);
}

#[tokio::test]
async fn a_generated_secret_can_have_a_passphrase() {
    let app = spawn_app().await;
    let meta = generate(&app, &[("passphrase", "gen phrase")]).await;
    let key = text(&meta, "secret_key");
    assert_eq!(meta["passphrase_required"], true);

    assert_error(app.reveal(key, None).await, 404, "Unknown secret").await;
    let revealed = ok_json(app.reveal(key, Some("gen phrase")).await).await;
    assert_eq!(revealed["value"], meta["value"]);
}

#[tokio::test]
async fn the_receipt_of_a_generated_secret_does_not_show_the_value() {
    let app = spawn_app().await;
    let meta = generate(&app, &[]).await;

    let receipt = ok_json(app.metadata(text(&meta, "metadata_key")).await).await;

    assert_eq!(receipt["secret_key"], meta["secret_key"]);
    assert!(receipt.get("value").is_none(), "{receipt}");
    let raw = receipt.to_string();
    assert!(!raw.contains(text(&meta, "value")), "{raw}");
}

#[tokio::test]
async fn generate_applies_the_share_rules_to_its_other_params() {
    let app = spawn_app().await;

    let resp = app
        .post_form("/api/v1/generate", &[("recipient", "friend@example.com")])
        .await;
    assert_error_in(resp, &[400, 401], ACCOUNT_REQUIRED_FOR_EMAIL).await;
    let resp = app
        .post_form("/api/v1/generate", &[("share_domain", "evil.example.com")])
        .await;
    assert_error(resp, 400, "Unknown domain: evil.example.com").await;
    let long = "p".repeat(129);
    let resp = app
        .post_form("/api/v1/generate", &[("passphrase", &long)])
        .await;
    assert_error(resp, 400, PASSPHRASE_TOO_LONG).await;
    let meta = generate(&app, &[("ttl", "0")]).await;
    assert_eq!(meta["ttl"], 60);

    assert_eq!(app.stop_and_count_records().await, (1, 1));
}
