//! API v2 §10: the CORS preflight of the two create routes answers 204 with
//! its headers and creates nothing (the reference runs the create); the
//! creates themselves allow any origin.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_preflight_answers_204_with_the_cors_headers_and_creates_nothing() {
    let app = spawn_app_with(|s| s.metrics.enabled = true).await;

    for path in [V2_CONCEAL, V2_GENERATE] {
        let resp = app
            .request(reqwest::Method::OPTIONS, path)
            .header("origin", "https://elsewhere.example.org")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .json(&json!({"secret": {"secret": "not to be stored"}}))
            .await;

        assert_eq!(resp.status(), 204, "{path}");
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(header("allow").as_deref(), Some("POST, OPTIONS"));
        assert_eq!(
            header("access-control-allow-methods").as_deref(),
            Some("POST, OPTIONS")
        );
        assert_eq!(header("access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(
            header("access-control-allow-headers").as_deref(),
            Some("Content-Type, Accept"),
            "no Authorization: a cross-origin create is anonymous"
        );
        assert_eq!(header("access-control-max-age").as_deref(), Some("600"));
        assert_eq!(header("cache-control").as_deref(), Some("no-store"));
        assert_eq!(resp.text().await.unwrap(), "", "{path}: empty");
    }

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("otsd_secrets_created_total 0\n"),
        "{metrics}"
    );
    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn the_creates_allow_any_origin() {
    let app = spawn_app().await;

    for (path, secret) in [
        (V2_CONCEAL, json!({"secret": "s"})),
        (V2_GENERATE, json!({})),
    ] {
        let resp = app
            .post_json(path, &json!({ "secret": secret }))
            .header("origin", "https://elsewhere.example.org")
            .await;
        let origin = resp
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(origin.as_deref(), Some("*"), "{path}");
        v2_ok(resp).await;
    }
}
