//! `GET /metrics`: counters, gauges and histograms in the Prometheus text
//! format (0.0.4), off unless `metrics.enabled`, and then only for the allowed
//! networks or the bearer token.
//!
//! The format is a few lines of text per metric, so it is written here rather
//! than through a metrics crate: the counters are plain atomics that the service
//! and the store bump on their paths whether or not anyone scrapes. No label
//! ever holds a key, a value or an address: requests are labelled by their route
//! *pattern* (`/api/v1/secret/{key}`), method and status class.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::ratelimit::IpNet;
use crate::request::client_address;

/// A count that only goes up.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Bucket bounds of request and flush latency, in seconds.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Bucket bounds of a group commit's batch (writes per flush).
pub const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// A histogram with fixed buckets; observations are lock-free.
pub struct Histogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative), and one more for +Inf.
    buckets: Box<[AtomicU64]>,
    /// The sum, in millionths of the unit.
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        let index = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((value * 1e6) as u64, Ordering::Relaxed);
    }

    pub fn observe_duration(&self, took: Duration) {
        self.observe(took.as_secs_f64());
    }

    /// `name_bucket`, `name_sum` and `name_count` lines, with `labels` (already
    /// formatted, e.g. `route="/x"`) before `le`.
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = self
                .bounds
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// What the service counts (the store counts its own: `store::Tally`).
#[derive(Default)]
pub struct Metrics {
    pub secrets_created: Counter,
    pub secrets_revealed: Counter,
    pub secrets_burned: Counter,
    /// Requests for a secret made, and answered.
    pub requests_created: Counter,
    pub requests_answered: Counter,
    pub failed_passphrases: Counter,
    pub rate_limited: Counter,
    pub emails_sent: Counter,
    pub emails_failed: Counter,
    /// Request latency by (method, route pattern, status class).
    requests: RwLock<HashMap<RequestLabels, Arc<Histogram>>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct RequestLabels {
    method: String,
    route: String,
    status: &'static str,
}

impl Metrics {
    fn observe_request(&self, labels: RequestLabels, took: Duration) {
        let known = self
            .requests
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&labels)
            .cloned();
        let histogram = known.unwrap_or_else(|| {
            let mut requests = self.requests.write().unwrap_or_else(|e| e.into_inner());
            Arc::clone(
                requests
                    .entry(labels)
                    .or_insert_with(|| Arc::new(Histogram::new(LATENCY_BUCKETS))),
            )
        });
        histogram.observe_duration(took);
    }
}

/// Who may read `/metrics`.
#[derive(Clone)]
pub struct Access {
    pub enabled: bool,
    pub allow: Vec<IpNet>,
    /// Empty: no token is accepted.
    pub token: zeroize::Zeroizing<String>,
}

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
            RequestLabels {
                method,
                route,
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
        return crate::api::not_found().await;
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
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(render(&state))
}

fn render(state: &AppState) -> String {
    let metrics = &state.service.metrics;
    let tally = state.service.vault.tally();
    let mut out = String::with_capacity(8192);
    let counter = |out: &mut String, name: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (labels, value) in samples {
            let braces = if labels.is_empty() {
                String::new()
            } else {
                format!("{{{labels}}}")
            };
            let _ = writeln!(out, "{name}{braces} {value}");
        }
    };
    counter(
        &mut out,
        "otsd_secrets_created_total",
        "Secrets created (shared or generated).",
        &[("", metrics.secrets_created.get())],
    );
    counter(
        &mut out,
        "otsd_secrets_revealed_total",
        "Secrets revealed.",
        &[("", metrics.secrets_revealed.get())],
    );
    counter(
        &mut out,
        "otsd_secrets_burned_total",
        "Secrets burned through their receipt.",
        &[("", metrics.secrets_burned.get())],
    );
    counter(
        &mut out,
        "otsd_secret_requests_total",
        "Requests for a secret, by what happened: made, or answered.",
        &[
            ("event=\"created\"", metrics.requests_created.get()),
            ("event=\"answered\"", metrics.requests_answered.get()),
        ],
    );
    counter(
        &mut out,
        "otsd_secrets_expired_total",
        "Secrets whose value the reaper dropped unread at their expiry.",
        &[("", tally.expired.get())],
    );
    counter(
        &mut out,
        "otsd_failed_passphrases_total",
        "Reveals and burns refused for a missing or wrong passphrase.",
        &[("", metrics.failed_passphrases.get())],
    );
    counter(
        &mut out,
        "otsd_rate_limited_requests_total",
        "Requests refused by a rate limit.",
        &[("", metrics.rate_limited.get())],
    );
    counter(
        &mut out,
        "otsd_emails_total",
        "Emails to recipients, by result.",
        &[
            ("result=\"sent\"", metrics.emails_sent.get()),
            ("result=\"failed\"", metrics.emails_failed.get()),
        ],
    );
    let _ = writeln!(
        out,
        "# HELP otsd_storage_available 1 while secrets can be stored; 0 while the \
         database cannot write (a full disk) and until otsd has reopened it.\n\
         # TYPE otsd_storage_available gauge\notsd_storage_available {}",
        u8::from(state.service.can_store())
    );
    if let Some((unread, records)) = tally.live() {
        let _ = writeln!(
            out,
            "# HELP otsd_live_secrets Secrets that can still be revealed (or burned).\n\
             # TYPE otsd_live_secrets gauge\notsd_live_secrets {unread}\n\
             # HELP otsd_receipts Receipts kept (each secret's, until twice its TTL).\n\
             # TYPE otsd_receipts gauge\notsd_receipts {records}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP otsd_commit_batch_writes Writes made durable by one group commit.\n\
         # TYPE otsd_commit_batch_writes histogram"
    );
    tally.batch.render(&mut out, "otsd_commit_batch_writes", "");
    let _ = writeln!(
        out,
        "# HELP otsd_commit_flush_seconds Time one group commit took to reach the disk.\n\
         # TYPE otsd_commit_flush_seconds histogram"
    );
    tally
        .flush
        .render(&mut out, "otsd_commit_flush_seconds", "");
    let _ = writeln!(
        out,
        "# HELP otsd_http_request_duration_seconds Time to answer a request, by route pattern.\n\
         # TYPE otsd_http_request_duration_seconds histogram"
    );
    let requests = metrics.requests.read().unwrap_or_else(|e| e.into_inner());
    let mut labelled: Vec<_> = requests.iter().collect();
    labelled.sort_by(|a, b| {
        (&a.0.route, &a.0.method, a.0.status).cmp(&(&b.0.route, &b.0.method, b.0.status))
    });
    for (labels, histogram) in labelled {
        let labels = format!(
            "method=\"{}\",route=\"{}\",status=\"{}\"",
            labels.method,
            escape(&labels.route),
            labels.status
        );
        histogram.render(&mut out, "otsd_http_request_duration_seconds", &labels);
    }
    let _ = writeln!(
        out,
        "# HELP otsd_build_info The running build.\n# TYPE otsd_build_info gauge\n\
         otsd_build_info{{version=\"{}\",database_format=\"{}\",backup_format=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        crate::store::DATABASE_FORMAT,
        crate::store::BACKUP_FORMAT
    );
    out
}

/// A label value: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
