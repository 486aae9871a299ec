//! Spec §3 share/create and §4 limits: the metadata object a share returns, TTL
//! defaults and clamping, secret size, passphrase policy, and what anonymous callers
//! may not set. Every refused request stores nothing.

use crate::common::*;
use serde_json::Value;

const WEEK: u64 = 604_800;

fn int(body: &Value, name: &str) -> u64 {
    body[name]
        .as_u64()
        .unwrap_or_else(|| panic!("`{name}` is a JSON integer in {body}"))
}

#[tokio::test]
async fn share_returns_a_new_metadata_object_with_integer_fields() {
    let app = spawn_app().await;
    let before = unix_now();

    let meta = app
        .share(&[("secret", "field rules"), ("ttl", "3600")])
        .await;

    let after = unix_now();
    assert_eq!(meta["custid"], "anon");
    assert_key_shape(&meta["metadata_key"]);
    assert_key_shape(&meta["secret_key"]);
    assert_ne!(meta["metadata_key"], meta["secret_key"]);
    assert_eq!(int(&meta, "ttl"), 3600);
    let metadata_ttl = int(&meta, "metadata_ttl");
    assert!(
        (2 * 3600 - 1..=2 * 3600).contains(&metadata_ttl),
        "metadata_ttl is 2 × ttl: {meta}"
    );
    let secret_ttl = int(&meta, "secret_ttl");
    assert!((3600 - 1..=3600).contains(&secret_ttl), "{meta}");
    assert_eq!(meta["state"], "new");
    let created = int(&meta, "created");
    assert!((before..=after).contains(&created), "{meta}");
    assert_eq!(int(&meta, "updated"), created);
    assert_eq!(meta["recipient"], Value::Array(vec![]));
    assert_eq!(meta["share_domain"], "");
    assert_eq!(meta["passphrase_required"], false);
    let object = meta.as_object().unwrap();
    assert!(
        !object.contains_key("value"),
        "no value outside generate: {meta}"
    );
    assert!(!object.contains_key("received"), "not received yet: {meta}");
}

#[tokio::test]
async fn create_is_an_alias_of_share() {
    let app = spawn_app().await;

    let meta = ok_json(
        app.post_form(
            "/api/v1/create",
            &[("secret", "via create"), ("ttl", "300")],
        )
        .await,
    )
    .await;

    assert_eq!(meta["state"], "new");
    assert_eq!(meta["ttl"], 300);
    assert_key_shape(&meta["secret_key"]);
    let revealed = ok_json(app.reveal(text(&meta, "secret_key"), None).await).await;
    assert_eq!(revealed["value"], "via create");
}

#[tokio::test]
async fn each_share_gets_fresh_keys() {
    let app = spawn_app().await;

    let a = app.share(&[("secret", "same")]).await;
    let b = app.share(&[("secret", "same")]).await;

    assert_ne!(a["secret_key"], b["secret_key"]);
    assert_ne!(a["metadata_key"], b["metadata_key"]);
}

#[tokio::test]
async fn a_passphrase_is_flagged_in_the_metadata() {
    let app = spawn_app().await;

    let meta = app
        .share(&[("secret", "guarded"), ("passphrase", "pass phrase")])
        .await;

    assert_eq!(meta["passphrase_required"], true);
    let meta = app
        .share(&[("secret", "unguarded"), ("passphrase", "")])
        .await;
    assert_eq!(meta["passphrase_required"], false, "empty means none");
}

#[tokio::test]
async fn a_missing_or_empty_ttl_is_the_default_of_seven_days() {
    let app = spawn_app().await;

    for form in [vec![("secret", "s")], vec![("secret", "s"), ("ttl", "")]] {
        let meta = app.share(&form).await;
        assert_eq!(int(&meta, "ttl"), WEEK, "{form:?}");
        assert!(int(&meta, "metadata_ttl") >= 2 * WEEK - 1, "{meta}");
    }
}

#[tokio::test]
async fn an_integer_ttl_outside_the_range_is_clamped() {
    let app = spawn_app().await;

    for (given, clamped) in [
        ("0", 60),
        ("1", 60),
        ("59", 60),
        ("-1", 60),
        ("-86400", 60),
        ("60", 60),
        ("61", 61),
        ("604800", WEEK),
        ("604801", WEEK),
        ("2592000", WEEK),
        ("99999999999999999999999", WEEK),
        ("-99999999999999999999999", 60),
    ] {
        let meta = app.share(&[("secret", "clamp me"), ("ttl", given)]).await;
        assert_eq!(int(&meta, "ttl"), clamped, "ttl={given}");
        let metadata_ttl = int(&meta, "metadata_ttl");
        assert!(
            (2 * clamped - 1..=2 * clamped).contains(&metadata_ttl),
            "ttl={given}: {meta}"
        );
    }
}

#[tokio::test]
async fn a_ttl_that_is_not_an_integer_is_invalid_and_stores_nothing() {
    let app = spawn_app().await;

    for ttl in ["3.5", "abc", "1e3", "12abc", "60.0", "0x10", "-"] {
        let resp = app
            .post_form("/api/v1/share", &[("secret", "s"), ("ttl", ttl)])
            .await;
        assert_error(resp, 400, "Invalid TTL").await;
    }
    let resp = app
        .post_json(
            "/api/v1/share",
            &serde_json::json!({"secret": "s", "ttl": 3.5}),
        )
        .await;
    assert_error(resp, 400, "Invalid TTL").await;

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_missing_or_empty_secret_is_nothing_to_share() {
    let app = spawn_app().await;

    for form in [
        vec![],
        vec![("ttl", "300")],
        vec![("secret", "")],
        vec![("secret", ""), ("passphrase", "pw")],
    ] {
        let resp = app.post_form("/api/v1/share", &form).await;
        assert_error(resp, 400, NOTHING_TO_SHARE).await;
    }

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_secret_of_exactly_the_limit_is_stored_whole() {
    let app = spawn_app().await;
    let ascii = "a".repeat(10_000);
    let two_byte = "é".repeat(5_000);

    for value in [&ascii, &two_byte] {
        let meta = app.share(&[("secret", value)]).await;
        let revealed = ok_json(app.reveal(text(&meta, "secret_key"), None).await).await;
        assert_eq!(text(&revealed, "value"), value.as_str(), "never truncated");
    }
}

#[tokio::test]
async fn a_secret_over_the_limit_in_bytes_is_too_large_and_stores_nothing() {
    let app = spawn_app().await;
    let message = "Secret value exceeds the maximum size of 10000 bytes";

    let ascii = "a".repeat(10_001);
    let two_byte = format!("{}a", "é".repeat(5_000));
    // 3,334 characters, but 10,002 bytes.
    let three_byte = "€".repeat(3_334);
    for value in [&ascii, &two_byte, &three_byte] {
        let resp = app.post_form("/api/v1/share", &[("secret", value)]).await;
        assert_error(resp, 413, message).await;
    }

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_passphrase_of_up_to_128_characters_is_accepted() {
    let app = spawn_app().await;
    let ascii = "p".repeat(128);
    // 128 characters, 256 bytes: the limit counts characters.
    let two_byte = "ü".repeat(128);

    for passphrase in [&ascii, &two_byte] {
        let meta = app
            .share(&[("secret", "long pass"), ("passphrase", passphrase)])
            .await;
        assert_eq!(meta["passphrase_required"], true);
        let revealed = ok_json(
            app.reveal(text(&meta, "secret_key"), Some(passphrase))
                .await,
        )
        .await;
        assert_eq!(revealed["value"], "long pass");
    }
}

#[tokio::test]
async fn a_passphrase_over_128_characters_is_refused_and_stores_nothing() {
    let app = spawn_app().await;

    for passphrase in ["p".repeat(129), "ü".repeat(129)] {
        let resp = app
            .post_form(
                "/api/v1/share",
                &[("secret", "s"), ("passphrase", &passphrase)],
            )
            .await;
        assert_error(resp, 400, PASSPHRASE_TOO_LONG).await;
    }

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_configured_minimum_passphrase_length_is_enforced() {
    let app = spawn_app_with(|s| s.limits.anonymous.passphrase_min_length = 8).await;

    for short in ["a", "seven77"] {
        let resp = app
            .post_form("/api/v1/share", &[("secret", "s"), ("passphrase", short)])
            .await;
        assert_error(resp, 400, "Passphrase must be at least 8 characters long").await;
    }
    let meta = app
        .share(&[("secret", "s"), ("passphrase", "eight888")])
        .await;
    assert_eq!(meta["passphrase_required"], true);
    let meta = app.share(&[("secret", "s")]).await;
    assert_eq!(
        meta["passphrase_required"], false,
        "no passphrase is still allowed"
    );

    assert_eq!(app.stop_and_count_records().await, (2, 2));
}

#[tokio::test]
async fn an_anonymous_recipient_needs_an_account_and_stores_nothing() {
    let app = spawn_app().await;

    for name in ["recipient", "recipient[]"] {
        let resp = app
            .post_form(
                "/api/v1/share",
                &[("secret", "s"), (name, "friend@example.com")],
            )
            .await;
        assert_error_in(resp, &[400, 401], ACCOUNT_REQUIRED_FOR_EMAIL).await;
    }

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn an_unknown_share_domain_is_refused_and_stores_nothing() {
    let app = spawn_app_with(|s| s.share_domains = vec!["secrets.example.org".into()]).await;

    let resp = app
        .post_form(
            "/api/v1/share",
            &[("secret", "s"), ("share_domain", "evil.example.com")],
        )
        .await;
    assert_error(resp, 400, "Unknown domain: evil.example.com").await;

    // The allow-list is for accounts: anonymous callers cannot pick a domain.
    let resp = app
        .post_form(
            "/api/v1/share",
            &[("secret", "s"), ("share_domain", "secrets.example.org")],
        )
        .await;
    assert_error(resp, 400, "Unknown domain: secrets.example.org").await;

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}
