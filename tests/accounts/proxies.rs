//! Spec §4: behind a reverse proxy, `X-Forwarded-For` names the client only when
//! the TCP peer is a configured trusted proxy; and the rate limiter's counters
//! stay bounded however many addresses a client claims.

use crate::common::*;

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
