//! Spec §4 rate limits: fixed windows per client address and per account, for
//! each action (create, reveal, metadata/burn, failed passphrases per secret and
//! address). The request that crosses a limit is refused with the rate-limit
//! message (intended 429) and changes nothing. Email limits are tested with email.

use crate::common::*;
use std::time::Duration;

/// Client addresses (documentation ranges), named by `X-Forwarded-For` through the
/// trusted proxy that the test is.
const A: &str = "198.51.100.1";
const B: &str = "198.51.100.2";
const C: &str = "198.51.100.3";

/// A well-formed key (52 characters of the key alphabet) that was never
/// issued: it reaches the service, which counts it. (A malformed one is
/// refused by the path's parser before anything is looked up or counted.)
const UNISSUED: &str = "0000000000000000000000000000000000000000000000000000";

#[tokio::test]
async fn the_create_that_crosses_the_limit_is_refused_and_stores_nothing() {
    let app = spawn_app_with(|s| {
        s.rate_limits.window_secs = WINDOW;
        s.rate_limits.create = 2;
    })
    .await;
    app.share(&[("secret", "one")]).await;
    ok_json(app.post_form(GENERATE, &[]).await).await;

    assert_rate_limited(app.post_form(SHARE, &[("secret", "three")]).await).await;
    assert_rate_limited(
        app.post_form("/api/v1/create", &[("secret", "three")])
            .await,
    )
    .await;
    assert_rate_limited(app.post_form(GENERATE, &[]).await).await;

    assert_eq!(app.stop_and_count_records().await, (2, 2));
}

#[tokio::test]
async fn create_is_limited_per_address_across_accounts() {
    let app = spawn_app_with(|s| {
        s.rate_limits.window_secs = WINDOW;
        s.rate_limits.create = 2;
    })
    .await;
    let alice = add_account(&app, "alice");
    let bob = add_account(&app, "bob");
    app.as_account(&alice).share(&[("secret", "alice's")]).await;
    app.as_account(&bob).share(&[("secret", "bob's")]).await;

    let alice_again = app
        .as_account(&alice)
        .post_form(SHARE, &[("secret", "s")])
        .await;
    let anonymous = app.post_form(SHARE, &[("secret", "s")]).await;

    assert_rate_limited(alice_again).await;
    assert_rate_limited(anonymous).await;
    assert_eq!(app.stop_and_count_records().await, (2, 2));
}

#[tokio::test]
async fn create_is_limited_per_account_across_addresses() {
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.create = 2;
    })
    .await;
    let alice = add_account(&app, "alice");
    let bob = add_account(&app, "bob");
    let share_from = |ip: &'static str, who: Option<&Account>| {
        app.forwarded_for(ip)
            .as_caller(who)
            .post_form(SHARE, &[("secret", "s")])
    };
    ok_json(share_from(A, Some(&alice)).await).await;
    ok_json(share_from(B, Some(&alice)).await).await;

    // Alice has used her allowance, whatever address she comes from.
    assert_rate_limited(share_from(C, Some(&alice)).await).await;
    // Her refused request counted nothing against C: C still has its whole allowance.
    ok_json(share_from(C, None).await).await;
    ok_json(share_from(C, None).await).await;
    assert_rate_limited(share_from(C, None).await).await;
    // Bob is not limited by Alice's account; A has one request left.
    ok_json(share_from(A, Some(&bob)).await).await;

    assert_eq!(app.stop_and_count_records().await, (5, 5));
}

#[tokio::test]
async fn a_reveal_refused_by_the_limit_leaves_the_secret_revealable() {
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.reveal = 2;
    })
    .await;
    let first = app.share(&[("secret", "first")]).await;
    let second = app.share(&[("secret", "second")]).await;

    // Reads of unknown keys count.
    let unknown = app.forwarded_for(A).reveal(UNISSUED, None).await;
    assert_error(unknown, 404, "Unknown secret").await;
    let value = app
        .forwarded_for(A)
        .reveal_value(text(&first, "secret_key"), None)
        .await;
    assert_eq!(value, "first");
    let refused = app
        .forwarded_for(A)
        .reveal(text(&second, "secret_key"), None)
        .await;
    assert_rate_limited(refused).await;

    let receipt = ok_json(app.metadata(text(&second, "metadata_key")).await).await;
    assert_eq!(
        receipt["state"], "new",
        "the refused reveal changed nothing"
    );
    let later = app
        .forwarded_for(B)
        .reveal_value(text(&second, "secret_key"), None)
        .await;
    assert_eq!(later, "second");
}

#[tokio::test]
async fn metadata_reads_burns_and_recent_share_one_limit_and_a_refused_burn_destroys_nothing() {
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.metadata = 3;
    })
    .await;
    let alice = add_account(&app, "alice");
    let meta = app
        .as_account(&alice)
        .share(&[("secret", "not burned")])
        .await;
    let metadata_key = text(&meta, "metadata_key");

    ok_json(app.as_account(&alice).forwarded_for(A).get(RECENT[0]).await).await;
    ok_json(
        app.as_account(&alice)
            .forwarded_for(A)
            .metadata(metadata_key)
            .await,
    )
    .await;
    let alias = app
        .as_account(&alice)
        .forwarded_for(A)
        .post_form(&format!("/api/v1/metadata/{metadata_key}"), &[])
        .await;
    ok_json(alias).await;

    assert_rate_limited(
        app.as_account(&alice)
            .forwarded_for(A)
            .burn(metadata_key, None)
            .await,
    )
    .await;
    assert_rate_limited(app.as_account(&alice).forwarded_for(B).get(RECENT[1]).await).await;
    assert_rate_limited(app.forwarded_for(A).metadata(metadata_key).await).await;

    let receipt = ok_json(app.forwarded_for(B).metadata(metadata_key).await).await;
    assert_eq!(
        receipt["state"], "new",
        "the refused burn destroyed nothing"
    );
    let value = app.reveal_value(text(&meta, "secret_key"), None).await;
    assert_eq!(value, "not burned");
}

#[tokio::test]
async fn failed_passphrases_are_limited_per_secret_and_address() {
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.failed_passphrase = 2;
    })
    .await;
    let locked = app
        .share(&[("secret", "guarded"), ("passphrase", "right")])
        .await;
    let other = app
        .share(&[("secret", "other"), ("passphrase", "right")])
        .await;
    let key = text(&locked, "secret_key");

    let wrong = app.forwarded_for(A).reveal(key, Some("wrong")).await;
    assert_error(wrong, 404, "Unknown secret").await;
    let missing = app.forwarded_for(A).reveal(key, None).await;
    assert_error(missing, 404, "Unknown secret").await;

    let right_but_limited = app.forwarded_for(A).reveal(key, Some("right")).await;
    assert_rate_limited(right_but_limited).await;
    // Another secret from the same address is not affected.
    let other_wrong = app
        .forwarded_for(A)
        .reveal(text(&other, "secret_key"), Some("wrong"))
        .await;
    assert_error(other_wrong, 404, "Unknown secret").await;
    // The secret itself is intact for another address.
    let from_b = app.forwarded_for(B).reveal_value(key, Some("right")).await;
    assert_eq!(from_b, "guarded");
}

#[tokio::test]
async fn failed_passphrases_on_burn_are_limited_and_the_refused_burn_destroys_nothing() {
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.failed_passphrase = 2;
    })
    .await;
    let meta = app
        .share(&[("secret", "guarded"), ("passphrase", "right")])
        .await;
    let metadata_key = text(&meta, "metadata_key");

    for _ in 0..2 {
        let wrong = app.forwarded_for(A).burn(metadata_key, Some("wrong")).await;
        assert_error(wrong, 400, "Incorrect passphrase").await;
    }
    let right_but_limited = app.forwarded_for(A).burn(metadata_key, Some("right")).await;
    assert_rate_limited(right_but_limited).await;

    let receipt = ok_json(app.metadata(metadata_key).await).await;
    assert_eq!(receipt["state"], "new");
    let from_b = app.forwarded_for(B).burn(metadata_key, Some("right")).await;
    assert_eq!(ok_json(from_b).await["state"]["state"], "burned");
}

#[tokio::test]
async fn exempt_accounts_skip_create_reveal_and_metadata_limits_but_not_failed_passphrases() {
    let app = spawn_app_with(|s| {
        s.rate_limits.window_secs = WINDOW;
        s.rate_limits.create = 1;
        s.rate_limits.reveal = 1;
        s.rate_limits.metadata = 1;
        s.rate_limits.failed_passphrase = 1;
        s.rate_limits.exempt_accounts = true;
    })
    .await;
    let alice = add_account(&app, "alice");
    let mut secrets = Vec::new();
    for i in 0..5 {
        secrets.push(
            app.as_account(&alice)
                .share(&[("secret", &format!("s{i}"))])
                .await,
        );
    }
    for meta in &secrets[..3] {
        ok_json(
            app.as_account(&alice)
                .metadata(text(meta, "metadata_key"))
                .await,
        )
        .await;
        ok_json(app.as_account(&alice).get(RECENT[0]).await).await;
        let revealed = app
            .as_account(&alice)
            .reveal(text(meta, "secret_key"), None)
            .await;
        ok_json(revealed).await;
    }

    // Alice's requests counted nothing against the address: anonymous callers from
    // it still get their allowance, and no more.
    app.share(&[("secret", "anonymous")]).await;
    assert_rate_limited(app.post_form(SHARE, &[("secret", "again")]).await).await;
    ok_json(app.reveal(text(&secrets[3], "secret_key"), None).await).await;
    assert_rate_limited(app.reveal(text(&secrets[4], "secret_key"), None).await).await;

    // Failed passphrases are limited for accounts too.
    let guarded = app
        .as_account(&alice)
        .share(&[("secret", "g"), ("passphrase", "right")])
        .await;
    let key = text(&guarded, "secret_key");
    let wrong = app.as_account(&alice).reveal(key, Some("wrong")).await;
    assert_error(wrong, 404, "Unknown secret").await;
    assert_rate_limited(app.as_account(&alice).reveal(key, Some("right")).await).await;
}

#[tokio::test]
async fn disabled_rate_limits_refuse_nothing() {
    let app = spawn_app_with(|s| {
        s.rate_limits.enabled = false;
        s.rate_limits.window_secs = WINDOW;
        s.rate_limits.create = 1;
        s.rate_limits.reveal = 1;
        s.rate_limits.metadata = 1;
        s.rate_limits.failed_passphrase = 1;
    })
    .await;
    let alice = add_account(&app, "alice");

    let mut secrets = Vec::new();
    for i in 0..3 {
        secrets.push(
            app.share(&[("secret", &format!("s{i}")), ("passphrase", "right")])
                .await,
        );
    }
    app.as_account(&alice).share(&[("secret", "alice's")]).await;
    for meta in &secrets {
        ok_json(app.metadata(text(meta, "metadata_key")).await).await;
        ok_json(app.as_account(&alice).get(RECENT[0]).await).await;
        assert_error(app.reveal(UNISSUED, None).await, 404, "Unknown secret").await;
    }
    let key = text(&secrets[0], "secret_key");
    for _ in 0..3 {
        assert_error(app.reveal(key, Some("wrong")).await, 404, "Unknown secret").await;
    }
    for meta in &secrets {
        let value = app
            .reveal_value(text(meta, "secret_key"), Some("right"))
            .await;
        assert!(value.starts_with('s'), "{value}");
    }
}

#[tokio::test]
async fn a_new_window_starts_with_fresh_counters() {
    let window = 2;
    let app = spawn_app_with(|s| {
        s.rate_limits.window_secs = window;
        s.rate_limits.create = 1;
    })
    .await;
    let limit = Duration::from_secs(window + 1);
    // Start right after a window begins, so the next two requests share it.
    let start = (unix_now() / window + 1) * window;
    sleep_until_unix(start, limit).await;

    app.share(&[("secret", "first")]).await;
    assert_rate_limited(app.post_form(SHARE, &[("secret", "second")]).await).await;

    sleep_until_unix(start + window, limit).await;
    app.share(&[("secret", "in the next window")]).await;
}

#[tokio::test]
async fn concurrent_wrong_passphrases_cannot_exceed_the_failed_attempt_limit() {
    const LIMIT: usize = 2;
    const ATTEMPTS: usize = 24;
    let app = spawn_app_with(|s| {
        s.rate_limits.window_secs = WINDOW;
        s.rate_limits.failed_passphrase = LIMIT as u32;
        s.workers = 4;
    })
    .await;
    let meta = app
        .share(&[("secret", "guarded"), ("passphrase", "right")])
        .await;
    let key = text(&meta, "secret_key");

    let attempts = (0..ATTEMPTS).map(|i| {
        let guess = format!("guess {i}");
        let request = app.reveal(key, Some(&guess));
        async move { request.await }
    });
    let answers = futures_util::future::join_all(attempts).await;

    let mut tried = 0;
    for resp in answers {
        let intended = resp.headers()["x-ots-intended-status"].clone();
        if intended == "429" {
            assert_rate_limited(resp).await;
        } else {
            assert_error(resp, 404, "Unknown secret").await;
            tried += 1;
        }
    }
    assert_eq!(tried, LIMIT, "concurrent guesses tried, of {ATTEMPTS}");
}

#[tokio::test]
async fn attempts_that_are_not_wrong_passphrases_do_not_use_up_the_failed_attempt_allowance() {
    let app = spawn_app_with(|s| {
        s.rate_limits.window_secs = WINDOW;
        s.rate_limits.failed_passphrase = 1;
    })
    .await;
    let read = app
        .share(&[("secret", "read"), ("passphrase", "right")])
        .await;
    let key = text(&read, "secret_key");

    assert_eq!(app.reveal_value(key, Some("right")).await, "read");
    for _ in 0..3 {
        // Gone now: an unknown secret, not a failed passphrase.
        assert_error(app.reveal(key, Some("right")).await, 404, "Unknown secret").await;
    }

    let guarded = app
        .share(&[("secret", "guarded"), ("passphrase", "right")])
        .await;
    let key = text(&guarded, "secret_key");
    assert_error(app.reveal(key, Some("wrong")).await, 404, "Unknown secret").await;
    assert_rate_limited(app.reveal(key, Some("right")).await).await;
}

#[tokio::test]
async fn a_full_table_of_clients_locks_out_no_client_it_never_saw() {
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.max_tracked = 50;
        s.rate_limits.create = 5;
        s.rate_limits.reveal = 5;
    })
    .await;
    // Distinct addresses, one read of an unknown key each, fill the table.
    for i in 0..120u32 {
        let ip = format!("198.18.{}.{}", i / 200, i % 200 + 1);
        let resp = app.forwarded_for(&ip).reveal(UNISSUED, None).await;
        assert_error(resp, 404, "Unknown secret").await;
    }
    // One client past the table uses up its allowance: it is still limited.
    let heavy = "203.0.113.50";
    for _ in 0..5 {
        ok_json(
            app.forwarded_for(heavy)
                .post_form(SHARE, &[("secret", "s")])
                .await,
        )
        .await;
    }
    assert_rate_limited(
        app.forwarded_for(heavy)
            .post_form(SHARE, &[("secret", "s")])
            .await,
    )
    .await;

    // Clients never seen before create and reveal, over the API and the web page.
    for fresh in [Some("203.0.113.77"), Some("2001:db8:77::1"), None] {
        let client = app.maybe_forwarded_for(fresh);
        let meta = client.share(&[("secret", "fresh")]).await;
        let key = text(&meta, "secret_key");
        let shown = app.get(&format!("/secret/{key}")).await;
        assert_eq!(shown.status(), 200, "the web reveal page for {fresh:?}");
        assert_eq!(client.reveal_value(key, None).await, "fresh", "{fresh:?}");
    }
}

#[tokio::test]
async fn ipv6_clients_are_counted_per_64_bit_network() {
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.create = 2;
    })
    .await;
    let share_from = |ip: &'static str| app.forwarded_for(ip).post_form(SHARE, &[("secret", "s")]);

    ok_json(share_from("2001:db8:0:5::1").await).await;
    ok_json(share_from("2001:db8:0:5::2").await).await;
    // Any other address of the same /64 is the same client.
    assert_rate_limited(share_from("2001:db8:0:5:ffff:ffff:ffff:ffff").await).await;
    ok_json(share_from("2001:db8:0:6::1").await).await;

    assert_eq!(app.stop_and_count_records().await, (3, 3));
}

#[tokio::test]
async fn the_ipv6_network_size_is_configurable() {
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.create = 1;
        s.rate_limits.ipv6_prefix = 128;
    })
    .await;
    let share_from = |ip: &'static str| app.forwarded_for(ip).post_form(SHARE, &[("secret", "s")]);

    ok_json(share_from("2001:db8:0:5::1").await).await;
    ok_json(share_from("2001:db8:0:5::2").await).await;
    assert_rate_limited(share_from("2001:db8:0:5::2").await).await;
}
