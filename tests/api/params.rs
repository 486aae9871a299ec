//! Spec §1: parameters arrive in every shape real clients send — urlencoded and
//! multipart bodies, the query string of a POST, a flat JSON object, GETs with a
//! form `Content-Type` — and a body value wins over a query value.

use crate::common::*;
use reqwest::multipart::{Form, Part};
use serde_json::json;

/// Asserts that `resp` is the metadata of a share with this `ttl` (when given)
/// whose secret reveals, without passphrase, as `value`.
async fn assert_shared(app: &TestApp, resp: reqwest::Response, ttl: Option<u64>, value: &str) {
    let meta = ok_json(resp).await;
    if let Some(ttl) = ttl {
        assert_eq!(meta["ttl"], ttl);
    }
    assert_eq!(
        app.reveal_value(text(&meta, "secret_key"), None).await,
        value
    );
}

#[tokio::test]
async fn share_takes_an_urlencoded_body() {
    let app = spawn_app().await;

    let resp = app
        .post_form(SHARE, &[("secret", "form & body = ok?"), ("ttl", "300")])
        .await;

    assert_shared(&app, resp, Some(300), "form & body = ok?").await;
}

#[tokio::test]
async fn share_takes_a_multipart_body() {
    let app = spawn_app().await;
    let form = Form::new()
        .text("secret", "multipart value")
        .text("ttl", "600")
        .text("passphrase", "mp pass");

    let resp = app.post_multipart(SHARE, form).await;

    let meta = ok_json(resp).await;
    assert_eq!(meta["ttl"], 600);
    assert_eq!(meta["passphrase_required"], true);
    let revealed = ok_json(app.reveal(text(&meta, "secret_key"), Some("mp pass")).await).await;
    assert_eq!(revealed["value"], "multipart value");
}

#[tokio::test]
async fn share_takes_a_multipart_file_part_as_the_secret() {
    let app = spawn_app().await;
    let contents = "line one\nline two\n";
    let file = Part::bytes(contents.as_bytes().to_vec())
        .file_name("secret.txt")
        .mime_str("text/plain")
        .unwrap();
    let form = Form::new().part("secret", file).text("ttl", "900");

    let resp = app.post_multipart(SHARE, form).await;

    assert_shared(&app, resp, Some(900), contents).await;
}

#[tokio::test]
async fn share_takes_the_query_string_of_a_post_with_an_empty_body() {
    let app = spawn_app().await;

    let resp = app
        .post_query(SHARE, &[("secret", "from the query"), ("ttl", "420")])
        .await;

    assert_shared(&app, resp, Some(420), "from the query").await;
}

#[tokio::test]
async fn reveal_takes_the_passphrase_from_the_query_string() {
    let app = spawn_app().await;
    let meta = app
        .share(&[("secret", "query pass"), ("passphrase", "open sesame")])
        .await;
    let key = text(&meta, "secret_key");

    let resp = app
        .post_query(
            &format!("/api/v1/secret/{key}"),
            &[("passphrase", "open sesame")],
        )
        .await;

    assert_eq!(ok_json(resp).await["value"], "query pass");
}

#[tokio::test]
async fn share_takes_a_json_object_with_a_numeric_ttl() {
    let app = spawn_app().await;

    let meta = ok_json(
        app.post_json(
            "/api/v1/share",
            &json!({"secret": "json value", "ttl": 3600, "passphrase": "json pass"}),
        )
        .await,
    )
    .await;

    assert_eq!(meta["ttl"], 3600);
    assert_eq!(meta["passphrase_required"], true);
    let revealed = ok_json(
        app.reveal(text(&meta, "secret_key"), Some("json pass"))
            .await,
    )
    .await;
    assert_eq!(revealed["value"], "json value");
}

#[tokio::test]
async fn share_takes_a_json_object_with_a_string_ttl() {
    let app = spawn_app().await;

    let meta = ok_json(
        app.post_json("/api/v1/share", &json!({"secret": "s", "ttl": "7200"}))
            .await,
    )
    .await;

    assert_eq!(meta["ttl"], 7200);
}

#[tokio::test]
async fn generate_and_reveal_and_burn_take_json_objects() {
    let app = spawn_app().await;

    let generated = ok_json(
        app.post_json(
            "/api/v1/generate",
            &json!({"length": 20, "passphrase": "gen pass", "ttl": 120}),
        )
        .await,
    )
    .await;
    assert_eq!(text(&generated, "value").chars().count(), 20);
    assert_eq!(generated["ttl"], 120);

    let key = text(&generated, "secret_key");
    let revealed = ok_json(
        app.post_json(
            &format!("/api/v1/secret/{key}"),
            &json!({"passphrase": "gen pass"}),
        )
        .await,
    )
    .await;
    assert_eq!(revealed["value"], generated["value"]);

    let meta = app
        .share(&[("secret", "to burn"), ("passphrase", "burn pass")])
        .await;
    let mkey = text(&meta, "metadata_key");
    let burned = ok_json(
        app.post_json(
            &format!("/api/v1/private/{mkey}/burn"),
            &json!({"passphrase": "burn pass"}),
        )
        .await,
    )
    .await;
    assert_eq!(burned["state"]["state"], "burned");
}

#[tokio::test]
async fn a_get_with_a_form_content_type_reads_metadata_and_status() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "get with a header")]).await;
    let mkey = text(&meta, "metadata_key");

    for content_type in ["application/x-www-form-urlencoded", "multipart/form-data"] {
        for path in [
            format!("/api/v1/private/{mkey}"),
            format!("/api/v1/metadata/{mkey}"),
        ] {
            let resp = app.get(&path).header("content-type", content_type).await;
            let receipt = ok_json(resp).await;
            assert_eq!(receipt["metadata_key"], mkey, "{content_type} {path}");
            assert_eq!(receipt["state"], "new");
        }
    }

    let status = app
        .get(STATUS)
        .header("content-type", "application/x-www-form-urlencoded")
        .await;
    assert_eq!(ok_json(status).await["status"], "nominal");
}

#[tokio::test]
async fn a_post_of_metadata_with_an_empty_form_body_reads_it() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "post metadata")]).await;
    let mkey = text(&meta, "metadata_key");

    let resp = app
        .post(&format!("/api/v1/private/{mkey}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .await;

    assert_eq!(ok_json(resp).await["state"], "new");
}

#[tokio::test]
async fn a_body_value_wins_over_a_query_value() {
    let app = spawn_app().await;

    let url = with_query(SHARE, &[("secret", "from-query"), ("ttl", "120")]);
    let resp = app
        .post_form(&url, &[("secret", "from-body"), ("ttl", "240")])
        .await;

    assert_shared(&app, resp, Some(240), "from-body").await;
}

#[tokio::test]
async fn a_body_passphrase_wins_over_a_query_passphrase() {
    let app = spawn_app().await;

    let url = with_query(SHARE, &[("ttl", "300"), ("passphrase", "query-pass")]);
    let resp = app
        .post_form(
            &url,
            &[("secret", "two passphrases"), ("passphrase", "body-pass")],
        )
        .await;
    let meta = ok_json(resp).await;
    let key = text(&meta, "secret_key");

    let revealed = ok_json(app.reveal(key, Some("body-pass")).await).await;
    assert_eq!(revealed["value"], "two passphrases");
}

#[tokio::test]
async fn query_values_fill_in_what_the_body_leaves_out() {
    let app = spawn_app().await;

    let url = with_query(SHARE, &[("ttl", "360")]);
    let resp = app.post_form(&url, &[("secret", "mixed")]).await;

    assert_shared(&app, resp, Some(360), "mixed").await;
}

#[tokio::test]
async fn a_json_body_value_wins_over_a_query_value() {
    let app = spawn_app().await;

    let url = with_query(SHARE, &[("secret", "from-query")]);
    let resp = app.post_json(&url, &json!({"secret": "from-json"})).await;

    assert_shared(&app, resp, None, "from-json").await;
}

#[tokio::test]
async fn an_empty_body_without_query_has_nothing_to_share() {
    let app = spawn_app().await;

    let resp = app.post(SHARE).await;

    assert_error(resp, 400, NOTHING_TO_SHARE).await;
}

/// Sends `body` as `application/json` to share.
async fn share_raw_json(app: &TestApp, body: &'static str) -> reqwest::Response {
    app.post_raw(SHARE, "application/json", body).await
}

/// Sends `body` as `application/json` to generate.
async fn generate_raw_json(app: &TestApp, body: &'static str) -> reqwest::Response {
    app.post_raw(GENERATE, "application/json", body).await
}

#[tokio::test]
async fn malformed_json_is_a_clear_bad_request_and_stores_nothing() {
    let app = spawn_app().await;

    for body in [
        r#"{"secret": "half a json object""#,
        r#"{"secret": "x",}"#,
        r#"["secret", "not an object"]"#,
        r#""just a string""#,
        "secret=looks-like-a-form",
    ] {
        let resp = share_raw_json(&app, body).await;
        let error = assert_error_status(resp, 400).await;
        let message = text(&error, "message");
        assert!(
            message.contains("JSON"),
            "the message says what is wrong: {message:?} for {body}"
        );
    }

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_body_over_the_configured_limit_is_too_large() {
    let app = spawn_app_with(|s| s.limits.max_body_bytes = 2048).await;
    let big = "x".repeat(4096);

    let urlencoded = app.post_form("/api/v1/share", &[("secret", &big)]).await;
    assert_error_status(urlencoded, 413).await;

    let json = app
        .post_json("/api/v1/share", &json!({"secret": big}))
        .await;
    assert_error_status(json, 413).await;

    let multipart = app
        .post_multipart(SHARE, Form::new().text("secret", big.clone()))
        .await;
    assert_error_status(multipart, 413).await;

    let small = app.post_form("/api/v1/share", &[("secret", "fits")]).await;
    ok_json(small).await;

    assert_eq!(app.stop_and_count_records().await, (1, 1));
}

#[tokio::test]
async fn a_json_parameter_of_the_wrong_type_is_refused_with_its_message_and_stores_nothing() {
    let app = spawn_app().await;

    for (body, message) in [
        (
            r#"{"secret":"s","passphrase":{"p":"x"}}"#,
            "Invalid passphrase",
        ),
        (r#"{"secret":"s","passphrase":["x"]}"#, "Invalid passphrase"),
        (r#"{"secret":"s","passphrase":1234}"#, "Invalid passphrase"),
        (r#"{"secret":"s","ttl":{"seconds":60}}"#, "Invalid TTL"),
        (r#"{"secret":"s","ttl":[60]}"#, "Invalid TTL"),
        (r#"{"secret":"s","ttl":null}"#, "Invalid TTL"),
        (r#"{"secret":1234}"#, NOTHING_TO_SHARE),
        (r#"{"secret":false}"#, NOTHING_TO_SHARE),
        (r#"{"secret":["a","b"]}"#, NOTHING_TO_SHARE),
    ] {
        assert_error(share_raw_json(&app, body).await, 400, message).await;
    }
    let generate = generate_raw_json(&app, r#"{"length":{"n":8}}"#).await;
    assert_error(generate, 400, "Invalid length").await;

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_json_integer_too_large_for_any_integer_type_is_clamped() {
    let app = spawn_app().await;

    let meta = ok_json(
        share_raw_json(
            &app,
            r#"{"secret":"s","ttl":100000000000000000000000000000}"#,
        )
        .await,
    )
    .await;
    assert_eq!(meta["ttl"], 7 * 24 * 3600, "clamped to the maximum");
    let generated =
        ok_json(generate_raw_json(&app, r#"{"length":1000000000000000000000000}"#).await).await;
    assert_eq!(text(&generated, "value").len(), 128);
}

/// Sends `body` urlencoded to `path`, with `query` (as it is) in its URL.
async fn post_raw_form(
    app: &TestApp,
    path: &str,
    query: &str,
    body: &'static str,
) -> reqwest::Response {
    let url = format!("{path}{query}");
    app.post_raw(&url, "application/x-www-form-urlencoded", body)
        .await
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_refused_in_every_parameter_shape() {
    let app = spawn_app().await;
    const NOT_UTF8: &str = "Parameters must be UTF-8 text";

    for (query, body) in [
        ("", "secret=s&passphrase=%FF%FF"),
        ("", "secret=%C3%28"),
        ("?passphrase=%FF%FF", "secret=s"),
        ("?secret=%E2%82", ""),
        ("", "%FF=1&secret=s"),
    ] {
        assert_error(
            post_raw_form(&app, "/api/v1/share", query, body).await,
            400,
            NOT_UTF8,
        )
        .await;
    }
    let form = Form::new().part("secret", Part::bytes(&b"\xff\xfe"[..]));
    let multipart = app.post_multipart(SHARE, form).await;
    assert_error(multipart, 400, NOT_UTF8).await;
    assert_eq!(app.stop_and_count_records().await, (0, 0));
}
