//! What every handler shares: a leaf of the HTTP layer, so that the faces,
//! the extractors and the route table all point down to it.

use crate::http::handover::Handover;
use crate::ratelimit::IpNet;
use crate::service::Service;

/// What every handler shares, as app data: the service, and the two things only
/// the HTTP layer needs (whose `X-Forwarded-For` to believe, and the web form's
/// expiry choices).
pub struct AppState {
    pub service: Service,
    pub trusted_proxies: Vec<IpNet>,
    /// Expiry choices (seconds) offered by the web form.
    pub ttl_choices: Vec<u64>,
    /// `web.instance_name`: the pages' header and title.
    pub instance_name: String,
    /// Generated passwords waiting for the redirect that shows them.
    pub generated: Handover,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
    /// The languages of the pages (codes), for v2's `supported-locales`.
    pub locales: Vec<&'static str>,
}

/// Who may read `/metrics`.
#[derive(Clone)]
pub struct MetricsAccess {
    pub enabled: bool,
    pub allow: Vec<IpNet>,
    /// Empty: no token is accepted.
    pub token: zeroize::Zeroizing<String>,
}
