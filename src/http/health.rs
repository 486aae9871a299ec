//! What monitors and service managers ask: `GET /healthz` (liveness: the
//! process answers) and `GET /readyz` (readiness: the store has not failed, its
//! commit thread is alive and it answers a read; 503 with the reason otherwise),
//! `GET /metrics` (see `metrics`), and HEAD wherever GET works (uptime
//! monitors send HEAD).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::http::api::JSON;
use crate::http::state::AppState;

/// Registers `/healthz` and `/readyz`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(crate::http::metrics::metrics));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(JSON)
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(r#"{"status":"ok"}"#)
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (mut response, body) = match state.service.readiness().await {
        Ok(()) => (HttpResponse::Ok(), serde_json::json!({ "status": "ready" })),
        Err(reason) => {
            // A load balancer asks every few seconds: the cause is logged
            // once by whoever saw it (the store, the recovery thread).
            log::debug!("not ready: {reason}");
            (
                HttpResponse::ServiceUnavailable(),
                serde_json::json!({ "status": "not ready", "reason": reason }),
            )
        }
    };
    response
        .content_type(JSON)
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

/// Routes HEAD as GET. The HTTP layer noted the method when it read the
/// request, and sends a HEAD answer's headers (with the length the body would
/// have) without the body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
