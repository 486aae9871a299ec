//! Spec §1–§3: the status route, the v1 content type and cache headers, and the
//! `Not Found` answer for every route or method that is not listed.

use crate::common::*;
use reqwest::{Method, Response};
use serde_json::json;

fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("header {name} present"))
        .to_str()
        .unwrap()
        .to_owned()
}

fn assert_no_store(resp: &Response) {
    assert_eq!(header(resp, "cache-control"), "no-store");
    assert_eq!(header(resp, "pragma"), "no-cache");
}

#[tokio::test]
async fn status_is_nominal_in_english_as_v1_json() {
    let app = spawn_app().await;

    let resp = app.get("/api/v1/status").await;

    assert_no_store(&resp);
    let body = ok_json(resp).await;
    assert_eq!(body, json!({"status": "nominal", "locale": "en"}));
}

#[tokio::test]
async fn responses_carrying_secret_material_are_not_cached() {
    let app = spawn_app().await;

    let share = app
        .post_form("/api/v1/share", &[("secret", "cache me not")])
        .await;
    assert_no_store(&share);
    let meta = ok_json(share).await;

    let receipt = app.metadata(text(&meta, "metadata_key")).await;
    assert_no_store(&receipt);
    ok_json(receipt).await;

    let reveal = app.reveal(text(&meta, "secret_key"), None).await;
    assert_no_store(&reveal);
    ok_json(reveal).await;

    let generate = app.post_form("/api/v1/generate", &[]).await;
    assert_no_store(&generate);
    ok_json(generate).await;

    let error = app.reveal(text(&meta, "secret_key"), None).await;
    assert_no_store(&error);
    assert_error(error, 404, "Unknown secret").await;
}

async fn assert_not_found(app: &TestApp, method: Method, path: &str) {
    let resp = app.request(method.clone(), path).await;
    assert_eq!(
        resp.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned()),
        Some("application/json; charset=utf-8".to_owned()),
        "{method} {path}"
    );
    let body = assert_error(resp, 404, "Not Found").await;
    assert_eq!(body, json!({"message": "Not Found"}), "{method} {path}");
}

#[tokio::test]
async fn unknown_routes_are_not_found() {
    let app = spawn_app().await;

    for path in [
        "/api/v1/nope",
        "/api/v1/",
        "/api/v1/status/extra",
        "/api/v1/secret",
        "/api/v1/private",
    ] {
        assert_not_found(&app, Method::GET, path).await;
        assert_not_found(&app, Method::POST, path).await;
    }
}

#[tokio::test]
async fn wrong_methods_are_not_found() {
    let app = spawn_app().await;

    for (method, path) in [
        (Method::GET, "/api/v1/share"),
        (Method::GET, "/api/v1/create"),
        (Method::GET, "/api/v1/generate"),
        (Method::POST, "/api/v1/status"),
        (Method::PUT, "/api/v1/share"),
        (Method::DELETE, "/api/v1/share"),
        (Method::GET, "/api/v1/private/somekey/burn"),
        (Method::PATCH, "/api/v1/metadata/somekey"),
    ] {
        assert_not_found(&app, method, path).await;
    }
}

#[tokio::test]
async fn a_get_of_a_secret_is_not_routed_and_does_not_consume_it() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "only by POST")]).await;
    let key = text(&meta, "secret_key");

    assert_not_found(&app, Method::GET, &format!("/api/v1/secret/{key}")).await;
    assert_not_found(&app, Method::DELETE, &format!("/api/v1/secret/{key}")).await;
    assert_not_found(&app, Method::PUT, &format!("/api/v1/secret/{key}")).await;

    let revealed = ok_json(app.reveal(key, None).await).await;
    assert_eq!(revealed["value"], "only by POST");
}

#[tokio::test]
async fn a_delete_of_a_receipt_is_not_routed_and_changes_nothing() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "still here")]).await;
    let mkey = text(&meta, "metadata_key");

    assert_not_found(&app, Method::DELETE, &format!("/api/v1/private/{mkey}")).await;
    assert_not_found(&app, Method::DELETE, &format!("/api/v1/metadata/{mkey}")).await;
    assert_not_found(
        &app,
        Method::DELETE,
        &format!("/api/v1/private/{mkey}/burn"),
    )
    .await;

    let receipt = ok_json(app.metadata(mkey).await).await;
    assert_eq!(receipt["state"], "new");
    assert_eq!(receipt["secret_key"], meta["secret_key"]);
}
