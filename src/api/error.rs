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
    #[error("{0}")]
    BadRequest(&'static str),
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
            | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Param(ParamError::SecretTooLarge(_)) | Self::BodyTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::Param(_) => StatusCode::BAD_REQUEST,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal | Self::EmailFailed => StatusCode::INTERNAL_SERVER_ERROR,
        }
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
        HttpResponse::NotFound()
            .insert_header((INTENDED_STATUS, self.intended_status().as_str()))
            .content_type(JSON)
            .body(Value::Object(body).to_string())
    }
}

/// Answers any route or method the API does not have.
pub async fn not_found() -> HttpResponse {
    ApiError::NotFound.error_response()
}
