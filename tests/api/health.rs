//! `GET /healthz` (the process answers), `GET /readyz` (the store can serve), and
//! HEAD wherever GET works: the same status and headers, no body.

use serde_json::Value;

use crate::common::*;

#[tokio::test]
async fn healthz_and_readyz_answer_while_the_store_serves() {
    let app = spawn_app().await;
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let body = ok_json(app.get(path).await).await;
        assert_eq!(body, serde_json::json!({ "status": status }), "{path}");
    }
}

#[tokio::test]
async fn head_answers_wherever_get_does_with_the_same_status_and_no_body() {
    let app = spawn_app().await;
    let receipt = app.share(&[("secret", "headed")]).await;
    let secret_page = format!("/secret/{}", text(&receipt, "secret_key"));
    let receipt_page = format!("/private/{}", text(&receipt, "metadata_key"));
    for path in [
        "/",
        "/healthz",
        "/readyz",
        STATUS,
        "/static/style.css",
        receipt_page.as_str(),
        secret_page.as_str(),
        "/no-such-page",
    ] {
        let get = app.http.get(app.url(path)).send().await.expect("GET");
        let (get_status, get_type) = (get.status(), get.headers().get("content-type").cloned());
        let get_len = get.bytes().await.expect("GET body").len();
        let head = app.http.head(app.url(path)).send().await.expect("HEAD");
        assert_eq!(head.status(), get_status, "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type").cloned(),
            get_type,
            "HEAD {path}"
        );
        let declared = head
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        assert_eq!(
            declared,
            Some(get_len),
            "HEAD {path} declares the GET body's length"
        );
        assert!(
            head.bytes().await.expect("HEAD body").is_empty(),
            "HEAD {path} has no body"
        );
    }
    // Looking at the reveal page by HEAD reveals nothing, as GET does not.
    let revealed: Value = ok_json(app.reveal(text(&receipt, "secret_key"), None).await).await;
    assert_eq!(revealed["value"], "headed");
}
