//! `GET /api/v1/status` and `GET /api/v1/authcheck`.

use actix_web::{HttpResponse, web};

use crate::http::api::{JSON, V1, V1Error};
use crate::http::state::AppState;
use crate::service::Caller;

/// The answer both routes give while secrets can be stored. Fixed texts, not a
/// JSON value built and serialised per request: status is what monitors and
/// load balancers poll.
const NOMINAL: &str = r#"{"status":"nominal","locale":"en"}"#;
/// ... and while they cannot (the database cannot write, a full disk: creates,
/// reveals and burns are refused until the server has reopened it). The spec
/// names only `nominal`; `offline` is otsd's word (docs/api-notes.md).
const OFFLINE: &str = r#"{"status":"offline","locale":"en"}"#;

/// Whether the server can serve secrets (any caller; bad credentials are
/// still refused).
pub async fn status(state: web::Data<AppState>, _caller: V1<Caller>) -> HttpResponse {
    answer(&state)
}

/// The same body as `status`, for an authenticated caller only: lets a client test
/// its credentials.
pub async fn authcheck(
    state: web::Data<AppState>,
    V1(caller): V1<Caller>,
) -> Result<HttpResponse, V1Error> {
    caller.require_account()?;
    Ok(answer(&state))
}

fn answer(state: &AppState) -> HttpResponse {
    let body = if state.service.can_store() {
        NOMINAL
    } else {
        OFFLINE
    };
    HttpResponse::Ok().content_type(JSON).body(body)
}
