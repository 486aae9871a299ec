//! Spec §3 recent and authcheck: an account's own receipts, newest first, without
//! secret keys; never another account's; anonymous callers are not authorized.

use crate::common::*;
use serde_json::Value;
use std::time::Duration;

/// The caller's `recent` listing on `path`; panics unless 200 with an array.
async fn recent(app: &TestApp, path: &str, account: &Account) -> Vec<Value> {
    let body = ok_json(app.as_account(account).get(path).await).await;
    body.as_array()
        .unwrap_or_else(|| panic!("recent is an array: {body}"))
        .clone()
}

fn metadata_keys(listing: &[Value]) -> Vec<String> {
    listing
        .iter()
        .map(|r| text(r, "metadata_key").to_owned())
        .collect()
}

/// Waits until the Unix clock shows the next second, so that what is created next
/// is strictly newer than what came before.
async fn next_second() {
    sleep_until_unix(unix_now() + 1, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn recent_lists_only_the_callers_receipts_newest_first_without_secret_keys() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice@example.com");
    let bob = add_account(&app, "bob@example.com");
    let mut alices = Vec::new();
    let mut bobs = Vec::new();

    alices.push(app.as_account(&alice).share(&[("secret", "a1")]).await);
    bobs.push(app.as_account(&bob).share(&[("secret", "b1")]).await);
    app.share(&[("secret", "anonymous")]).await;
    next_second().await;
    alices.push(ok_json(app.as_account(&alice).post_form(GENERATE, &[]).await).await);
    bobs.push(app.as_account(&bob).share(&[("secret", "b2")]).await);
    next_second().await;
    alices.push(
        app.as_account(&alice)
            .share(&[("secret", "a3"), ("passphrase", "pass")])
            .await,
    );

    for path in RECENT {
        for (account, created) in [(&alice, &alices), (&bob, &bobs)] {
            let listing = recent(&app, path, account).await;
            let newest_first: Vec<String> = created
                .iter()
                .rev()
                .map(|m| text(m, "metadata_key").to_owned())
                .collect();
            assert_eq!(
                metadata_keys(&listing),
                newest_first,
                "{path} of {}",
                account.name
            );
            for receipt in &listing {
                let object = receipt.as_object().expect("an object");
                assert_eq!(receipt["custid"], account.name.as_str(), "{receipt}");
                assert!(
                    !object.contains_key("secret_key"),
                    "no secret_key: {receipt}"
                );
                assert!(!object.contains_key("value"), "no value: {receipt}");
                assert!(
                    !object.contains_key("passphrase_required"),
                    "no passphrase_required: {receipt}"
                );
                assert_eq!(receipt["secret_ttl"], Value::Null, "{receipt}");
                assert_eq!(receipt["state"], "new", "{receipt}");
            }
        }
    }
}

#[tokio::test]
async fn recent_is_not_authorized_for_anonymous_callers() {
    let app = spawn_app().await;
    app.share(&[("secret", "anonymous")]).await;

    for path in RECENT {
        assert_not_authorized(app.get(path).await).await;
        assert_not_authorized(app.authorization(b"Basic Og==").get(path).await).await;
    }
}

#[tokio::test]
async fn recent_of_an_account_with_nothing_created_is_empty_even_when_others_created() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let bob = add_account(&app, "bob");
    app.as_account(&alice).share(&[("secret", "alice's")]).await;
    app.share(&[("secret", "anonymous")]).await;

    for path in RECENT {
        assert_eq!(
            recent(&app, path, &bob).await,
            Vec::<Value>::new(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn recent_shows_the_current_state_of_each_receipt() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let received = app.as_account(&alice).share(&[("secret", "to read")]).await;
    let burned = app.as_account(&alice).share(&[("secret", "to burn")]).await;
    let fresh = app
        .as_account(&alice)
        .share(&[("secret", "untouched")])
        .await;
    ok_json(app.reveal(text(&received, "secret_key"), None).await).await;
    ok_json(app.burn(text(&burned, "metadata_key"), None).await).await;

    let listing = recent(&app, RECENT[0], &alice).await;

    let state_of = |meta: &Value| {
        let key = text(meta, "metadata_key");
        let r = listing
            .iter()
            .find(|r| r["metadata_key"] == key)
            .unwrap_or_else(|| panic!("{key} listed in {listing:?}"));
        r["state"].as_str().expect("a state").to_owned()
    };
    assert_eq!(listing.len(), 3);
    assert_eq!(state_of(&received), "received");
    assert_eq!(state_of(&burned), "burned");
    assert_eq!(state_of(&fresh), "new");
}

#[tokio::test]
async fn authcheck_answers_only_for_valid_credentials() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");

    let body = ok_json(app.as_account(&alice).get(AUTHCHECK).await).await;

    assert_eq!(
        body,
        serde_json::json!({"status": "nominal", "locale": "en"})
    );
    assert_not_authorized(app.get(AUTHCHECK).await).await;
    assert_not_authorized(app.authorization(b"Basic Og==").get(AUTHCHECK).await).await;
}

#[tokio::test]
async fn a_new_account_with_a_removed_accounts_name_does_not_see_its_receipts() {
    let app = spawn_app().await;
    let first = add_account(&app, "carol");
    app.as_account(&first)
        .share(&[("secret", "the first carol's")])
        .await;
    remove_account(&app, &first);
    next_second().await;

    let second = add_account(&app, "carol");

    for path in RECENT {
        assert_eq!(
            recent(&app, path, &second).await,
            Vec::<Value>::new(),
            "{path}: another person may hold the name now"
        );
    }
}

/// `created` counts whole seconds; receipts made within one second are still
/// listed newest first.
#[tokio::test]
async fn recent_is_newest_first_even_within_one_second() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let mut created = Vec::new();
    for i in 0..6 {
        let meta = app
            .as_account(&alice)
            .share(&[("secret", &format!("s{i}"))])
            .await;
        created.push(text(&meta, "metadata_key").to_owned());
    }
    created.reverse();

    assert_eq!(
        metadata_keys(&recent(&app, RECENT[0], &alice).await),
        created
    );
}
