//! `GET /api/v1/status` and `GET /api/v1/authcheck`.

use actix_web::HttpResponse;

use crate::api::JSON;
use crate::error::Error;
use crate::service::Caller;

/// The one answer both routes give. A fixed text, not a JSON value built and
/// serialised per request: status is what monitors and load balancers poll.
const NOMINAL: &str = r#"{"status":"nominal","locale":"en"}"#;

/// The server is up (any caller; bad credentials are still refused).
pub async fn status(_caller: Caller) -> HttpResponse {
    nominal()
}

/// The same body as `status`, for an authenticated caller only: lets a client test
/// its credentials.
pub async fn authcheck(caller: Caller) -> Result<HttpResponse, Error> {
    caller.require_account()?;
    Ok(nominal())
}

fn nominal() -> HttpResponse {
    HttpResponse::Ok().content_type(JSON).body(NOMINAL)
}
