//! README "Metrics": `GET /metrics` in the OpenMetrics text format, off unless
//! `metrics.enabled`, readable from the allowed networks or with the bearer
//! token, with no key, value or address in it.

use std::time::{Duration, Instant};

use crate::common::*;

fn enabled(s: &mut otsd::Settings) {
    s.metrics.enabled = true;
}

/// The body of `GET /metrics` (checked: 200 and the text format's type).
async fn scrape(client: &Client) -> String {
    let resp = client.get("/metrics").await;
    assert_eq!(resp.status(), 200, "GET /metrics");
    let kind = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        kind.starts_with("application/openmetrics-text; version=1.0.0"),
        "{kind}"
    );
    resp.text().await.unwrap()
}

/// The value of the sample `series` (name and labels exactly as written).
fn sample(body: &str, series: &str) -> f64 {
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{body}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let app = spawn_app().await;
    assert_error(app.get("/metrics").await, 404, "Not Found").await;
}

#[tokio::test]
async fn counters_gauges_and_histograms_follow_what_the_server_did() {
    let app = spawn_app_with(|s| {
        enabled(s);
        s.rate_limits.metadata = 2;
        s.rate_limits.window_secs = WINDOW;
    })
    .await;
    let before = scrape(&app).await;
    assert_eq!(sample(&before, "otsd_secrets_created_total"), 0.0);
    assert_eq!(sample(&before, "otsd_live_secrets"), 0.0);

    let value = unique("metered-value-");
    let revealed = app.share(&[("secret", &value)]).await;
    let revealed_key = text(&revealed, "secret_key").to_owned();
    assert_eq!(app.reveal_value(&revealed_key, None).await, value);
    let guarded = app
        .share(&[("secret", "guarded"), ("passphrase", "right")])
        .await;
    let guarded_key = text(&guarded, "secret_key").to_owned();
    assert_error_status(app.reveal(&guarded_key, Some("wrong")).await, 404).await;
    let generated = ok_json(app.post(GENERATE).await).await;
    let burned = app.share(&[("secret", "to burn")]).await;
    let burned_meta = text(&burned, "metadata_key").to_owned();
    ok_json(app.burn(&burned_meta, None).await).await;
    // The burn and the receipt read use up the metadata limit of 2.
    ok_json(app.metadata(&burned_meta).await).await;
    assert_rate_limited(app.metadata(&burned_meta).await).await;

    let body = scrape(&app).await;
    assert_eq!(sample(&body, "otsd_secrets_created_total"), 4.0);
    assert_eq!(sample(&body, "otsd_secrets_revealed_total"), 1.0);
    assert_eq!(sample(&body, "otsd_secrets_burned_total"), 1.0);
    assert_eq!(sample(&body, "otsd_failed_passphrases_total"), 1.0);
    assert_eq!(sample(&body, "otsd_rate_limited_requests_total"), 1.0);
    assert_eq!(sample(&body, "otsd_emails_total{result=\"sent\"}"), 0.0);
    assert_eq!(
        sample(&body, "otsd_live_secrets"),
        2.0,
        "guarded and generated"
    );
    assert_eq!(sample(&body, "otsd_receipts"), 4.0);
    if on_postgres() {
        // No group commit of otsd's own: each write is PostgreSQL's COMMIT.
        // The pool this node holds is shown instead.
        assert!(sample(&body, "otsd_database_pool_max_connections") >= 1.0);
        let open = sample(&body, "otsd_database_pool_connections{state=\"idle\"}")
            + sample(&body, "otsd_database_pool_connections{state=\"busy\"}");
        assert!(open >= 1.0, "{body}");
        assert_eq!(sample(&body, "otsd_database_pool_waiting_requests"), 0.0);
    } else {
        assert!(sample(&body, "otsd_commit_batch_writes_count") >= 4.0);
        assert!(sample(&body, "otsd_commit_flush_seconds_count") >= 1.0);
    }
    let reveals = "otsd_http_request_duration_seconds_count{method=\"POST\",\
                   route=\"/api/v1/secret/{key}\",status=\"2xx\"}";
    assert_eq!(sample(&body, reveals), 1.0);
    assert!(body.contains("otsd_build_info{version=\""), "{body}");

    // No key, value, passphrase or address, in any label or sample.
    let metadata_key = text(&revealed, "metadata_key");
    for plain in [
        value.as_str(),
        &revealed_key,
        metadata_key,
        &guarded_key,
        &burned_meta,
        "right",
        text(&generated, "value"),
        "127.0.0.1",
    ] {
        assert!(!body.contains(plain), "/metrics shows {plain:?}");
    }

    // The exposition format: HELP and TYPE for each family, `otsd_` names,
    // counters' samples (and only theirs) end in `_total`, `# EOF` last.
    let mut kinds = std::collections::HashMap::new();
    assert_eq!(body.lines().last(), Some("# EOF"), "OpenMetrics ends so");
    for line in body.lines().filter(|line| *line != "# EOF") {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            kinds.insert(name.to_owned(), kind.to_owned());
            assert!(name.starts_with("otsd_"), "{line}");
        } else if !line.starts_with("# HELP ") {
            let name = line.split(['{', ' ']).next().unwrap();
            let (family, kind) = ["_bucket", "_sum", "_count", "_total"]
                .iter()
                .find_map(|suffix| {
                    let family = name.strip_suffix(suffix)?;
                    Some((family, kinds.get(family)?.as_str()))
                })
                .or_else(|| Some((name, kinds.get(name)?.as_str())))
                .unwrap_or_else(|| panic!("{line} follows its TYPE"));
            assert_eq!(
                kind == "counter",
                name.ends_with("_total"),
                "counters' samples and only theirs end in _total: {line} ({family})"
            );
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}

#[tokio::test]
async fn the_reaper_counts_what_expired_unread() {
    let app = spawn_app_with(|s| {
        enabled(s);
        s.limits.min_ttl = 1;
    })
    .await;
    app.share(&[("secret", "expires unread"), ("ttl", "1")])
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = scrape(&app).await;
        if sample(&body, "otsd_secrets_expired_total") == 1.0 {
            assert_eq!(sample(&body, "otsd_live_secrets"), 0.0);
            break;
        }
        assert!(Instant::now() < deadline, "expired within 10 s:\n{body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_token_or_an_allowed_network_is_needed() {
    let app = spawn_app_with(|s| {
        enabled(s);
        s.metrics.allow = vec![otsd::ratelimit::IpNet::parse("10.9.0.0/16").unwrap()];
        s.metrics.token = otsd::mail::Redacted("scrape-token-1".into());
        trust_proxies(s, &["127.0.0.1"]);
    })
    .await;
    let resp = app.get("/metrics").await;
    assert_eq!(resp.status(), 401, "loopback is not in `allow`");
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let wrong = app.header("authorization", "Bearer scrape-token-2");
    assert_eq!(wrong.get("/metrics").await.status(), 401);
    scrape(&app.header("authorization", "Bearer scrape-token-1")).await;
    // Behind a trusted proxy, the forwarded client is the one checked.
    scrape(&app.forwarded_for("10.9.1.1")).await;
    assert_eq!(
        app.forwarded_for("10.8.1.1").get("/metrics").await.status(),
        401
    );

    let closed = spawn_app_with(|s| {
        enabled(s);
        s.metrics.allow = Vec::new();
    })
    .await;
    assert_eq!(closed.get("/metrics").await.status(), 403, "no token set");
}

#[tokio::test]
async fn the_gauges_start_from_what_the_database_holds() {
    let app = spawn_app_with(enabled).await;
    app.share(&[("secret", "one")]).await;
    let two = app.share(&[("secret", "two")]).await;
    assert_eq!(
        app.reveal_value(text(&two, "secret_key"), None).await,
        "two"
    );
    let dir = app.stop().await;
    let mut settings = test_settings(&dir);
    enabled(&mut settings);
    let app = start_app(settings, dir);
    let body = scrape(&app).await;
    assert_eq!(sample(&body, "otsd_live_secrets"), 1.0);
    assert_eq!(sample(&body, "otsd_receipts"), 2.0);
    assert_eq!(
        sample(&body, "otsd_secrets_created_total"),
        0.0,
        "counters restart"
    );
}
