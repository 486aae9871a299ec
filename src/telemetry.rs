//! What otsd counts, for `/metrics`: counters and histograms that the service
//! and the store bump on their paths whether or not anyone scrapes. It imports
//! nothing of the crate, so every layer may count without pointing upwards.
//!
//! The handles are the `prometheus-client` crate's (atomics behind an `Arc`; a
//! clone counts into the same place), so the endpoint hands the same handles
//! to its registry and the crate writes the exposition format. No label ever
//! holds a key, a value or an address: requests are labelled by their route
//! *pattern* (`/api/v1/secret/{key}`), method and status class.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;

pub use prometheus_client::metrics::counter::Counter;
pub use prometheus_client::metrics::histogram::Histogram;

/// Bucket bounds of request and flush latency, in seconds.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Bucket bounds of a group commit's batch (writes per flush).
pub const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// A histogram with `bounds` as its buckets.
pub fn histogram(bounds: &[f64]) -> Histogram {
    Histogram::new(bounds.iter().copied())
}

/// Records `took` in seconds.
pub fn observe(histogram: &Histogram, took: Duration) {
    histogram.observe(took.as_secs_f64());
}

/// What the service counts (the store counts its own: `store::Tally`).
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
    pub requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            secrets_created: Counter::default(),
            secrets_revealed: Counter::default(),
            secrets_burned: Counter::default(),
            requests_created: Counter::default(),
            requests_answered: Counter::default(),
            failed_passphrases: Counter::default(),
            rate_limited: Counter::default(),
            emails_sent: Counter::default(),
            emails_failed: Counter::default(),
            requests: Family::new_with_constructor(|| histogram(LATENCY_BUCKETS)),
        }
    }
}

/// The labels of a request's latency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: &'static str,
}

impl Metrics {
    pub fn observe_request(&self, labels: &RequestLabels, took: Duration) {
        observe(&self.requests.get_or_create(labels), took);
    }
}

/// An error with every cause after it, `: `-separated: what `main` prints.
pub fn report(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(err) = cause {
        let next = err.to_string();
        // An error that already shows its cause (`"…: {0}"`) is not repeated.
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = err.source();
    }
    text
}
