//! Spec §4 limits by caller: `limits.anonymous` and `limits.authenticated` each
//! apply to their own kind of caller (TTL, size, passphrase policy); and a closed
//! instance (`anonymous_create = false`) where only accounts create.

use crate::common::*;

/// Anonymous and authenticated limits that differ in every field.
fn distinct_limits(s: &mut otsd::Settings) {
    let a = &mut s.limits.anonymous;
    a.default_ttl = 600;
    a.max_ttl = 3600;
    a.max_secret_bytes = 10;
    a.passphrase_min_length = 8;
    a.passphrase_required = true;
    let b = &mut s.limits.authenticated;
    b.default_ttl = 1200;
    b.max_ttl = 7200;
    b.max_secret_bytes = 20;
    b.passphrase_min_length = 3;
    b.passphrase_required = false;
}

/// Stops `app` and asserts that it stored the one secret it accepted, no other.
async fn assert_only_the_accepted_one_is_stored(app: TestApp) {
    assert_eq!(
        app.stop_and_count_records().await,
        (1, 1),
        "only the accepted one"
    );
}

/// A passphrase both kinds of caller accept.
const LONG_PASS: &str = "long enough passphrase";

#[tokio::test]
async fn max_ttl_is_the_callers_own() {
    let app = spawn_app_with(distinct_limits).await;
    let alice = add_account(&app, "alice");
    let form = [
        ("secret", "ttl"),
        ("ttl", "999999"),
        ("passphrase", LONG_PASS),
    ];

    let anonymous = app.share(&form).await;
    let account = app.as_account(&alice).share(&form).await;
    let anonymous_generated = ok_json(app.post_form(GENERATE, &form[1..]).await).await;
    let account_generated =
        ok_json(app.as_account(&alice).post_form(GENERATE, &form[1..]).await).await;

    assert_eq!(
        anonymous["ttl"], 3600,
        "clamped to limits.anonymous.max_ttl"
    );
    assert_eq!(
        account["ttl"], 7200,
        "clamped to limits.authenticated.max_ttl"
    );
    assert_eq!(anonymous_generated["ttl"], 3600);
    assert_eq!(account_generated["ttl"], 7200);
}

#[tokio::test]
async fn default_ttl_is_the_callers_own() {
    let app = spawn_app_with(distinct_limits).await;
    let alice = add_account(&app, "alice");
    let form = [("secret", "ttl"), ("passphrase", LONG_PASS)];

    let anonymous = app.share(&form).await;
    let account = app.as_account(&alice).share(&form).await;

    assert_eq!(anonymous["ttl"], 600, "limits.anonymous.default_ttl");
    assert_eq!(account["ttl"], 1200, "limits.authenticated.default_ttl");
}

#[tokio::test]
async fn max_secret_size_is_the_callers_own_and_a_refused_secret_is_not_stored() {
    let app = spawn_app_with(distinct_limits).await;
    let alice = add_account(&app, "alice");
    let (x15, y21) = ("x".repeat(15), "y".repeat(21));
    let fifteen = [("secret", x15.as_str()), ("passphrase", LONG_PASS)];
    let twenty_one = [("secret", y21.as_str()), ("passphrase", LONG_PASS)];

    let anonymous = app.post_form(SHARE, &fifteen).await;
    let account = app.as_account(&alice).post_form(SHARE, &fifteen).await;
    let account_too_large = app.as_account(&alice).post_form(SHARE, &twenty_one).await;

    assert_error(
        anonymous,
        413,
        "Secret value exceeds the maximum size of 10 bytes",
    )
    .await;
    assert_eq!(ok_json(account).await["custid"], "alice");
    assert_error(
        account_too_large,
        413,
        "Secret value exceeds the maximum size of 20 bytes",
    )
    .await;
    assert_only_the_accepted_one_is_stored(app).await;
}

#[tokio::test]
async fn passphrase_min_length_is_the_callers_own() {
    let app = spawn_app_with(distinct_limits).await;
    let alice = add_account(&app, "alice");
    let form = [("secret", "short pass"), ("passphrase", "abcd")];

    let anonymous = app.post_form(SHARE, &form).await;
    let account = app.as_account(&alice).post_form(SHARE, &form).await;
    let account_too_short = app
        .as_account(&alice)
        .post_form(SHARE, &[("secret", "s"), ("passphrase", "ab")])
        .await;

    assert_error(
        anonymous,
        400,
        "Passphrase must be at least 8 characters long",
    )
    .await;
    let meta = ok_json(account).await;
    assert_eq!(meta["passphrase_required"], true);
    assert_error(
        account_too_short,
        400,
        "Passphrase must be at least 3 characters long",
    )
    .await;
    assert_only_the_accepted_one_is_stored(app).await;
}

#[tokio::test]
async fn passphrase_required_is_the_callers_own() {
    let app = spawn_app_with(distinct_limits).await;
    let alice = add_account(&app, "alice");

    let anonymous = app.post_form(SHARE, &[("secret", "bare")]).await;
    let anonymous_generate = app.post_form(GENERATE, &[]).await;
    let account = app
        .as_account(&alice)
        .post_form(SHARE, &[("secret", "bare")])
        .await;

    assert_error(anonymous, 400, "A passphrase is required").await;
    assert_error(anonymous_generate, 400, "A passphrase is required").await;
    assert_eq!(ok_json(account).await["passphrase_required"], false);
}

#[tokio::test]
async fn the_same_limits_for_accounts_can_be_stricter_than_for_anonymous_callers() {
    // The sections are independent both ways, not "accounts get more".
    let app = spawn_app_with(|s| {
        s.limits.authenticated.passphrase_required = true;
        s.limits.authenticated.max_secret_bytes = 5;
    })
    .await;
    let alice = add_account(&app, "alice");

    let account = app
        .as_account(&alice)
        .post_form(SHARE, &[("secret", "abc")])
        .await;
    let anonymous = app.share(&[("secret", "longer than five")]).await;

    assert_error(account, 400, "A passphrase is required").await;
    assert_eq!(anonymous["passphrase_required"], false);
}

#[tokio::test]
async fn a_closed_instance_refuses_anonymous_creators_but_accounts_create_and_anyone_reveals() {
    let app = spawn_app_with(|s| s.anonymous_create = false).await;
    let alice = add_account(&app, "alice");
    let refusal = "An account is required to create secrets on this server.";

    assert_error(app.post_form(SHARE, &[("secret", "s")]).await, 401, refusal).await;
    assert_error(
        app.post_form("/api/v1/create", &[("secret", "s")]).await,
        401,
        refusal,
    )
    .await;
    assert_error(app.post_form(GENERATE, &[]).await, 401, refusal).await;
    let og = app
        .authorization(b"Basic Og==")
        .post_form(SHARE, &[("secret", "s")])
        .await;
    assert_error(og, 401, refusal).await;

    let shared = app
        .as_account(&alice)
        .share(&[("secret", "closed but readable")])
        .await;
    let generated = ok_json(app.as_account(&alice).post_form(GENERATE, &[]).await).await;
    let receipt = ok_json(app.metadata(text(&shared, "metadata_key")).await).await;
    let value = app.reveal_value(text(&shared, "secret_key"), None).await;
    let generated_value = app.reveal_value(text(&generated, "secret_key"), None).await;

    assert_eq!(
        receipt["custid"], "alice",
        "anyone with the key reads the receipt"
    );
    assert_eq!(value, "closed but readable", "anyone with the link reveals");
    assert_eq!(generated_value, text(&generated, "value"));
    assert_eq!(
        app.stop_and_count_records().await,
        (0, 2),
        "the refused requests stored nothing"
    );
}
