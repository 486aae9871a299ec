//! Spec §3 metadata: the receipt through `/private/{key}` and `/metadata/{key}`, by
//! GET or POST; its state moves `new` → `received` or `burned`; reading it changes
//! nothing and it never carries the value.

use crate::common::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn receipt_via(app: &TestApp, method: Method, prefix: &str, mkey: &str) -> Value {
    ok_json(
        app.request(method, &format!("/api/v1/{prefix}/{mkey}"))
            .await,
    )
    .await
}

fn assert_no_value(receipt: &Value, value: &str) {
    assert!(receipt.get("value").is_none(), "{receipt}");
    assert!(!receipt.to_string().contains(value), "{receipt}");
}

#[tokio::test]
async fn a_new_receipt_reads_the_same_by_get_and_post_on_both_paths() {
    let app = spawn_app().await;
    let meta = app
        .share(&[("secret", "RECEIPT-VALUE"), ("ttl", "3600")])
        .await;
    let mkey = text(&meta, "metadata_key");

    for method in [Method::GET, Method::POST] {
        for prefix in ["private", "metadata"] {
            let receipt = receipt_via(&app, method.clone(), prefix, mkey).await;
            assert_eq!(receipt["state"], "new", "{method} {prefix}");
            assert_eq!(receipt["custid"], "anon");
            assert_eq!(receipt["metadata_key"], mkey);
            assert_eq!(receipt["secret_key"], meta["secret_key"]);
            assert_eq!(receipt["ttl"], 3600);
            assert!(receipt["metadata_ttl"].as_u64().unwrap() <= 7200);
            assert!(receipt["metadata_ttl"].as_u64().unwrap() > 7100);
            assert!(receipt["secret_ttl"].as_u64().unwrap() <= 3600);
            assert!(receipt["secret_ttl"].as_u64().unwrap() > 3500);
            assert_eq!(receipt["created"], meta["created"]);
            assert!(receipt["updated"].is_u64());
            assert_eq!(receipt["recipient"], json!([]));
            assert_eq!(receipt["share_domain"], "");
            assert_eq!(receipt["passphrase_required"], false);
            assert!(receipt.get("received").is_none(), "{receipt}");
            assert_no_value(&receipt, "RECEIPT-VALUE");
        }
    }
}

#[tokio::test]
async fn reading_the_receipt_changes_nothing() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "untouched")]).await;
    let mkey = text(&meta, "metadata_key");

    for _ in 0..3 {
        let receipt = ok_json(app.metadata(mkey).await).await;
        assert_eq!(receipt["state"], "new");
        assert_eq!(receipt["updated"], meta["updated"]);
        assert_eq!(receipt["secret_key"], meta["secret_key"]);
    }

    let body = ok_json(app.reveal(text(&meta, "secret_key"), None).await).await;
    assert_eq!(body["value"], "untouched");
}

#[tokio::test]
async fn a_passphrase_secret_receipt_needs_no_passphrase() {
    let app = spawn_app().await;
    let meta = app
        .share(&[("secret", "s"), ("passphrase", "pass word")])
        .await;

    let receipt = ok_json(app.metadata(text(&meta, "metadata_key")).await).await;

    assert_eq!(receipt["passphrase_required"], true);
    assert_eq!(receipt["state"], "new");
}

#[tokio::test]
async fn a_revealed_secret_reads_received_without_secret_key_or_ttl() {
    let app = spawn_app().await;
    let meta = app
        .share(&[("secret", "REVEALED-VALUE"), ("ttl", "600")])
        .await;
    let mkey = text(&meta, "metadata_key");
    let before = unix_now();

    ok_json(app.reveal(text(&meta, "secret_key"), None).await).await;

    let after = unix_now();
    for prefix in ["private", "metadata"] {
        let receipt = receipt_via(&app, Method::GET, prefix, mkey).await;
        let object = receipt.as_object().unwrap();
        assert_eq!(receipt["state"], "received");
        let received = receipt["received"]
            .as_u64()
            .unwrap_or_else(|| panic!("`received` is an integer: {receipt}"));
        assert!((before..=after).contains(&received), "{receipt}");
        assert!(
            !object.contains_key("secret_key"),
            "absent once received: {receipt}"
        );
        assert!(
            !object.contains_key("secret_ttl"),
            "absent once received: {receipt}"
        );
        assert_eq!(receipt["metadata_key"], mkey);
        assert_eq!(receipt["ttl"], 600);
        assert!(receipt["metadata_ttl"].is_u64());
        assert!(receipt["updated"].as_u64().unwrap() >= receipt["created"].as_u64().unwrap());
        assert_no_value(&receipt, "REVEALED-VALUE");
    }
}

#[tokio::test]
async fn a_burned_secret_reads_burned_with_empty_key_and_null_ttl() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "BURNED-VALUE")]).await;
    let mkey = text(&meta, "metadata_key");

    ok_json(app.burn(mkey, None).await).await;

    for method in [Method::GET, Method::POST] {
        for prefix in ["private", "metadata"] {
            let receipt = receipt_via(&app, method.clone(), prefix, mkey).await;
            let object = receipt.as_object().unwrap();
            assert_eq!(receipt["state"], "burned");
            assert_eq!(receipt["secret_key"], "");
            assert!(object.contains_key("secret_ttl"), "{receipt}");
            assert_eq!(receipt["secret_ttl"], Value::Null);
            assert!(!object.contains_key("received"), "{receipt}");
            assert_no_value(&receipt, "BURNED-VALUE");
        }
    }
}

#[tokio::test]
async fn an_unknown_metadata_key_is_unknown_secret_echoing_it() {
    let app = spawn_app().await;
    let mkey = "0123456789abcdefghijklmnopqrstu";

    for method in [Method::GET, Method::POST] {
        for prefix in ["private", "metadata"] {
            let resp = app
                .request(method.clone(), &format!("/api/v1/{prefix}/{mkey}"))
                .await;
            let body = assert_error(resp, 404, "Unknown secret").await;
            assert_eq!(
                body,
                json!({"message": "Unknown secret", "secret_key": mkey})
            );
        }
    }
}

#[tokio::test]
async fn the_secret_key_does_not_open_the_receipt() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "s")]).await;
    let key = text(&meta, "secret_key");

    let body = assert_error(app.metadata(key).await, 404, "Unknown secret").await;

    assert_eq!(body["secret_key"], key);
}
