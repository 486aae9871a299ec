//! Spec §3 burn: the creator destroys an unread secret through its metadata key;
//! the answer holds the whole burned receipt in `state` and the secret's short key.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn burn_answers_with_the_burned_receipt_and_the_short_key() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "BURN-ME"), ("ttl", "900")]).await;
    let (key, mkey) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));

    let body = ok_json(app.burn(mkey, None).await).await;

    assert_eq!(body["secret_shortkey"], &key[..8]);
    let state = body["state"]
        .as_object()
        .expect("`state` holds the receipt");
    assert_eq!(state["state"], "burned");
    assert_eq!(state["metadata_key"], mkey);
    assert_eq!(state["custid"], "anon");
    assert_eq!(state["secret_key"], "");
    assert_eq!(state.get("secret_ttl"), Some(&serde_json::Value::Null));
    assert_eq!(state["ttl"], 900);
    assert!(state["metadata_ttl"].is_u64());
    assert!(state["created"].is_u64() && state["updated"].is_u64());
    assert_eq!(state["recipient"], json!([]));
    assert_eq!(state["share_domain"], "");
    assert!(
        !state.contains_key("passphrase_required"),
        "absent in the burn response: {body}"
    );
    assert!(!state.contains_key("value"), "{body}");
    assert!(!body.to_string().contains("BURN-ME"), "{body}");
}

#[tokio::test]
async fn a_burned_secret_cannot_be_revealed() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "gone")]).await;
    let key = text(&meta, "secret_key");

    ok_json(app.burn(text(&meta, "metadata_key"), None).await).await;

    let body = assert_error(app.reveal(key, None).await, 404, "Unknown secret").await;
    assert_eq!(body["secret_key"], key);
}

#[tokio::test]
async fn burn_works_through_the_metadata_alias() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "alias")]).await;
    let mkey = text(&meta, "metadata_key");

    let resp = app
        .post_form(&format!("/api/v1/metadata/{mkey}/burn"), &[])
        .await;

    let body = ok_json(resp).await;
    assert_eq!(body["state"]["state"], "burned");
    let receipt = ok_json(app.metadata(mkey).await).await;
    assert_eq!(receipt["state"], "burned");
    assert_error(
        app.reveal(text(&meta, "secret_key"), None).await,
        404,
        "Unknown secret",
    )
    .await;
}

#[tokio::test]
async fn burning_twice_is_unknown_secret() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "once")]).await;
    let mkey = text(&meta, "metadata_key");
    ok_json(app.burn(mkey, None).await).await;

    for path in [
        format!("/api/v1/private/{mkey}/burn"),
        format!("/api/v1/metadata/{mkey}/burn"),
    ] {
        let body = assert_error(app.post_form(&path, &[]).await, 404, "Unknown secret").await;
        assert_eq!(body["secret_key"], mkey);
    }
    let receipt = ok_json(app.metadata(mkey).await).await;
    assert_eq!(receipt["state"], "burned");
}

#[tokio::test]
async fn burning_after_reveal_is_unknown_secret_and_keeps_received() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "read first")]).await;
    let mkey = text(&meta, "metadata_key");
    ok_json(app.reveal(text(&meta, "secret_key"), None).await).await;

    let body = assert_error(app.burn(mkey, None).await, 404, "Unknown secret").await;

    assert_eq!(body["secret_key"], mkey);
    let receipt = ok_json(app.metadata(mkey).await).await;
    assert_eq!(receipt["state"], "received");
}

#[tokio::test]
async fn burning_an_unknown_metadata_key_is_unknown_secret() {
    let app = spawn_app().await;
    let mkey = "0123456789abcdefghijklmnopqrstu";

    let body = assert_error(app.burn(mkey, None).await, 404, "Unknown secret").await;

    assert_eq!(
        body,
        json!({"message": "Unknown secret", "secret_key": mkey})
    );
}

#[tokio::test]
async fn the_secret_key_cannot_burn_the_secret() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "still mine")]).await;
    let key = text(&meta, "secret_key");

    let body = assert_error(app.burn(key, None).await, 404, "Unknown secret").await;

    assert_eq!(body["secret_key"], key);
    let revealed = ok_json(app.reveal(key, None).await).await;
    assert_eq!(revealed["value"], "still mine");
}

#[tokio::test]
async fn a_missing_or_wrong_passphrase_is_incorrect_and_keeps_the_secret() {
    let app = spawn_app().await;
    let meta = app
        .share(&[("secret", "protected"), ("passphrase", "the right one")])
        .await;
    let (key, mkey) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));

    for attempt in [None, Some(""), Some("the wrong one")] {
        let body = assert_error(app.burn(mkey, attempt).await, 400, "Incorrect passphrase").await;
        assert_eq!(
            body,
            json!({"message": "Incorrect passphrase"}),
            "{attempt:?}"
        );
    }

    let receipt = ok_json(app.metadata(mkey).await).await;
    assert_eq!(receipt["state"], "new");
    let revealed = ok_json(app.reveal(key, Some("the right one")).await).await;
    assert_eq!(revealed["value"], "protected");
}

#[tokio::test]
async fn the_right_passphrase_burns() {
    let app = spawn_app().await;
    let meta = app
        .share(&[("secret", "protected"), ("passphrase", "the right one")])
        .await;
    let (key, mkey) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));
    assert_error(
        app.burn(mkey, Some("the wrong one")).await,
        400,
        "Incorrect passphrase",
    )
    .await;

    let body = ok_json(app.burn(mkey, Some("the right one")).await).await;

    assert_eq!(body["state"]["state"], "burned");
    assert_eq!(body["secret_shortkey"], &key[..8]);
    assert_error(
        app.reveal(key, Some("the right one")).await,
        404,
        "Unknown secret",
    )
    .await;
    let receipt = ok_json(app.metadata(mkey).await).await;
    assert_eq!(receipt["state"], "burned");
    assert_eq!(receipt["passphrase_required"], true);
}
