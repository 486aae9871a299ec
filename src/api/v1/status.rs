use actix_web::HttpResponse;
use serde_json::json;

use crate::api::json_ok;

/// `GET /api/v1/status`: the server is up.
pub async fn status() -> HttpResponse {
    json_ok(&json!({"status": "nominal", "locale": "en"}))
}
