//! API v2 §8: a preview (GET) never consumes; a reveal needs `continue`, and
//! the passphrase (wrong ones counted, then refused with 429); status of one
//! secret and of many.

use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn a_preview_never_consumes_the_secret() {
    let app = spawn_app().await;
    let created = app.conceal_v2(json!({"secret": "still here"})).await;
    let (key, rkey) = v2_keys(&created);

    for path in [
        format!("/secret/{key}"),
        format!("/secret/{key}?continue=true"),
        format!("/guest/secret/{key}"),
    ] {
        for _ in 0..5 {
            let preview = v2_ok(app.v2_get(&path).await).await;
            assert_eq!(preview["record"]["state"], "new", "{path}");
            assert!(preview["record"].get("secret_value").is_none());
            assert!(!preview.to_string().contains("still here"));
        }
    }

    let receipt = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(receipt["record"]["state"], "new", "a preview is no state");
    assert_eq!(receipt["record"]["is_previewed"], true);
    let previewed = receipt["record"]["previewed"].as_u64().expect("a time");
    assert!(previewed >= created["record"]["receipt"]["created"].as_u64().unwrap());
    let secret = v2_ok(app.v2_get(&format!("/secret/{key}")).await).await;
    assert_eq!(secret["record"]["is_previewed"], true);
    assert_eq!(secret["details"]["is_owner"], false);

    let revealed = v2_ok(app.reveal_v2(&key, None).await).await;
    assert_eq!(revealed["record"]["secret_value"], "still here");
}

#[tokio::test]
async fn a_preview_tells_the_owner_it_is_theirs() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let bob = add_account(&app, "bob");
    let created = app
        .as_account(&alice)
        .conceal_v2(json!({"secret": "s", "passphrase": "pw"}))
        .await;
    let (key, _) = v2_keys(&created);

    for (client, owner) in [
        (app.as_account(&alice), true),
        (app.as_account(&bob), false),
    ] {
        let preview = v2_ok(client.v2_get(&format!("/secret/{key}")).await).await;
        assert_eq!(preview["details"]["is_owner"], owner, "{preview}");
        assert_eq!(preview["details"]["correct_passphrase"], false);
        assert_eq!(preview["record"]["has_passphrase"], true);
    }
    let guest = app
        .as_account(&alice)
        .v2_get(&format!("/guest/secret/{key}"));
    let preview = v2_ok(guest.await).await;
    assert_eq!(preview["details"]["is_owner"], false, "a guest is no one");
}

#[tokio::test]
async fn a_reveal_without_continue_shows_nothing_and_keeps_the_secret() {
    let app = spawn_app().await;
    let created = app.conceal_v2(json!({"secret": "kept"})).await;
    let (key, _) = v2_keys(&created);
    let path = format!("/secret/{key}/reveal");

    for body in [
        json!({}),
        json!({"continue": false}),
        json!({"continue": "false"}),
        json!({"continue": "yes please"}),
    ] {
        let answer = v2_ok(app.v2_post(&path, &body).await).await;
        assert_eq!(answer["details"]["show_secret"], false, "{body}");
        assert_eq!(answer["details"]["continue"], false, "{body}");
        assert!(answer["record"].get("secret_value").is_none(), "{body}");
        assert_eq!(answer["record"]["state"], "new");
    }

    let answer = v2_ok(app.v2_post(&path, &json!({"continue": "true"})).await).await;
    assert_eq!(answer["record"]["secret_value"], "kept");
    assert_eq!(answer["details"]["show_secret"], true);
    v2_unknown(app.reveal_v2(&key, None).await).await;
}

#[tokio::test]
async fn a_multiline_value_is_no_one_liner() {
    let app = spawn_app().await;
    let created = app
        .conceal_v2(json!({"secret": "line one\nline two\nline three"}))
        .await;
    let (key, _) = v2_keys(&created);

    let answer = v2_ok(app.reveal_v2(&key, None).await).await;

    assert_eq!(answer["details"]["one_liner"], false);
    assert_eq!(answer["details"]["display_lines"], 3);
}

#[tokio::test]
async fn a_wrong_passphrase_is_incorrect_and_keeps_the_secret() {
    let app = spawn_app().await;
    let created = app
        .conceal_v2(json!({"secret": "guarded", "passphrase": "right one"}))
        .await;
    let (key, rkey) = v2_keys(&created);

    for attempt in [Some("wrong one"), None] {
        let resp = app.reveal_v2(&key, attempt).await;
        v2_error(
            resp,
            422,
            "FormError",
            INCORRECT_PASSPHRASE,
            Some("passphrase"),
        )
        .await;
    }

    let receipt = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(receipt["record"]["state"], "new");
    let answer = v2_ok(app.reveal_v2(&key, Some("right one")).await).await;
    assert_eq!(answer["record"]["secret_value"], "guarded");
    assert_eq!(answer["details"]["correct_passphrase"], true);
}

#[tokio::test]
async fn wrong_passphrases_are_counted_and_then_refused_with_limit_exceeded() {
    let app = spawn_app().await;
    let created = app
        .conceal_v2(json!({"secret": "guarded", "passphrase": "right one"}))
        .await;
    let (key, _) = v2_keys(&created);

    for n in 0..5 {
        let resp = app.reveal_v2(&key, Some(&format!("guess {n}"))).await;
        v2_error(
            resp,
            422,
            "FormError",
            INCORRECT_PASSPHRASE,
            Some("passphrase"),
        )
        .await;
    }

    let resp = app.reveal_v2(&key, Some("right one")).await;
    let retry_after: u64 = resp
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("whole seconds");
    let body = v2_error(resp, 429, "LimitExceeded", RATE_LIMITED, None).await;
    assert!(body["retry_after"].is_u64(), "an integer: {body}");
    assert_eq!(body["retry_after"], retry_after);
    assert!(retry_after >= 1);
}

#[tokio::test]
async fn an_unknown_or_malformed_key_is_record_not_found() {
    let app = spawn_app().await;

    for key in [
        unissued_key(),
        "short".to_owned(),
        unissued_key().to_uppercase(),
    ] {
        v2_unknown(app.v2_get(&format!("/secret/{key}")).await).await;
        v2_unknown(app.reveal_v2(&key, None).await).await;
        v2_unknown(app.receipt_v2(&key).await).await;
        v2_unknown(app.burn_v2(&key, None).await).await;
    }
}

#[tokio::test]
async fn the_status_of_one_secret_says_where_it_stands_and_unknown_when_gone() {
    let app = spawn_app().await;
    let created = app.conceal_v2(json!({"secret": "s", "ttl": 3600})).await;
    let (key, _) = v2_keys(&created);

    let status = v2_ok(app.v2_get(&format!("/secret/{key}/status")).await).await;
    assert_eq!(status["record"]["state"], "new");
    assert_eq!(
        status["record"]["is_previewed"], false,
        "a status is no preview"
    );
    let left = status["details"]["current_expiration"].as_u64().unwrap();
    assert!((3500..=3600).contains(&left), "{left}");

    app.reveal_value(&key, None).await;
    for key in [key, unissued_key(), "nonsense".to_owned()] {
        let gone = v2_ok(app.v2_get(&format!("/secret/{key}/status")).await).await;
        assert_eq!(
            gone,
            json!({"success": true, "record": {"state": "unknown"}})
        );
    }
}

#[tokio::test]
async fn bulk_status_lists_the_live_secrets_and_leaves_the_rest_out() {
    let app = spawn_app().await;
    let mut live = Vec::new();
    for n in 0..3 {
        let created = app.conceal_v2(json!({"secret": format!("s{n}")})).await;
        live.push(v2_keys(&created).0);
    }
    let revealed = v2_keys(&app.conceal_v2(json!({"secret": "r"})).await).0;
    app.reveal_value(&revealed, None).await;
    let asked = vec![
        live[0].clone(),
        unissued_key(),
        revealed.clone(),
        "not a key".to_owned(),
        live[1].clone(),
        live[2].clone(),
    ];

    let as_string = json!({"identifiers": asked.join(",")});
    let as_array = json!({"identifiers": asked});
    for body in [as_string, as_array] {
        let answer = v2_ok(app.v2_post("/secret/status", &body).await).await;
        let keys: Vec<&str> = answer["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["identifier"].as_str().unwrap())
            .collect();
        assert_eq!(keys, live, "{body}");
        assert_eq!(answer["count"], 3);
    }

    let empty = v2_ok(app.v2_post("/secret/status", &json!({})).await).await;
    assert_eq!(empty["records"], json!([]));
    assert_eq!(empty["count"], 0);

    let too_many: Vec<String> = (0..101).map(|_| unissued_key()).collect();
    let resp = app
        .v2_post(
            "/secret/status",
            &json!({"identifiers": too_many.join(",")}),
        )
        .await;
    let body = v2_error(
        resp,
        422,
        "FormError",
        "No more than 100 identifiers at once",
        Some("identifiers"),
    )
    .await;
    assert_eq!(body["field"], Value::String("identifiers".into()));
}
