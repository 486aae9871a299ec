//! API v2 §1, §4, §12: who is calling. Routes that take credentials refuse
//! bad ones (never acting as anonymous), guest routes and the meta routes
//! ignore them, `version` and `recent` need an account, and an account is
//! known by its name or its extid (what the official client sends). §4, §5:
//! a closed instance and custom share domains refuse anonymous creates.

use serde_json::json;

use crate::common::*;

const UNAUTHORIZED: &str = r#"{"error":"Not authorized","error_type":"Unauthorized"}"#;
const SHARE_DOMAIN: &str = "share.example.com";

async fn assert_unauthorized(resp: reqwest::Response, what: &str) {
    let (status, body) = v2_answer(resp).await;
    assert_eq!(status, 401, "{what}: {body}");
    assert_eq!(
        body,
        serde_json::from_str::<serde_json::Value>(UNAUTHORIZED).unwrap(),
        "{what}"
    );
}

#[tokio::test]
async fn routes_taking_credentials_refuse_bad_ones_and_never_act_as_anonymous() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let created = app
        .as_account(&alice)
        .conceal_v2(json!({"secret": "kept"}))
        .await;
    let (key, rkey) = v2_keys(&created);
    let callers = [
        app.as_account(&Account::new("alice", "not-her-token")),
        app.as_account(&Account::new("nobody", "x")),
        app.authorization(b"Basic !!not base64!!"),
        app.authorization(b"Bearer sometoken"),
    ];
    let reveal = json!({"continue": true});
    let secret = json!({"secret": {"secret": "s"}});

    for client in &callers {
        use reqwest::Method;
        let calls = [
            client.v2_post("/secret/conceal", &secret),
            client.v2_post("/secret/generate", &json!({})),
            client.v2_get(&format!("/secret/{key}")),
            client.v2_post(&format!("/secret/{key}/reveal"), &reveal),
            client.v2_get(&format!("/secret/{key}/status")),
            client.v2_post("/secret/status", &json!({"identifiers": key})),
            client.v2_get(&format!("/receipt/{rkey}")),
            client.v2_get(&format!("/private/{rkey}")),
            client
                .request(Method::PATCH, &v2(&format!("/receipt/{rkey}")))
                .json(&json!({"memo": "m"})),
            client.v2_post(&format!("/receipt/{rkey}/burn"), &reveal),
            client.v2_post(&format!("/private/{rkey}/burn"), &reveal),
            client.v2_get("/receipt/recent"),
            client.v2_get("/private/recent"),
            client.v2_get("/version"),
        ];
        for call in calls {
            assert_unauthorized(call.await, "a bad credential").await;
        }
    }

    assert_eq!(app.reveal_value(&key, None).await, "kept");
    assert_eq!(app.stop_and_count_records().await, (0, 1), "nothing made");
}

#[tokio::test]
async fn guest_and_meta_routes_ignore_credentials_even_bad_ones() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let bad = app.as_account(&Account::new("alice", "not-her-token"));
    let good = app.as_account(&alice);

    for client in [&bad, &good] {
        let created = v2_ok(
            client
                .v2_post("/guest/secret/conceal", &json!({"secret": {"secret": "g"}}))
                .await,
        )
        .await;
        assert_eq!(created["record"]["receipt"]["custid"], "anon");
        assert_eq!(
            created["record"]["receipt"]["owner_id"],
            serde_json::Value::Null
        );
        let generated = v2_ok(
            client
                .v2_post("/guest/secret/generate", &json!({"secret": {}}))
                .await,
        )
        .await;
        assert_eq!(generated["record"]["receipt"]["custid"], "anon");
        let (key, rkey) = v2_keys(&created);
        v2_ok(client.v2_get(&format!("/guest/secret/{key}")).await).await;
        v2_ok(client.v2_get(&format!("/guest/receipt/{rkey}")).await).await;
        let revealed = v2_ok(
            client
                .v2_post(
                    &format!("/guest/secret/{key}/reveal"),
                    &json!({"continue": true}),
                )
                .await,
        )
        .await;
        assert_eq!(revealed["details"]["is_owner"], false);
        let (_, rkey) = v2_keys(&generated);
        v2_ok(
            client
                .v2_post(
                    &format!("/guest/receipt/{rkey}/burn"),
                    &json!({"continue": true}),
                )
                .await,
        )
        .await;
        v2_ok(client.v2_get("/status").await).await;
        v2_ok(client.v2_get("/supported-locales").await).await;
    }
}

#[tokio::test]
async fn version_and_recent_need_an_account() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");

    assert_unauthorized(app.v2_get("/version").await, "anonymous version").await;
    assert_unauthorized(app.v2_get("/receipt/recent").await, "anonymous recent").await;
    assert_unauthorized(
        app.authorization(b"Basic Og==").v2_get("/version").await,
        "the anonymous Basic",
    )
    .await;
    v2_ok(app.as_account(&alice).v2_get("/version").await).await;
    v2_ok(app.as_account(&alice).v2_get("/receipt/recent").await).await;
}

#[tokio::test]
async fn an_accounts_extid_works_as_its_basic_user_name_in_any_case() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    assert!(
        alice.extid.starts_with("ur") && alice.extid.len() > 2,
        "an extid: {:?}",
        alice.extid
    );

    for user in [alice.extid.clone(), alice.extid.to_uppercase()] {
        let client = app.as_account(&Account::new(&user, &alice.token));
        let created = client.conceal_v2(json!({"secret": "s"})).await;
        assert_eq!(created["record"]["receipt"]["custid"], "alice", "{user}");
        assert_eq!(created["record"]["receipt"]["owner_id"], "alice", "{user}");
        let recent = v2_ok(client.v2_get("/receipt/recent").await).await;
        assert_eq!(recent["custid"], "alice");
        ok_json(client.get(AUTHCHECK).await).await;
    }

    let made_up = format!("ur{}", "x".repeat(alice.extid.len() - 2));
    for user in [made_up.as_str(), "urxxxx"] {
        let client = app.as_account(&Account::new(user, &alice.token));
        assert_unauthorized(
            client
                .post_json(V2_CONCEAL, &json!({"secret": {"secret": "s"}}))
                .await,
            user,
        )
        .await;
    }
    let wrong_token = app.as_account(&Account::new(&alice.extid, "not-her-token"));
    assert_unauthorized(wrong_token.v2_get("/version").await, "extid, wrong token").await;
}

#[tokio::test]
async fn a_closed_instance_refuses_anonymous_creates_as_guest_routes_disabled() {
    let app = spawn_app_with(|s| s.anonymous_create = false).await;
    let alice = add_account(&app, "alice");

    for (path, code) in [
        ("/secret/conceal", "GUEST_CONCEAL_DISABLED"),
        ("/secret/generate", "GUEST_GENERATE_DISABLED"),
        ("/guest/secret/conceal", "GUEST_CONCEAL_DISABLED"),
        ("/guest/secret/generate", "GUEST_GENERATE_DISABLED"),
    ] {
        let resp = app.v2_post(path, &json!({"secret": {"secret": "s"}})).await;
        let body = v2_error(
            resp,
            403,
            "GuestRoutesDisabled",
            "An account is required to create secrets on this server.",
            None,
        )
        .await;
        assert_eq!(body["code"], code, "{path}");
    }
    let created = app
        .as_account(&alice)
        .conceal_v2(json!({"secret": "for anyone with the link"}))
        .await;
    let (key, _) = v2_keys(&created);
    let revealed = v2_ok(app.reveal_v2(&key, None).await).await;
    assert_eq!(
        revealed["record"]["secret_value"],
        "for anyone with the link"
    );
    assert_eq!(
        app.stop_and_count_records().await,
        (0, 1),
        "only the account's secret was made (and revealed)"
    );
}

#[tokio::test]
async fn a_custom_share_domain_is_for_accounts_and_an_unknown_one_for_no_one() {
    let app = spawn_app_with(|s| s.share_domains = vec![SHARE_DOMAIN.into()]).await;
    let alice = add_account(&app, "alice");
    let with = |domain: &str| json!({"secret": {"secret": "s", "share_domain": domain}});

    let resp = app.post_json(V2_CONCEAL, &with(SHARE_DOMAIN)).await;
    v2_error(
        resp,
        403,
        "Forbidden",
        &format!("You do not have permission to use domain: {SHARE_DOMAIN}"),
        Some("share_domain"),
    )
    .await;
    let resp = app
        .as_account(&alice)
        .post_json(V2_CONCEAL, &with("elsewhere.example.org"))
        .await;
    v2_error(
        resp,
        422,
        "FormError",
        "Unknown domain: elsewhere.example.org",
        Some("share_domain"),
    )
    .await;

    let created = v2_ok(
        app.as_account(&alice)
            .post_json(V2_CONCEAL, &with(SHARE_DOMAIN))
            .await,
    )
    .await;
    assert_eq!(created["record"]["share_domain"], SHARE_DOMAIN);
    assert_eq!(created["record"]["receipt"]["share_domain"], SHARE_DOMAIN);
    let (key, rkey) = v2_keys(&created);
    let read = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(
        read["record"]["share_url"],
        format!("https://{SHARE_DOMAIN}/secret/{key}")
    );
    assert_eq!(app.stop_and_count_records().await, (1, 1));
}
