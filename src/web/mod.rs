//! The pages people use in a browser (spec §6).
//!
//! Plain HTML forms and redirects: everything works without JavaScript, which only
//! adds copy buttons. `GET /secret/{key}` never reveals anything (link-preview bots
//! and scanners must not burn secrets); only the POST from that page does.
//!
//! Every page goes through [`page`], which sets the security headers, and every
//! POST first passes [`same_origin`], which refuses cross-site form posts.

mod assets;
mod handlers;
mod pages;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use maud::Markup;

use crate::api::{ApiError, AppState};

/// No inline script or style, nothing from elsewhere, no framing, forms only to us.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Registers the pages and static assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/").route(web::get().to(handlers::index)))
        .service(resource("/share").route(web::post().to(handlers::create)))
        .service(
            resource("/secret/{key}")
                .route(web::get().to(handlers::show_secret))
                .route(web::post().to(handlers::reveal_secret)),
        )
        .service(resource("/private/{key}").route(web::get().to(handlers::receipt)))
        .service(
            resource("/private/{key}/burn")
                .route(web::get().to(handlers::confirm_burn))
                .route(web::post().to(handlers::burn)),
        )
        .service(resource("/static/{file}").route(web::get().to(assets::serve)));
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|| async { WebError::NotFound.error_response() }))
}

/// An HTML page with the security headers every page carries. Pages are
/// `no-store`: most of them hold a key or a value.
pub fn page(status: StatusCode, markup: Markup) -> HttpResponse {
    let mut response = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string());
    security_headers(response.headers_mut());
    response
}

fn security_headers(headers: &mut actix_web::http::header::HeaderMap) {
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// A redirect after a successful POST (so reloading does not post again).
pub fn see_other(location: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish();
    security_headers(response.headers_mut());
    response
}

/// Refuses form posts that a browser made on behalf of another site.
///
/// Browsers send `Sec-Fetch-Site`; only `same-origin` (our own form) and `none` (the
/// user's own action) pass. Older browsers send `Origin` instead, which must be our
/// base URL's origin. A request with neither did not come from a browser form, so
/// it cannot be a cross-site forgery.
pub fn same_origin(req: &HttpRequest, state: &AppState) -> Result<(), WebError> {
    let get = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return match site {
            "same-origin" | "none" => Ok(()),
            _ => Err(WebError::CrossSite),
        };
    }
    match get("origin") {
        Some(origin) if !origin.eq_ignore_ascii_case(state.origin()) => Err(WebError::CrossSite),
        _ => Ok(()),
    }
}

/// Failures of the web pages, rendered as HTML in one place.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("This form was sent from another site, so it was refused.")]
    CrossSite,
    #[error("There is no page here.")]
    NotFound,
}

impl From<crate::vault::VaultError> for WebError {
    fn from(err: crate::vault::VaultError) -> Self {
        Self::Api(err.into())
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Api(err) => err.intended_status(),
            Self::CrossSite => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let markup = match self {
            // Unknown, used, expired: one page that does not tell which.
            Self::Api(ApiError::UnknownSecret { .. }) => pages::gone(),
            other => pages::error(&other.to_string()),
        };
        page(self.status_code(), markup)
    }
}
