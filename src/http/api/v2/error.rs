//! The one place where failures become v2 answers (`api-v2.md` §3): the real
//! status, and `{"error": <sentence>, "error_type": <type>, "field"?: <param>}`
//! (with `retry_after` on a 429, `code` on a 403 for anonymous creates).
//! Every v2 answer of an error status has this shape: the middleware
//! [`v2_errors`] rewrites any other (one actix made) into it.

use actix_web::http::StatusCode;
use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};

use crate::domain::ParamError;
use crate::error::Error;
use crate::http::api::JSON;
use crate::http::extract::status::closes_connection;
use crate::http::extract::{UnknownKey, face_extractor};

/// An [`Error`] as v2 answers it; `during` names the create that was refused
/// to an anonymous caller (for `code`).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct V2Error {
    pub error: Error,
    pub during: Option<Create>,
}

/// Which create an anonymous caller was refused (v2's `GUEST_<OP>_DISABLED`).
#[derive(Debug, Clone, Copy)]
pub enum Create {
    Conceal,
    Generate,
}

impl From<Error> for V2Error {
    fn from(error: Error) -> Self {
        Self {
            error,
            during: None,
        }
    }
}

impl V2Error {
    /// `error`, from a create of kind `create`.
    pub fn during(create: Create) -> impl FnOnce(Error) -> Self {
        move |error| Self {
            error,
            during: Some(create),
        }
    }
}

/// A path that holds no key: an unknown secret (or receipt), like v1.
impl<K> From<UnknownKey<K>> for V2Error {
    fn from(unknown: UnknownKey<K>) -> Self {
        Error::unknown(&unknown.raw).into()
    }
}

face_extractor!(
    /// An extractor of the v2 API: the caller, the parameters or the path's
    /// key, or a refusal as a [`V2Error`].
    V2,
    V2Error
);

/// What an answer to `err` says: status, `error_type`, sentence, `field`.
fn describe(err: &Error) -> (StatusCode, &'static str, String, Option<&'static str>) {
    use StatusCode as S;
    let text = err.to_string();
    match err {
        Error::UnknownSecret { .. } => (S::NOT_FOUND, "RecordNotFound", text, None),
        Error::UnknownRequest => (S::NOT_FOUND, "RecordNotFound", text, None),
        Error::NotFound => (S::NOT_FOUND, "NotFound", text, None),
        Error::WrongPassphraseToReveal { .. } | Error::WrongPassphraseToBurn => (
            S::UNPROCESSABLE_ENTITY,
            "FormError",
            "Incorrect passphrase".into(),
            Some("passphrase"),
        ),
        Error::Param(param) => {
            let (kind, text) = match param {
                ParamError::NothingToShare => ("missing", text),
                ParamError::SecretTooLarge(max) => (
                    "FormError",
                    format!("Secret content must be no more than {max} bytes long"),
                ),
                _ => ("FormError", text),
            };
            (S::UNPROCESSABLE_ENTITY, kind, text, param.field())
        }
        Error::NotAuthorized
        | Error::AccountRequiredForEmail
        | Error::NotReceiptOwner
        | Error::SignInFailed
        | Error::SingleSignOn(_) => {
            let field = matches!(err, Error::AccountRequiredForEmail).then_some("recipient");
            (S::UNAUTHORIZED, "Unauthorized", text, field)
        }
        Error::AccountRequiredToCreate => (S::FORBIDDEN, "GuestRoutesDisabled", text, None),
        Error::DomainNotPermitted(domain) => (
            S::FORBIDDEN,
            "Forbidden",
            format!("You do not have permission to use domain: {domain}"),
            Some("share_domain"),
        ),
        Error::UnknownDomain(_) => (
            S::UNPROCESSABLE_ENTITY,
            "FormError",
            text,
            Some("share_domain"),
        ),
        Error::EmailNotConfigured => (
            S::UNPROCESSABLE_ENTITY,
            "FormError",
            text,
            Some("recipient"),
        ),
        Error::UndeliverableEmail(_) => (
            S::UNPROCESSABLE_ENTITY,
            "invalid_email",
            text,
            Some("recipient"),
        ),
        Error::TooManyIdentifiers(_) => (
            S::UNPROCESSABLE_ENTITY,
            "FormError",
            text,
            Some("identifiers"),
        ),
        Error::MalformedJson => (
            S::BAD_REQUEST,
            "FormError",
            "Malformed JSON body".into(),
            None,
        ),
        Error::BadRequest(_) | Error::BadBody(_) => (S::BAD_REQUEST, "FormError", text, None),
        Error::BodyTooLarge(_) => (S::PAYLOAD_TOO_LARGE, "PayloadTooLarge", text, None),
        Error::BodyTimeout => (S::REQUEST_TIMEOUT, "RequestTimeout", text, None),
        Error::RateLimited { .. } | Error::PassphraseLocked { .. } => {
            (S::TOO_MANY_REQUESTS, "LimitExceeded", text, None)
        }
        Error::Busy | Error::StorageUnavailable => {
            (S::SERVICE_UNAVAILABLE, "ServiceUnavailable", text, None)
        }
        Error::NoAnswerYet => (S::CONFLICT, "Conflict", text, None),
        Error::EmailFailed => (S::INTERNAL_SERVER_ERROR, "ServerError", text, None),
        Error::Internal => (
            S::INTERNAL_SERVER_ERROR,
            "ServerError",
            "Internal Server Error".into(),
            None,
        ),
    }
}

impl ResponseError for V2Error {
    fn status_code(&self) -> StatusCode {
        describe(&self.error).0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, kind, text, field) = describe(&self.error);
        let mut body = Map::new();
        body.insert("error".into(), Value::String(text));
        body.insert("error_type".into(), Value::String(kind.into()));
        if let Some(field) = field {
            body.insert("field".into(), Value::String(field.into()));
        }
        if matches!(self.error, Error::AccountRequiredToCreate) {
            let code = match self.during {
                Some(Create::Conceal) => "GUEST_CONCEAL_DISABLED",
                Some(Create::Generate) => "GUEST_GENERATE_DISABLED",
                None => "GUEST_ROUTES_DISABLED",
            };
            body.insert("code".into(), Value::String(code.into()));
        }
        let mut response = HttpResponse::build(status);
        response.content_type(JSON);
        if let Some(seconds) = self.error.retry_after() {
            body.insert("retry_after".into(), json!(seconds));
            response.insert_header((RETRY_AFTER, seconds.to_string()));
        }
        if closes_connection(&self.error) {
            // As v1: the rest of the body is never read, or cannot be trusted.
            response.force_close();
        }
        let mut answer = response.body(Value::Object(body).to_string());
        answer.extensions_mut().insert(Answered);
        answer
    }
}

/// Marks a response as one of v2's own error answers, so the middleware
/// leaves it as it is.
#[derive(Clone, Copy)]
struct Answered;

/// Answers any route or method v2 does not have.
pub async fn not_found() -> HttpResponse {
    V2Error::from(Error::NotFound).error_response()
}

/// Middleware for `/api/v2`: an error answer that did not come from a
/// [`V2Error`] (actix's own: a method not allowed, a panic caught, a payload
/// error) is rewritten in v2's shape with the same status, so a client of v2
/// only ever sees v2's one error shape.
pub async fn v2_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<actix_web::body::BoxBody>,
) -> Result<actix_web::dev::ServiceResponse, actix_web::Error> {
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(err) => {
            return Err(Foreign(err.as_response_error().status_code()).into());
        }
    };
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.response().extensions().get::<Answered>().is_some()
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

/// An error status from outside otsd's code, in v2's shape.
#[derive(Debug)]
struct Foreign(StatusCode);

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.canonical_reason().unwrap_or("Error"))
    }
}

impl ResponseError for Foreign {
    fn status_code(&self) -> StatusCode {
        self.0
    }

    fn error_response(&self) -> HttpResponse {
        let kind = match self.0.as_u16() {
            404 | 405 => "NotFound",
            s if s >= 500 => "ServerError",
            _ => "FormError",
        };
        let status = if self.0 == StatusCode::METHOD_NOT_ALLOWED {
            StatusCode::NOT_FOUND
        } else {
            self.0
        };
        let text = if status == StatusCode::NOT_FOUND {
            "Not Found".to_owned()
        } else if status.is_server_error() {
            "Internal Server Error".to_owned()
        } else {
            self.to_string()
        };
        let mut answer = HttpResponse::build(status)
            .content_type(JSON)
            .body(json!({ "error": text, "error_type": kind }).to_string());
        answer.extensions_mut().insert(Answered);
        answer
    }
}
