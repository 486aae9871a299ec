//! The one place where failures become HTTP responses.
//!
//! Every v1 error is status 404 with `{"message": ...}` (legacy behaviour clients
//! depend on) and the real status in `X-OTS-Intended-Status`. The log gets the cause
//! of internal errors; the client gets none of it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value};

use crate::domain::ParamError;
use crate::vault::VaultError;

/// Header carrying the status an error would really have.
pub const INTENDED_STATUS: &str = "X-OTS-Intended-Status";
/// Content type of every API response.
pub const JSON: &str = "application/json; charset=utf-8";

#[derive(thiserror::Error)]
pub enum ApiError {
    #[error("Unknown secret")]
    UnknownSecret { key: String },
    #[error("Incorrect passphrase")]
    IncorrectPassphrase,
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("Not authorized")]
    NotAuthorized,
    #[error("An account is required to send emails.")]
    AccountRequiredForEmail,
    #[error("An account is required to create secrets on this server.")]
    AccountRequiredToCreate,
    #[error("Unknown domain: {0}")]
    UnknownDomain(String),
    #[error("Email is not configured on this server")]
    EmailNotConfigured,
    #[error("Undeliverable email address: {0}")]
    UndeliverableEmail(String),
    #[error(
        "The email to the recipient could not be sent, so nothing was stored. Please try again later."
    )]
    EmailFailed,
    #[error("Request body exceeds the maximum size of {0} bytes")]
    BodyTooLarge(usize),
    #[error("The request body was not received in time")]
    BodyTimeout,
    #[error("The server is busy. Please try again later.")]
    Busy,
    #[error("{0}")]
    BadRequest(&'static str),
    /// A body that broke off or does not frame itself (a multipart body without
    /// its closing boundary): nothing after it on the connection can be trusted.
    #[error("{0}")]
    BadBody(&'static str),
    #[error("Rate limit exceeded. Please try again later.")]
    RateLimited,
    #[error("Not Found")]
    NotFound,
    #[error("An unexpected error occurred :[")]
    Internal,
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Display never contains a key (UnknownSecret's key is only in the body).
        write!(f, "ApiError({self})")
    }
}

impl ApiError {
    /// The status this error would have without the v1 legacy of answering 404.
    pub fn intended_status(&self) -> StatusCode {
        match self {
            Self::UnknownSecret { .. } | Self::NotFound => StatusCode::NOT_FOUND,
            Self::NotAuthorized | Self::AccountRequiredForEmail | Self::AccountRequiredToCreate => {
                StatusCode::UNAUTHORIZED
            }
            Self::IncorrectPassphrase
            | Self::UnknownDomain(_)
            | Self::EmailNotConfigured
            | Self::UndeliverableEmail(_)
            | Self::BadRequest(_)
            | Self::BadBody(_) => StatusCode::BAD_REQUEST,
            Self::Param(ParamError::SecretTooLarge(_)) | Self::BodyTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::Param(_) => StatusCode::BAD_REQUEST,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal | Self::EmailFailed => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ApiError {
    /// Errors about the body as a whole: answered before all of it was read, or
    /// about a body that does not end where it should.
    fn closes_connection(&self) -> bool {
        matches!(
            self,
            Self::BodyTooLarge(_) | Self::BodyTimeout | Self::Busy | Self::BadBody(_)
        )
    }
}

impl From<VaultError> for ApiError {
    fn from(err: VaultError) -> Self {
        match err {
            VaultError::UnknownSecret { key } | VaultError::WrongPassphrase { key } => {
                Self::UnknownSecret { key }
            }
            VaultError::IncorrectPassphrase => Self::IncorrectPassphrase,
            other => {
                log::error!("internal error: {other}");
                Self::Internal
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = Map::new();
        body.insert("message".into(), Value::String(self.to_string()));
        if let Self::UnknownSecret { key } = self {
            body.insert("secret_key".into(), Value::String(key.clone()));
        }
        let mut response = HttpResponse::NotFound();
        response
            .insert_header((INTENDED_STATUS, self.intended_status().as_str()))
            .content_type(JSON);
        if self.closes_connection() {
            // What is left of the body is never read, or cannot be trusted to end
            // where it says: close, so it cannot be taken for the next request,
            // and the socket is not held for it.
            response.force_close();
        }
        response.body(Value::Object(body).to_string())
    }
}

/// Answers any route or method the API does not have.
pub async fn not_found() -> HttpResponse {
    ApiError::NotFound.error_response()
}

/// Middleware for `/api/`: any error answer that did not come from an
/// [`ApiError`] (one actix or a library produced inside the app) is rewritten as
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
                        web::get().to(|| async { Err::<HttpResponse, _>(ApiError::RateLimited) }),
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
