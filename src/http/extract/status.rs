//! The status each [`Error`] has in HTTP: one table for every face. The v1 API
//! sends it in `X-OTS-Intended-Status` (its wire status is always 404), the
//! requests API and the pages as their status.

use actix_web::http::StatusCode;

use crate::domain::ParamError;
use crate::error::Error;

/// The status `err` would have without the v1 legacy of answering 404.
pub fn intended(err: &Error) -> StatusCode {
    match err {
        Error::UnknownSecret { .. }
        | Error::WrongPassphraseToReveal { .. }
        | Error::UnknownRequest
        | Error::NotFound => StatusCode::NOT_FOUND,
        Error::NoAnswerYet => StatusCode::CONFLICT,
        Error::NotAuthorized
        | Error::SignInFailed
        | Error::SingleSignOn(_)
        | Error::AccountRequiredForEmail
        | Error::AccountRequiredToCreate
        | Error::NotReceiptOwner => StatusCode::UNAUTHORIZED,
        Error::WrongPassphraseToBurn
        | Error::UnknownDomain(_)
        | Error::DomainNotPermitted(_)
        | Error::TooManyIdentifiers(_)
        | Error::EmailNotConfigured
        | Error::UndeliverableEmail(_)
        | Error::BadRequest(_)
        | Error::MalformedJson
        | Error::BadBody(_) => StatusCode::BAD_REQUEST,
        Error::Param(ParamError::SecretTooLarge(_)) | Error::BodyTooLarge(_) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        Error::Param(_) => StatusCode::BAD_REQUEST,
        Error::RateLimited { .. } | Error::PassphraseLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
        Error::Busy | Error::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal | Error::EmailFailed => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Errors about the body as a whole: answered before all of it was read, or
/// about a body that does not end where it should. What is left of it is never
/// read, or cannot be trusted to end where it says, so the connection closes.
pub fn closes_connection(err: &Error) -> bool {
    matches!(
        err,
        Error::BodyTooLarge(_) | Error::BodyTimeout | Error::Busy | Error::BadBody(_)
    )
}
