//! Spec §3 and §5: a secret past its TTL is never served, whether or not the
//! reaper has run; its receipt reads `expired` until it too runs out after 2 × TTL;
//! the reaper then removes both from the database.

use crate::common::*;
use std::time::Duration;

const MAX_WAIT: Duration = Duration::from_secs(4);

#[tokio::test]
async fn an_expired_secret_is_unknown_even_before_the_reaper_runs() {
    let app = spawn_app_with(|s| {
        s.limits.min_ttl = 1;
        s.reaper.interval_secs = 3600;
    })
    .await;
    let meta = app.share(&[("secret", "short lived"), ("ttl", "2")]).await;
    let (key, mkey) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));
    let created = meta["created"].as_u64().unwrap();
    assert_eq!(meta["ttl"], 2);
    let other = app
        .share(&[("secret", "short lived too"), ("ttl", "2")])
        .await;

    sleep_until_unix(created + 2, MAX_WAIT).await;

    let body = assert_error(app.reveal(key, None).await, 404, "Unknown secret").await;
    assert_eq!(body["secret_key"], key);
    let receipt = ok_json(app.metadata(mkey).await).await;
    assert_eq!(receipt["state"], "expired");
    assert_eq!(receipt["secret_key"], "");
    assert!(receipt.as_object().unwrap().contains_key("secret_ttl"));
    assert_eq!(receipt["secret_ttl"], serde_json::Value::Null);
    assert!(receipt.get("received").is_none(), "{receipt}");
    let other_mkey = text(&other, "metadata_key");
    let body = assert_error(app.burn(other_mkey, None).await, 404, "Unknown secret").await;
    assert_eq!(body["secret_key"], other_mkey);
    assert_error(
        app.reveal(text(&other, "secret_key"), None).await,
        404,
        "Unknown secret",
    )
    .await;

    sleep_until_unix(created + 4, MAX_WAIT).await;

    let body = assert_error(app.metadata(mkey).await, 404, "Unknown secret").await;
    assert_eq!(body["secret_key"], mkey);
    assert_error(app.burn(mkey, None).await, 404, "Unknown secret").await;
}

#[tokio::test]
async fn the_reaper_removes_expired_records_from_the_database() {
    let app = spawn_app_with(|s| {
        s.limits.min_ttl = 1;
        s.reaper.interval_secs = 1;
    })
    .await;
    let expiring = app.share(&[("secret", "reap me"), ("ttl", "1")]).await;
    let revealed = app.share(&[("secret", "read me"), ("ttl", "1")]).await;
    ok_json(app.reveal(text(&revealed, "secret_key"), None).await).await;
    let lasting = app.share(&[("secret", "keep me"), ("ttl", "3600")]).await;
    let latest = [&expiring, &revealed]
        .iter()
        .map(|m| m["created"].as_u64().unwrap())
        .max()
        .unwrap();

    // Both receipts are due at created + 2; a 1 s reaper has swept after that.
    sleep_until_unix(latest + 2 + 2, MAX_WAIT + Duration::from_secs(1)).await;

    assert_error(
        app.metadata(text(&expiring, "metadata_key")).await,
        404,
        "Unknown secret",
    )
    .await;
    assert_error(
        app.metadata(text(&revealed, "metadata_key")).await,
        404,
        "Unknown secret",
    )
    .await;
    assert_eq!(
        ok_json(app.metadata(text(&lasting, "metadata_key")).await).await["state"],
        "new"
    );
    assert_eq!(
        app.stop_and_count_records().await,
        (1, 1),
        "only the lasting secret and its receipt are left"
    );
}
