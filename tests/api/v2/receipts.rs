//! API v2 §7, §9: the receipt read with its paths and URLs (which open the
//! receipt page), its states as the secret goes, the memo (the owner's
//! only), burn (with `continue`, the passphrase when there is one), and
//! `recent` (accounts only, newest change first).

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;

const BASE_URL: &str = "https://secrets.example.com";
const NOT_RECEIPT_OWNER: &str = "Not authorized to update this receipt";

#[tokio::test]
async fn a_receipt_read_has_its_paths_and_urls_under_the_base_url() {
    let app = spawn_app_with(|s| s.base_url = BASE_URL.into()).await;
    let created = app.conceal_v2(json!({"secret": "s", "ttl": 3600})).await;
    let (key, rkey) = v2_keys(&created);

    let read = v2_ok(app.receipt_v2(&rkey).await).await;
    let record = &read["record"];

    assert_eq!(record["share_path"], format!("secret/{key}"));
    assert_eq!(record["receipt_path"], format!("receipt/{rkey}"));
    assert_eq!(record["metadata_path"], format!("receipt/{rkey}"));
    assert_eq!(record["burn_path"], format!("receipt/{rkey}/burn"));
    assert_eq!(record["share_url"], format!("{BASE_URL}/secret/{key}"));
    assert_eq!(record["receipt_url"], format!("{BASE_URL}/receipt/{rkey}"));
    assert_eq!(record["metadata_url"], format!("{BASE_URL}/receipt/{rkey}"));
    assert_eq!(
        record["burn_url"],
        format!("{BASE_URL}/receipt/{rkey}/burn")
    );
    assert_eq!(record["natural_expiration"], "1 hour");
    let left = record["expiration_in_seconds"].as_u64().unwrap();
    assert!((3500..=3600).contains(&left), "{left}");
    let expiration = record["expiration"].as_u64().unwrap();
    assert!(expiration >= unix_now() + left - 5 && expiration <= unix_now() + left + 5);
    assert_eq!(record["secret_identifier"], key.as_str());
}

#[tokio::test]
async fn the_receipt_and_burn_urls_open_the_receipt_pages() {
    let app = spawn_app_with(|s| s.base_url = BASE_URL.into()).await;
    let created = app.conceal_v2(json!({"secret": "page value"})).await;
    let (_, rkey) = v2_keys(&created);
    let read = v2_ok(app.receipt_v2(&rkey).await).await;

    for field in ["receipt_url", "metadata_url", "burn_url"] {
        let url = text(&read["record"], field);
        let path = url.strip_prefix(BASE_URL).expect("under the base URL");
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 200, "{field}: GET {path}");
        let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/html"), "{field}: {kind}");
        let page = resp.text().await.unwrap();
        assert!(!page.contains("page value"), "{field}: no value on it");
    }
    let still = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(
        still["record"]["state"], "new",
        "opening a page burns nothing"
    );
}

#[tokio::test]
async fn a_receipt_says_previewed_revealed_and_burned_as_its_secret_goes() {
    let app = spawn_app().await;
    let first = app.conceal_v2(json!({"secret": "first"})).await;
    let (key, rkey) = v2_keys(&first);

    // The link's page opened (v1 `viewed`).
    let page = app.get(&format!("/secret/{key}")).await;
    assert_eq!(page.status(), 200);
    let previewed = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(previewed["record"]["state"], "previewed");
    assert_eq!(previewed["record"]["secret_state"], "previewed");
    assert_eq!(previewed["record"]["is_previewed"], true);
    assert!(previewed["record"]["previewed"].is_u64());
    assert_eq!(previewed["record"]["secret_identifier"], key.as_str());

    app.reveal_value(&key, None).await;
    let revealed = v2_ok(app.receipt_v2(&rkey).await).await;
    let record = &revealed["record"];
    assert_eq!(record["state"], "revealed");
    assert_eq!(record["is_revealed"], true);
    assert_eq!(record["is_received"], true);
    assert_eq!(record["is_destroyed"], true);
    assert!(record["revealed"].is_u64() && record["received"] == record["revealed"]);
    assert_eq!(record["secret_identifier"], "", "the key is gone with it");
    assert_eq!(record["share_url"], Value::Null);

    let second = app.conceal_v2(json!({"secret": "second"})).await;
    let (_, rkey) = v2_keys(&second);
    v2_ok(app.burn_v2(&rkey, None).await).await;
    let burned = v2_ok(app.receipt_v2(&rkey).await).await;
    let record = &burned["record"];
    assert_eq!(record["state"], "burned");
    assert_eq!(record["is_burned"], true);
    assert_eq!(record["is_destroyed"], true);
    assert!(record["burned"].is_u64(), "{record}");
    assert_eq!(record["revealed"], Value::Null);
}

#[tokio::test]
async fn only_the_owner_writes_the_memo_as_one_line_of_plain_text() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let bob = add_account(&app, "bob");
    let owner = app.as_account(&alice);
    let created = owner.conceal_v2(json!({"secret": "s"})).await;
    let (_, rkey) = v2_keys(&created);

    let set = v2_ok(
        owner
            .memo_v2(&rkey, &json!("  for   <b>bob</b>\n\tin accounts \r\n "))
            .await,
    )
    .await;
    assert_eq!(set["record"]["memo"], "for <b>bob</b> in accounts");

    let long = "m".repeat(600);
    let cut = v2_ok(owner.memo_v2(&rkey, &json!(long)).await).await;
    assert_eq!(cut["record"]["memo"], "m".repeat(500));
    let cut = v2_ok(owner.memo_v2(&rkey, &json!("é".repeat(600))).await).await;
    assert_eq!(
        cut["record"]["memo"],
        "é".repeat(500),
        "characters, not bytes"
    );

    let anonymous = app.memo_v2(&rkey, &json!("vandal")).await;
    v2_error(anonymous, 401, "Unauthorized", NOT_RECEIPT_OWNER, None).await;
    let other = app.as_account(&bob).memo_v2(&rkey, &json!("vandal")).await;
    v2_error(other, 401, "Unauthorized", NOT_RECEIPT_OWNER, None).await;
    let forged = app
        .as_account(&Account::new("alice", "not-her-token"))
        .memo_v2(&rkey, &json!("vandal"))
        .await;
    v2_error(forged, 401, "Unauthorized", NOT_AUTHORIZED, None).await;
    let guest = app
        .as_account(&alice)
        .request(
            reqwest::Method::PATCH,
            &v2(&format!("/guest/receipt/{rkey}")),
        )
        .json(&json!({"memo": "vandal"}))
        .await;
    v2_error(guest, 404, "NotFound", "Not Found", None).await;

    let read = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(
        read["record"]["memo"],
        "é".repeat(500),
        "no refusal changed it"
    );

    let anonymous_secret = app.conceal_v2(json!({"secret": "s"})).await;
    let (_, anonymous_rkey) = v2_keys(&anonymous_secret);
    for client in [&owner, &*app] {
        let resp = client.memo_v2(&anonymous_rkey, &json!("mine?")).await;
        v2_error(resp, 401, "Unauthorized", NOT_RECEIPT_OWNER, None).await;
    }
}

#[tokio::test]
async fn a_burn_needs_continue_and_then_burns_once() {
    let app = spawn_app().await;
    let created = app.conceal_v2(json!({"secret": "burn me"})).await;
    let (key, rkey) = v2_keys(&created);
    let path = format!("/receipt/{rkey}/burn");

    for body in [json!({}), json!({"continue": false})] {
        let (status, answer) = v2_answer(app.v2_post(&path, &body).await).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["success"], false, "{answer}");
        assert_eq!(answer["record"]["state"], "new");
    }
    assert_eq!(
        v2_ok(app.receipt_v2(&rkey).await).await["record"]["state"],
        "new",
        "kept"
    );

    let burned = v2_ok(app.v2_post(&path, &json!({"continue": "true"})).await).await;
    assert_eq!(burned["record"]["state"], "burned");
    assert_eq!(burned["details"]["title"], "Secret burned");
    v2_unknown(app.reveal_v2(&key, None).await).await;

    v2_unknown(app.burn_v2(&rkey, None).await).await;
    let revealed = app.conceal_v2(json!({"secret": "read"})).await;
    let (key, rkey) = v2_keys(&revealed);
    app.reveal_value(&key, None).await;
    v2_unknown(app.burn_v2(&rkey, None).await).await;
}

#[tokio::test]
async fn a_burn_with_a_wrong_passphrase_is_refused_and_keeps_the_secret() {
    let app = spawn_app().await;
    let created = app
        .conceal_v2(json!({"secret": "guarded", "passphrase": "right"}))
        .await;
    let (key, rkey) = v2_keys(&created);

    for attempt in [Some("wrong"), None] {
        let resp = app.burn_v2(&rkey, attempt).await;
        v2_error(
            resp,
            422,
            "FormError",
            INCORRECT_PASSPHRASE,
            Some("passphrase"),
        )
        .await;
    }

    assert_eq!(
        v2_ok(app.receipt_v2(&rkey).await).await["record"]["state"],
        "new"
    );
    v2_ok(app.burn_v2(&rkey, Some("right")).await).await;
    v2_unknown(app.reveal_v2(&key, Some("right")).await).await;
}

#[tokio::test]
async fn recent_lists_the_accounts_receipts_newest_change_first() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let bob = add_account(&app, "bob");
    let client = app.as_account(&alice);
    let older = v2_keys(&client.conceal_v2(json!({"secret": "a"})).await);
    let newer = v2_keys(&client.conceal_v2(json!({"secret": "b"})).await);
    app.as_account(&bob)
        .conceal_v2(json!({"secret": "bob's"}))
        .await;
    app.conceal_v2(json!({"secret": "anonymous"})).await;
    // `updated` counts seconds: change the older one a second later.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.reveal_value(&older.0, None).await;

    let recent = v2_ok(client.v2_get("/receipt/recent").await).await;

    assert_eq!(recent["custid"], "alice");
    assert_eq!(recent["count"], 2);
    let records = recent["records"].as_array().unwrap();
    let keys: Vec<&str> = records.iter().map(|r| text(r, "identifier")).collect();
    assert_eq!(keys, [older.1.as_str(), newer.1.as_str()]);
    assert!(records[0]["updated"].as_u64() > records[1]["updated"].as_u64());
    assert!(records.iter().all(|r| r["custid"] == "alice"));
    let details = &recent["details"];
    assert_eq!(details["has_items"], true);
    assert_eq!(details["revealed_receipts"].as_array().unwrap().len(), 1);
    assert_eq!(details["pending_receipts"].as_array().unwrap().len(), 1);

    for path in ["/receipt/recent", "/private/recent"] {
        let resp = app.v2_get(path).await;
        let body = v2_error(resp, 401, "Unauthorized", NOT_AUTHORIZED, None).await;
        assert_eq!(
            body,
            json!({"error": "Not authorized", "error_type": "Unauthorized"})
        );
    }
}
