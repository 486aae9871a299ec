use crate::common::*;

#[tokio::test]
async fn a_shared_secret_is_revealed_once_then_unknown() {
    let app = spawn_app().await;
    let meta = app
        .share(&[("secret", "hello there"), ("ttl", "300")])
        .await;
    let key = meta["secret_key"].as_str().unwrap();

    let first = ok_json(app.reveal(key, None).await).await;
    assert_eq!(first["value"], "hello there");
    assert_eq!(first["secret_key"], key);

    let body = assert_error(app.reveal(key, None).await, 404, "Unknown secret").await;
    assert_eq!(body["secret_key"], key);
}

#[tokio::test]
async fn a_secret_survives_a_graceful_restart() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "persist me")]).await;
    let settings_dir = app.stop().await;
    let settings = test_settings(&settings_dir);
    let app = start_app(settings, settings_dir);
    let body = ok_json(app.reveal(meta["secret_key"].as_str().unwrap(), None).await).await;
    assert_eq!(body["value"], "persist me");
}
