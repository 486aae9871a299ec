//! The one place where failures become API responses, and the API's
//! extractors, which refuse a request with them.
//!
//! Every v1 error ([`V1Error`]) is status 404 with `{"message": ...}` (legacy
//! behaviour clients depend on) and the real status in `X-OTS-Intended-Status`.
//! The requests API (`/api/requests`, otsd's own) answers the same body with the
//! real status ([`RealStatus`]). The log gets the cause of internal errors; the
//! client gets none of it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::http::extract::status::{closes_connection, intended};
use crate::http::extract::{UnknownKey, face_extractor};

/// Header carrying the status an error would really have.
pub const INTENDED_STATUS: &str = "X-OTS-Intended-Status";
/// Content type of every API response.
pub const JSON: &str = "application/json; charset=utf-8";

/// An [`Error`] as the v1 API answers it: always 404, the real status in
/// `X-OTS-Intended-Status`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct V1Error(#[from] pub Error);

/// A path that holds no key is an unknown secret (for a receipt key too, as
/// the reference says), echoing what was sent.
impl<K> From<UnknownKey<K>> for V1Error {
    fn from(unknown: UnknownKey<K>) -> Self {
        Self(Error::unknown(&unknown.raw))
    }
}

impl ResponseError for V1Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }

    fn error_response(&self) -> HttpResponse {
        respond(&self.0, StatusCode::NOT_FOUND)
    }
}

face_extractor!(
    /// An extractor of the v1 API: the caller, the parameters or the path's
    /// key, or a refusal as a [`V1Error`].
    V1,
    V1Error
);

/// An [`Error`] answered with the status it really has: the shape of otsd's
/// own API, which has no legacy to keep.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct RealStatus(#[from] pub Error);

/// A path that holds no key is an unknown request: the requests API takes
/// only request keys and private keys.
impl<K> From<UnknownKey<K>> for RealStatus {
    fn from(_: UnknownKey<K>) -> Self {
        Self(Error::UnknownRequest)
    }
}

impl ResponseError for RealStatus {
    fn status_code(&self) -> StatusCode {
        intended(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        respond(&self.0, intended(&self.0))
    }
}

face_extractor!(
    /// An extractor of the requests API: the caller, the parameters or the
    /// path's key, or a refusal as a [`RealStatus`].
    Real,
    RealStatus
);

/// `{"message": ...}` (with the echoed key, if any) at `status`, the intended
/// status in its header, `Retry-After` when there is one to wait for.
fn respond(err: &Error, status: StatusCode) -> HttpResponse {
    let mut body = Map::new();
    body.insert("message".into(), Value::String(err.to_string()));
    if let Some(key) = err.echoed_key() {
        body.insert("secret_key".into(), Value::String(key.to_owned()));
    }
    let mut response = HttpResponse::build(status);
    response
        .insert_header((INTENDED_STATUS, intended(err).as_str()))
        .content_type(JSON);
    if let Some(seconds) = err.retry_after() {
        response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
    }
    if closes_connection(err) {
        // What is left of the body is never read, or cannot be trusted to end
        // where it says: close, so it cannot be taken for the next request,
        // and the socket is not held for it.
        response.force_close();
    }
    response.body(Value::Object(body).to_string())
}

/// Answers any route or method the API does not have.
pub async fn not_found() -> HttpResponse {
    V1Error(Error::NotFound).error_response()
}

/// Middleware for `/api/`: any error answer that did not come from an
/// [`V1Error`] (one actix or a library produced inside the app) is rewritten as
/// the v1 error, so clients of the API only ever see its one error shape. The
/// HTTP layer's own answers to requests it cannot parse (a malformed head, a head
/// too large, a head that never arrives) are sent before any of otsd's code runs,
/// and cannot be changed: see `docs/api-notes.md`.
pub async fn v1_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<actix_web::body::BoxBody>,
) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(err) => return Err(Foreign(err.as_response_error().status_code()).into()),
    };
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(INTENDED_STATUS)
    {
        return Ok(response);
    }
    let keep_alive = response.response().keep_alive();
    let mut rewritten = Foreign(status).error_response();
    if !keep_alive {
        rewritten
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    Ok(response.into_response(rewritten))
}

/// An error status from outside otsd's code, in the v1 shape: its standard
/// reason phrase as the message, the status itself as the intended one.
#[derive(Debug)]
struct Foreign(StatusCode);

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.canonical_reason().unwrap_or("Error"))
    }
}

impl ResponseError for Foreign {
    fn status_code(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::NotFound()
            .insert_header((INTENDED_STATUS, self.0.as_str()))
            .content_type(JSON)
            .body(serde_json::json!({ "message": self.to_string() }).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, test, web};

    #[actix_web::test]
    async fn foreign_error_answers_in_the_api_become_v1_errors_and_ours_stay_as_they_are() {
        let app = test::init_service(
            App::new().service(
                web::scope("/api")
                    .wrap(actix_web::middleware::from_fn(v1_errors))
                    .route(
                        "/plain",
                        web::get().to(|| async { HttpResponse::BadRequest().body("plain text") }),
                    )
                    .route(
                        "/ours",
                        web::get().to(|| async {
                            Err::<HttpResponse, _>(V1Error(Error::RateLimited { retry_after: 1 }))
                        }),
                    )
                    .route("/fine", web::get().to(|| async { "ok" })),
            ),
        )
        .await;
        let call = |path: &'static str| test::TestRequest::get().uri(path).to_request();

        let plain = test::call_service(&app, call("/api/plain")).await;
        assert_eq!(plain.status(), StatusCode::NOT_FOUND);
        let header = |r: &actix_web::dev::ServiceResponse, name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(header(&plain, INTENDED_STATUS).as_deref(), Some("400"));
        assert_eq!(header(&plain, "content-type").as_deref(), Some(JSON));
        let body: Value = test::read_body_json(plain).await;
        assert_eq!(body["message"], "Bad Request");

        let ours = test::call_service(&app, call("/api/ours")).await;
        assert_eq!(header(&ours, INTENDED_STATUS).as_deref(), Some("429"));
        let body: Value = test::read_body_json(ours).await;
        assert_eq!(
            body["message"],
            "Rate limit exceeded. Please try again later."
        );

        let fine = test::call_service(&app, call("/api/fine")).await;
        assert_eq!(fine.status(), StatusCode::OK);
        assert_eq!(test::read_body(fine).await, "ok");
    }
}
