//! `GET /metrics`: the counters, gauges and histograms of `telemetry`, in the
//! OpenMetrics text format (written by the `prometheus-client` crate), off
//! unless `metrics.enabled`, and then only for the allowed networks or the
//! bearer token.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use crate::http::extract::client_address;
use crate::http::state::AppState;
use crate::telemetry::{Counter, RequestLabels};

/// Times every request by its route pattern (installed only when metrics are
/// on). Routes that match nothing share one label, so a scan of random paths
/// cannot grow the table.
pub async fn time_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().as_str().to_owned();
    let response = next.call(req).await?;
    if let Some(state) = state {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "<unmatched>".into());
        let method = match method.as_str() {
            "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "OPTIONS" | "PATCH" => method,
            _ => "other".into(),
        };
        let status = match response.status().as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        state.service.metrics.observe_request(
            &RequestLabels {
                method,
                route: route.to_string(),
                status,
            },
            started.elapsed(),
        );
    }
    Ok(response)
}

/// `GET /metrics`.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let access = &state.metrics;
    if !access.enabled {
        return crate::http::api::not_found().await;
    }
    let presented = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token_ok = !access.token.is_empty()
        && presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(access.token.as_bytes())));
    let ip = client_address(&req, &state);
    let network_ok = access.allow.iter().any(|net| net.contains(&ip));
    if !(token_ok || network_ok) {
        let mut refused = if access.token.is_empty() {
            HttpResponse::Forbidden()
        } else {
            let mut r = HttpResponse::Unauthorized();
            r.insert_header((WWW_AUTHENTICATE, "Bearer"));
            r
        };
        return refused
            .content_type("text/plain; charset=utf-8")
            .body("metrics: not allowed from this address without the token\n");
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(render(&state, state.service.vault.live_counts().await))
}

/// The exposition: the service's and the store's handles, and gauges read now.
/// Counters are registered without `_total`, which the encoder adds to their
/// samples (`otsd_secrets_created_total`); the crate adds the full stop to
/// each help text.
fn render(state: &AppState, live: Option<(u64, u64)>) -> String {
    let metrics = &state.service.metrics;
    let tally = state.service.vault.tally();
    let mut registry = Registry::default();
    let counters = [
        (
            "otsd_secrets_created",
            "Secrets created (shared or generated)",
            &metrics.secrets_created,
        ),
        (
            "otsd_secrets_revealed",
            "Secrets revealed",
            &metrics.secrets_revealed,
        ),
        (
            "otsd_secrets_burned",
            "Secrets burned through their receipt",
            &metrics.secrets_burned,
        ),
        (
            "otsd_secrets_expired",
            "Secrets whose value the reaper dropped unread at their expiry",
            &tally.expired,
        ),
        (
            "otsd_failed_passphrases",
            "Reveals and burns refused for a missing or wrong passphrase",
            &metrics.failed_passphrases,
        ),
        (
            "otsd_rate_limited_requests",
            "Requests refused by a rate limit",
            &metrics.rate_limited,
        ),
    ];
    for (name, help, counter) in counters {
        registry.register(name, help, counter.clone());
    }
    registry.register(
        "otsd_secret_requests",
        "Requests for a secret, by what happened: made, or answered",
        split(
            "event",
            [
                ("created", &metrics.requests_created),
                ("answered", &metrics.requests_answered),
            ],
        ),
    );
    registry.register(
        "otsd_emails",
        "Emails to recipients, by result",
        split(
            "result",
            [
                ("sent", &metrics.emails_sent),
                ("failed", &metrics.emails_failed),
            ],
        ),
    );
    registry.register(
        "otsd_storage_available",
        "1 while secrets can be stored; 0 while the database cannot write (a full \
         disk, until otsd has reopened it; PostgreSQL away, until it answers)",
        gauge(i64::from(state.service.can_store())),
    );
    if let Some(pool) = state.service.vault.pool_status() {
        let connections = Family::<Vec<(&str, &str)>, Gauge>::default();
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        connections
            .get_or_create(&vec![("state", "idle")])
            .set(count(pool.idle));
        connections
            .get_or_create(&vec![("state", "busy")])
            .set(count(pool.open.saturating_sub(pool.idle)));
        registry.register(
            "otsd_database_pool_connections",
            "Connections to PostgreSQL this node holds, by whether a request uses them",
            connections,
        );
        registry.register(
            "otsd_database_pool_max_connections",
            "Connections to PostgreSQL this node may hold (database_pool_size)",
            gauge(count(pool.max)),
        );
        registry.register(
            "otsd_database_pool_waiting_requests",
            "Requests waiting for a connection to PostgreSQL to come free",
            gauge(count(pool.waiting)),
        );
    }
    if let Some((unread, records)) = live {
        registry.register(
            "otsd_live_secrets",
            "Secrets that can still be revealed (or burned)",
            gauge(i64::try_from(unread).unwrap_or(i64::MAX)),
        );
        registry.register(
            "otsd_receipts",
            "Receipts kept (each secret's, until twice its TTL)",
            gauge(i64::try_from(records).unwrap_or(i64::MAX)),
        );
    }
    registry.register(
        "otsd_commit_batch_writes",
        "Writes made durable by one group commit",
        tally.batch.clone(),
    );
    registry.register(
        "otsd_commit_flush_seconds",
        "Time one group commit took to reach the disk",
        tally.flush.clone(),
    );
    registry.register(
        "otsd_http_request_duration_seconds",
        "Time to answer a request, by route pattern",
        metrics.requests.clone(),
    );
    let build = Family::<Vec<(&str, String)>, Gauge>::default();
    build
        .get_or_create(&vec![
            ("version", env!("CARGO_PKG_VERSION").to_owned()),
            ("engine", state.service.vault.engine_name().to_owned()),
            ("database_format", crate::store::DATABASE_FORMAT.to_owned()),
            ("backup_format", crate::store::BACKUP_FORMAT.to_string()),
        ])
        .set(1);
    registry.register("otsd_build_info", "The running build", build);
    let mut out = String::with_capacity(8192);
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// One family of two counters kept apart (`label="created"`, …), as read now.
fn split<const N: usize>(
    label: &'static str,
    counters: [(&'static str, &Counter); N],
) -> Family<Vec<(&'static str, &'static str)>, Counter> {
    let family = Family::<Vec<(&'static str, &'static str)>, Counter>::default();
    for (value, counter) in counters {
        family
            .get_or_create(&vec![(label, value)])
            .inc_by(counter.get());
    }
    family
}

fn gauge(value: i64) -> Gauge {
    let gauge = Gauge::default();
    gauge.set(value);
    gauge
}
