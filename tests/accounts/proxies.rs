//! Spec §4: behind a reverse proxy, `X-Forwarded-For` names the client only when
//! the TCP peer is a configured trusted proxy; and the rate limiter's counters
//! stay bounded however many addresses a client claims.

use crate::common::*;
use futures_util::StreamExt;

const A: &str = "198.51.100.1";
const B: &str = "198.51.100.2";

fn share_from(app: &TestApp, forwarded_for: Option<&str>) -> Call {
    app.maybe_forwarded_for(forwarded_for)
        .post_form(SHARE, &[("secret", "s")])
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_gives_each_client_its_own_counter() {
    for trusted in ["127.0.0.1", "127.0.0.0/8"] {
        let app = spawn_app_with(|s| {
            s.rate_limits.window_secs = WINDOW;
            s.rate_limits.create = 1;
            trust_proxies(s, &[trusted]);
        })
        .await;

        ok_json(share_from(&app, Some(A)).await).await;
        ok_json(share_from(&app, Some(B)).await).await;
        assert_rate_limited(share_from(&app, Some(A)).await).await;
        assert_rate_limited(share_from(&app, Some(B)).await).await;
        // The nearest untrusted hop is the client; what it claims before it is not.
        let spoofed = share_from(&app, Some(&format!("203.0.113.77, {A}"))).await;
        assert_rate_limited(spoofed).await;
        // Without the header, the proxy itself is the client.
        ok_json(share_from(&app, None).await).await;

        assert_eq!(
            app.stop_and_count_records().await,
            (3, 3),
            "trusted {trusted}"
        );
    }
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    for trusted in [&[][..], &["10.0.0.0/8", "::1"]] {
        let app = spawn_app_with(|s| {
            s.rate_limits.window_secs = WINDOW;
            s.rate_limits.create = 1;
            trust_proxies(s, trusted);
        })
        .await;

        ok_json(share_from(&app, Some(A)).await).await;
        assert_rate_limited(share_from(&app, Some(B)).await).await;
        assert_rate_limited(share_from(&app, None).await).await;

        assert_eq!(
            app.stop_and_count_records().await,
            (1, 1),
            "trusted {trusted:?}"
        );
    }
}

#[tokio::test]
async fn clients_past_max_tracked_are_still_limited_each_and_lock_out_no_one() {
    // The table's bound itself (memory) is tested in `ratelimit`'s unit tests;
    // here: what clients past it see over HTTP.
    const MAX_TRACKED: usize = 4;
    const LIMIT: usize = 2;
    const CLIENTS: u8 = 60;
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.create = LIMIT as u32;
        s.rate_limits.max_tracked = MAX_TRACKED;
    })
    .await;
    let ip = |i: u8| format!("203.0.113.{i}");

    for i in 1..=CLIENTS {
        for _ in 0..LIMIT {
            ok_json(share_from(&app, Some(&ip(i))).await).await;
        }
        assert_rate_limited(share_from(&app, Some(&ip(i))).await).await;
    }
    // Neither a client never seen nor the proxy's own address is locked out.
    ok_json(share_from(&app, Some(&ip(CLIENTS + 1))).await).await;
    ok_json(share_from(&app, None).await).await;

    let created = CLIENTS as usize * LIMIT + 2;
    assert_eq!(app.stop_and_count_records().await, (created, created));
}

#[tokio::test]
async fn a_proxy_that_appends_its_own_forwarded_for_line_is_believed_not_the_clients_line() {
    // Some proxies (HAProxy's `option forwardfor`) add a new header line after the
    // client's own: the lines together are one list, and the last hop is the proxy's.
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.create = 1;
    })
    .await;
    let with_lines = |spoofed: &str| {
        app.forwarded_for(spoofed)
            .forwarded_for(A)
            .post_form(SHARE, &[("secret", "s")])
    };

    ok_json(with_lines("203.0.113.1").await).await;
    assert_rate_limited(with_lines("203.0.113.2").await).await;
    assert_rate_limited(share_from(&app, Some(A)).await).await;
}

/// The `i`-th of the flood's addresses: IPv4 in 10.0.0.0/8 for even `i`, an IPv6
/// /64 of 2001:db8::/32 for odd `i`; never the proxy's own, never a fresh one.
fn flood_address(i: u32) -> String {
    if i.is_multiple_of(2) {
        let [_, b, c, d] = i.to_be_bytes();
        format!("10.{b}.{c}.{d}")
    } else {
        format!("2001:db8:{:x}:{:x}::1", i >> 16, i & 0xffff)
    }
}

#[tokio::test]
async fn reveals_of_unknown_keys_from_many_addresses_lock_out_no_fresh_client_nor_the_proxy() {
    // Issue 24: about 30,000 such reveals with `max_tracked = 1000` refused 26 of
    // 50 fresh clients and the proxy's own address. Here the table is smaller
    // still, so 20,000 reveals are 200 times what it holds.
    const FLOOD: u32 = 20_000;
    const AT_ONCE: usize = 32;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let app = spawn_app_with(|s| {
        behind_trusted_proxy(s);
        s.rate_limits.max_tracked = 100;
        s.rate_limits.create = 5;
        s.rate_limits.reveal = 5;
        s.rate_limits.failed_passphrase = 5;
    })
    .await;

    let unknown = unissued_key();
    let reveals = (0..FLOOD).map(|i| {
        let call = app.forwarded_for(&flood_address(i)).reveal(&unknown, None);
        async move { (i, call.await) }
    });
    let mut answers = futures_util::stream::iter(reveals).buffer_unordered(AT_ONCE);
    let mut answered = 0;
    while let Some((i, resp)) = answers.next().await {
        let intended = resp.headers()["x-ots-intended-status"].clone();
        assert_eq!(
            intended,
            "404",
            "{} was never seen before",
            flood_address(i)
        );
        answered += 1;
        assert!(
            std::time::Instant::now() < deadline,
            "only {answered} of {FLOOD} reveals answered in time"
        );
    }

    // Fresh clients, and the proxy itself (no header), each share a secret (every
    // other one with a passphrase) and reveal it.
    let fresh = (1..=50).map(|i| Some(format!("203.0.113.{i}")));
    for (n, client) in fresh.chain([None]).enumerate() {
        let caller = app.maybe_forwarded_for(client.as_deref());
        let passphrase = (n % 2 == 0).then_some("right");
        let mut form = vec![("secret", "real")];
        form.extend(passphrase.map(|p| ("passphrase", p)));
        let share = caller.post_form(SHARE, &form).await;
        let meta = ok_json(share).await;
        let revealed = caller.reveal(text(&meta, "secret_key"), passphrase).await;
        let body = ok_json(revealed).await;
        assert_eq!(body["value"], "real", "{client:?}");
    }
}
