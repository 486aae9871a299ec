//! The HTTP faces: the v1 API and the requests API ([`api`]), the pages
//! ([`web`]), health and metrics, what they extract from a request
//! ([`extract`]), and the state every handler shares. Each face maps the
//! service's [`crate::Error`] to its own answer in one place; all of them call
//! the one [`crate::service::Service`].

use actix_web::middleware::Logger;
use actix_web::web::{Data, ServiceConfig, to};

pub mod api;
pub mod extract;
pub mod handover;
pub mod health;
pub mod metrics;
pub mod state;
pub mod web;

pub use state::AppState;

/// Every route of every face, and the answer to a path none of them has.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(health::configure)
        .configure(api::configure)
        .configure(api::configure_v2)
        .configure(api::configure_requests)
        .configure(web::configure)
        .default_service(to(fallback));
}

/// The application's answer to a path nobody serves: a page for a browser,
/// the v1 JSON error for everyone else. Here, above both faces, because it
/// chooses between them (neither face imports the other).
async fn fallback(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    if web::wants_page(&req) {
        web::not_found(&req)
    } else {
        api::not_found().await
    }
}

/// The access log: the client address (the one rate limits count: the
/// forwarded client behind a trusted proxy, the peer otherwise), method, route
/// *pattern* (never the path, which holds keys, nor the query string, which may
/// hold a secret), status, size and time.
pub fn request_logger() -> Logger {
    Logger::new(r#"%{client}xi "%{route}xi" %s %b %Dms"#)
        .custom_request_replace("client", |req| match req.app_data::<Data<AppState>>() {
            Some(state) => extract::client_address(req.request(), state).to_string(),
            None => "-".into(),
        })
        .custom_request_replace("route", |req| {
            format!(
                "{} {}",
                req.method(),
                req.match_pattern().unwrap_or_else(|| "<unmatched>".into())
            )
        })
}
