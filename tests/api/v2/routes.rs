//! API v2 §4: every route answers, with the fields and JSON types of §2, §6,
//! §7 and §9 (numbers are numbers, flags are booleans, nullable fields null
//! where there is nothing to say), `success: true` on every 2xx, the JSON
//! content type and `Cache-Control: no-store` on every answer; §3: a route or
//! method v2 does not have is v2's `Not Found`, and so on for errors the HTTP
//! layer makes.

use serde_json::{Value, json};

use crate::common::*;

const PREVIEW_DETAILS: &[(&str, J)] = &[
    ("continue", J::Bool),
    ("is_owner", J::Bool),
    ("show_secret", J::Bool),
    ("correct_passphrase", J::Bool),
    ("display_lines", J::Int),
];

const RECEIPT_DETAILS: &[(&str, J)] = &[
    ("type", J::Str),
    ("display_lines", J::Int),
    ("no_cache", J::Bool),
    ("secret_realttl", J::IntOrNull),
    ("view_count", J::Int),
    ("first_access", J::IntOrNull),
    ("last_access", J::IntOrNull),
    ("has_passphrase", J::Bool),
    ("can_decrypt", J::Bool),
    ("secret_value", J::StrOrNull),
    ("show_secret", J::Bool),
    ("show_secret_link", J::Bool),
    ("show_receipt_link", J::Bool),
    ("show_receipt", J::Bool),
    ("show_recipients", J::Bool),
];

/// Asserts a create answer (§5) of `kind`, made by `custid`.
fn assert_created(body: &Value, kind: &str, custid: &str) {
    let record = &body["record"];
    assert_types(&record["receipt"], RECEIPT_FIELDS, "record.receipt");
    assert_eq!(record["metadata"], record["receipt"], "metadata is receipt");
    assert_types(&record["secret"], SECRET_FIELDS, "record.secret");
    assert_eq!(record["share_domain"], Value::Null);
    assert_eq!(body["details"]["kind"], kind);
    assert_types(
        &body["details"],
        &[("recipient", J::Array), ("recipient_safe", J::Array)],
        "details",
    );
    let receipt = &record["receipt"];
    assert_eq!(receipt["custid"], custid);
    assert_eq!(receipt["state"], "new");
    assert_eq!(receipt["kind"], kind);
    assert_eq!(receipt["source"], "standard");
    assert_eq!(receipt["secret_identifier"], record["secret"]["identifier"]);
    assert_eq!(receipt["recipients"], "");
    for never in ["previewed", "revealed", "burned", "shared", "memo"] {
        assert_eq!(receipt[never], Value::Null, "{never} before anything");
    }
    assert_eq!(record["secret"]["state"], "new");
    assert_eq!(record["secret"]["verification"], false);
    let (skey, rkey) = v2_keys(body);
    assert_key(&skey, "secret key");
    assert_key(&rkey, "receipt key");
    assert_eq!(record["secret"]["key"], skey.as_str());
    assert_eq!(record["secret"]["shortid"], &skey[..8]);
    assert_eq!(receipt["shortid"], &rkey[..8]);
    assert_eq!(receipt["secret_shortid"], &skey[..8]);
}

#[tokio::test]
async fn conceal_and_generate_answer_the_create_record_with_native_types() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");

    let anonymous = app.conceal_v2(json!({"secret": "v", "ttl": 3600})).await;
    assert_created(&anonymous, "conceal", "anon");
    assert_eq!(anonymous["record"]["receipt"]["owner_id"], Value::Null);
    assert_eq!(anonymous["record"]["receipt"]["secret_ttl"], 3600);
    assert_eq!(anonymous["record"]["secret"]["secret_ttl"], 3600);
    assert!(anonymous["record"]["secret"].get("secret_value").is_none());

    let owned = app
        .as_account(&alice)
        .conceal_v2(json!({"secret": "v"}))
        .await;
    assert_created(&owned, "conceal", "alice");
    assert_eq!(owned["record"]["receipt"]["owner_id"], "alice");

    let generated = app.as_account(&alice).generate_v2(json!({})).await;
    assert_created(&generated, "generate", "alice");
    let value = text(&generated["record"]["secret"], "secret_value");
    assert_eq!(value.chars().count(), 12, "the default length");
}

#[tokio::test]
async fn the_secret_routes_answer_preview_status_bulk_status_and_reveal() {
    let app = spawn_app().await;
    let created = app.conceal_v2(json!({"secret": "one line"})).await;
    let (key, _) = v2_keys(&created);

    let preview = v2_ok(app.v2_get(&format!("/secret/{key}")).await).await;
    assert_types(&preview["record"], SECRET_FIELDS, "preview record");
    assert_types(&preview["details"], PREVIEW_DETAILS, "preview details");
    assert_eq!(preview["details"]["one_liner"], Value::Null);
    assert_eq!(preview["details"]["continue"], false);
    assert_eq!(preview["details"]["show_secret"], false);
    assert!(preview["record"].get("secret_value").is_none(), "{preview}");

    let status = v2_ok(app.v2_get(&format!("/secret/{key}/status")).await).await;
    assert_types(&status["record"], SECRET_FIELDS, "status record");
    assert_types(
        &status["details"],
        &[("current_expiration", J::Int)],
        "status",
    );

    let bulk = v2_ok(
        app.v2_post("/secret/status", &json!({"identifiers": key}))
            .await,
    )
    .await;
    assert_types(&bulk, &[("records", J::Array), ("count", J::Int)], "bulk");
    assert_eq!(bulk["count"], 1);
    assert_types(&bulk["records"][0], SECRET_FIELDS, "bulk record");

    let revealed = v2_ok(app.reveal_v2(&key, None).await).await;
    assert_types(&revealed["record"], SECRET_FIELDS, "revealed record");
    assert_eq!(revealed["record"]["secret_value"], "one line");
    assert_eq!(revealed["record"]["state"], "revealed");
    assert_eq!(revealed["record"]["is_revealed"], true);
    assert_types(&revealed["details"], PREVIEW_DETAILS, "reveal details");
    for flag in ["continue", "show_secret", "correct_passphrase"] {
        assert_eq!(revealed["details"][flag], true, "{flag}");
    }
    assert_eq!(revealed["details"]["one_liner"], true);
}

#[tokio::test]
async fn the_receipt_routes_and_their_private_aliases_answer_alike() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let client = app.as_account(&alice);

    for prefix in ["/receipt", "/private"] {
        let created = client.conceal_v2(json!({"secret": "s"})).await;
        let (_, rkey) = v2_keys(&created);

        let read = v2_ok(client.v2_get(&format!("{prefix}/{rkey}")).await).await;
        assert_types(&read["record"], RECEIPT_FIELDS, prefix);
        assert_types(&read["record"], RECEIPT_LINK_FIELDS, prefix);
        assert_types(&read["details"], RECEIPT_DETAILS, prefix);
        assert_eq!(read["record"]["secret_state"], "new");
        assert_eq!(read["details"]["secret_value"], Value::Null);

        let memo = v2_ok(
            client
                .request(reqwest::Method::PATCH, &v2(&format!("{prefix}/{rkey}")))
                .json(&json!({"memo": "for bob"}))
                .await,
        )
        .await;
        assert_types(&memo["record"], RECEIPT_FIELDS, prefix);
        assert_eq!(memo["record"]["memo"], "for bob");

        let recent = v2_ok(client.v2_get(&format!("{prefix}/recent")).await).await;
        assert_types(
            &recent,
            &[("custid", J::Str), ("count", J::Int), ("records", J::Array)],
            prefix,
        );
        assert_types(&recent["records"][0], RECEIPT_FIELDS, prefix);
        assert_types(
            &recent["details"],
            &[
                ("type", J::Str),
                ("since", J::Int),
                ("now", J::Int),
                ("has_items", J::Bool),
                ("revealed_receipts", J::Array),
                ("pending_receipts", J::Array),
            ],
            prefix,
        );
        assert_eq!(recent["details"]["scope"], Value::Null);

        let burned = v2_ok(
            client
                .v2_post(&format!("{prefix}/{rkey}/burn"), &json!({"continue": true}))
                .await,
        )
        .await;
        assert_types(&burned["record"], RECEIPT_FIELDS, prefix);
        assert_types(&burned["record"], RECEIPT_LINK_FIELDS, prefix);
        assert_eq!(burned["record"]["state"], "burned");
        assert_types(&burned["record"], &[("burned", J::Int)], prefix);
        assert_eq!(burned["details"]["title"], "Secret burned");
    }
}

#[tokio::test]
async fn every_guest_route_answers_as_its_twin() {
    let app = spawn_app().await;

    let created = v2_ok(
        app.v2_post("/guest/secret/conceal", &json!({"secret": {"secret": "g"}}))
            .await,
    )
    .await;
    assert_created(&created, "conceal", "anon");
    let generated = v2_ok(
        app.v2_post("/guest/secret/generate", &json!({"secret": {}}))
            .await,
    )
    .await;
    assert_created(&generated, "generate", "anon");
    let (key, rkey) = v2_keys(&created);
    let (_, generated_rkey) = v2_keys(&generated);

    let preview = v2_ok(app.v2_get(&format!("/guest/secret/{key}")).await).await;
    assert_types(&preview["record"], SECRET_FIELDS, "guest preview");
    let read = v2_ok(app.v2_get(&format!("/guest/receipt/{rkey}")).await).await;
    assert_types(&read["record"], RECEIPT_LINK_FIELDS, "guest receipt");
    let revealed = v2_ok(
        app.v2_post(
            &format!("/guest/secret/{key}/reveal"),
            &json!({"continue": true}),
        )
        .await,
    )
    .await;
    assert_eq!(revealed["record"]["secret_value"], "g");
    let burned = v2_ok(
        app.v2_post(
            &format!("/guest/receipt/{generated_rkey}/burn"),
            &json!({"continue": true}),
        )
        .await,
    )
    .await;
    assert_eq!(burned["record"]["state"], "burned");
}

#[tokio::test]
async fn status_version_and_supported_locales_answer() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");

    let status = v2_ok(app.v2_get("/status").await).await;
    assert_eq!(
        status,
        json!({"success": true, "status": "nominal", "locale": "en"})
    );

    let version = v2_ok(app.as_account(&alice).v2_get("/version").await).await;
    let parts: Vec<&str> = version["version"]
        .as_array()
        .expect("an array")
        .iter()
        .map(|p| p.as_str().expect("each part a string"))
        .collect();
    assert_eq!(parts.join("."), env!("CARGO_PKG_VERSION"));
    assert_eq!(version["locale"], "en");

    let locales = v2_ok(app.v2_get("/supported-locales").await).await;
    assert_eq!(locales["default_locale"], "en");
    assert_eq!(locales["locale"], "en");
    let list = locales["locales"].as_array().expect("an array");
    assert!(list.contains(&json!("en")), "{locales}");
    assert!(list.iter().all(Value::is_string), "{locales}");
}

#[tokio::test]
async fn an_unknown_route_or_method_is_v2s_not_found() {
    let app = spawn_app().await;
    let created = app.conceal_v2(json!({"secret": "kept"})).await;
    let (key, rkey) = v2_keys(&created);
    use reqwest::Method;

    let wrong = [
        (Method::GET, "/nowhere".to_owned()),
        (Method::GET, String::new()),
        (Method::GET, "/".to_owned()),
        (Method::GET, "/secret/".to_owned()),
        (Method::GET, format!("/secret/{key}/")),
        (Method::POST, "/receipt//burn".to_owned()),
        (Method::GET, "/secret/conceal".to_owned()),
        (Method::GET, "/secret/generate".to_owned()),
        (Method::DELETE, format!("/secret/{key}")),
        (Method::GET, format!("/secret/{key}/reveal")),
        (Method::PUT, format!("/receipt/{rkey}")),
        (Method::GET, format!("/receipt/{rkey}/burn")),
        (Method::POST, "/status".to_owned()),
        (Method::POST, "/receipt/recent".to_owned()),
        (Method::OPTIONS, format!("/secret/{key}")),
        (Method::GET, "/guest/secret/conceal".to_owned()),
        (Method::GET, "/guest/nowhere".to_owned()),
        (Method::PATCH, format!("/guest/receipt/{rkey}")),
    ];
    for (method, path) in wrong {
        let resp = app.request(method.clone(), &v2(&path)).await;
        let body = v2_error(resp, 404, "NotFound", "Not Found", None).await;
        assert_eq!(
            body,
            json!({"error": "Not Found", "error_type": "NotFound"}),
            "{method} {path}"
        );
    }
    assert_eq!(app.reveal_value(&key, None).await, "kept");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_in_v2s_shape_not_v1s() {
    let app = spawn_app_with(|s| s.limits.max_body_bytes = 2048).await;
    let big = "x".repeat(4096);

    let resp = app
        .v2_post("/secret/conceal", &json!({"secret": {"secret": big}}))
        .await;
    assert!(resp.headers().get("x-ots-intended-status").is_none());
    let body = v2_error(
        resp,
        413,
        "PayloadTooLarge",
        "Request body exceeds the maximum size of 2048 bytes",
        None,
    )
    .await;
    assert!(body.get("message").is_none(), "not v1's error: {body}");

    assert_eq!(app.stop_and_count_records().await, (0, 0));
}

#[tokio::test]
async fn a_rate_limited_call_is_limit_exceeded_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.rate_limits.create = 1;
        s.rate_limits.window_secs = WINDOW;
    })
    .await;
    app.conceal_v2(json!({"secret": "the one allowed"})).await;

    let resp = app
        .v2_post("/secret/generate", &json!({"secret": {}}))
        .await;

    let header: u64 = resp
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("whole seconds");
    let body = v2_error(resp, 429, "LimitExceeded", RATE_LIMITED, None).await;
    assert_eq!(body["retry_after"], header);
    assert!((1..=WINDOW).contains(&header));
    assert_eq!(app.stop_and_count_records().await, (1, 1));
}
