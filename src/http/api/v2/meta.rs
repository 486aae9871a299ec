//! `/api/v2/status`, `/version`, `/supported-locales`, and the CORS
//! preflight of the two create routes.

use actix_web::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, ALLOW,
};
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::error::{V2, V2Error};
use crate::http::api::json_answer;
use crate::http::state::AppState;
use crate::service::Caller;

/// `GET /status`: `nominal` while secrets can be stored, `offline` while
/// they cannot (as v1). Ignores credentials.
pub async fn status(state: web::Data<AppState>) -> Result<HttpResponse, V2Error> {
    let status = if state.service.can_store() {
        "nominal"
    } else {
        "offline"
    };
    json_answer(&json!({ "success": true, "status": status, "locale": "en" }))
}

/// `GET /version`: otsd's version as three strings. Accounts only.
pub async fn version(V2(caller): V2<Caller>) -> Result<HttpResponse, V2Error> {
    caller.require_account()?;
    let parts: Vec<&str> = env!("CARGO_PKG_VERSION").splitn(3, '.').collect();
    json_answer(&json!({ "success": true, "version": parts, "locale": "en" }))
}

/// `GET /supported-locales`: the languages of the pages. Ignores
/// credentials.
pub async fn locales(state: web::Data<AppState>) -> Result<HttpResponse, V2Error> {
    json_answer(&json!({
        "success": true,
        "locales": state.locales,
        "default_locale": "en",
        "locale": "en",
    }))
}

/// `OPTIONS` on a create route: the CORS preflight, answered and nothing
/// created (the reference runs the create). `Authorization` is not among the
/// headers allowed: a create from another origin is anonymous.
pub async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((ALLOW, "POST, OPTIONS"))
        .insert_header((ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS"))
        .insert_header((ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type, Accept"))
        .insert_header((ACCESS_CONTROL_MAX_AGE, "600"))
        .finish()
}
