//! `GET /api/v1/status` and `GET /api/v1/authcheck`.

use actix_web::HttpResponse;
use serde_json::json;

use crate::api::{ApiError, Caller, json_ok};

/// The server is up (any caller; bad credentials are still refused).
pub async fn status(_caller: Caller) -> HttpResponse {
    json_ok(&json!({"status": "nominal", "locale": "en"}))
}

/// The same body as `status`, for an authenticated caller only: lets a client test
/// its credentials.
pub async fn authcheck(caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require_account()?;
    Ok(json_ok(&json!({"status": "nominal", "locale": "en"})))
}
