//! The one error of the service and everything below it: what went wrong, in
//! no face's terms (no status, no JSON, no HTML). Each face turns it into its
//! answer in one place: the v1 API in `api/error.rs` (404, the real status in
//! `X-OTS-Intended-Status`, the reference's exact messages), the requests API
//! there too (the real status), the pages in `web/mod.rs` (the reader's
//! language, from `web/messages.rs`). The status each has in HTTP is
//! `http::extract::status`.

use crate::crypto::CryptoError;
use crate::domain::ParamError;
use crate::store::StoreError;

pub use crate::telemetry::report;

#[derive(thiserror::Error)]
pub enum Error {
    /// Unknown, consumed, expired or malformed. `key` is what the caller sent,
    /// echoed back as the spec says.
    #[error("Unknown secret")]
    UnknownSecret { key: String },
    /// A reveal with a missing or wrong passphrase. The API answers it exactly
    /// like [`Error::UnknownSecret`] (the spec gives a guesser nothing to tell
    /// apart); the web page asks again; both count it as a failed attempt.
    #[error("Unknown secret")]
    WrongPassphraseToReveal { key: String },
    /// A burn with a missing or wrong passphrase: the creator is told so.
    #[error("Incorrect passphrase")]
    WrongPassphraseToBurn,
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
    /// A domain of the allow-list named by an anonymous caller: only accounts
    /// may use one. v1 words it as an unknown domain; v2 answers 403.
    #[error("Unknown domain: {0}")]
    DomainNotPermitted(String),
    /// A web sign-in with a wrong name or password (one answer for both).
    #[error("The account name or password is wrong.")]
    SignInFailed,
    /// A single sign-on the provider or otsd's rules did not let through.
    #[error("Single sign-on did not sign you in: {0}.")]
    SingleSignOn(crate::oidc::Refusal),
    /// A memo change by anyone but the receipt's owner.
    #[error("Not authorized to update this receipt")]
    NotReceiptOwner,
    /// More keys in one status request than [`crate::service::MAX_STATUS_KEYS`].
    #[error("No more than {0} identifiers at once")]
    TooManyIdentifiers(usize),
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
    /// The database cannot write (a full disk) until the server reopens it,
    /// which it does by itself once there is room: nothing can be created,
    /// revealed or burned meanwhile, and nothing was.
    #[error("The server cannot store secrets right now. Please try again later.")]
    StorageUnavailable,
    #[error("{0}")]
    BadRequest(&'static str),
    /// A JSON body that does not parse, or is not an object. Its own variant
    /// (not a [`Error::BadRequest`]) because each face words it: v1 keeps this
    /// text, v2 says `Malformed JSON body`.
    #[error("The request body is not a JSON object")]
    MalformedJson,
    /// A body that broke off or does not frame itself (a multipart body without
    /// its closing boundary): nothing after it on the connection can be trusted.
    #[error("{0}")]
    BadBody(&'static str),
    /// Over a rate limit (or out of passphrase attempts) until the limit's
    /// window ends, `retry_after` seconds from now: sent as `Retry-After`.
    #[error("Rate limit exceeded. Please try again later.")]
    RateLimited { retry_after: u64 },
    /// Out of passphrase guesses: this address on this secret until the rate
    /// limiter's window ends, or the secret itself, from every address on
    /// every node, until it expires (`vault::GUESSES_PER_SECRET`). The API says
    /// exactly what it says for [`Error::RateLimited`]; the pages say how long
    /// the lock lasts and that the secret is still there.
    #[error("Rate limit exceeded. Please try again later.")]
    PassphraseLocked { retry_after: u64 },
    /// A request link or private link that is unknown, or whose request is
    /// closed (answered, cancelled or expired): one answer for all of them.
    #[error("Unknown request")]
    UnknownRequest,
    /// The requester asked for an answer that has not arrived.
    #[error("There is no answer yet")]
    NoAnswerYet,
    #[error("Not Found")]
    NotFound,
    #[error("An unexpected error occurred :[")]
    Internal,
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Display never contains a key (the key is only in the v1 body).
        write!(f, "Error({self})")
    }
}

impl Error {
    pub(crate) fn unknown(key: &str) -> Self {
        Self::UnknownSecret {
            key: key.to_owned(),
        }
    }

    /// The key the caller sent, for the errors that echo it.
    pub fn echoed_key(&self) -> Option<&str> {
        match self {
            Self::UnknownSecret { key } | Self::WrongPassphraseToReveal { key } => Some(key),
            _ => None,
        }
    }

    /// Seconds until a refused request may succeed, for `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after } | Self::PassphraseLocked { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }
}

/// A failure below the service: logged with its cause, answered with none.
pub(crate) fn internal(err: &dyn std::error::Error) -> Error {
    log::error!("internal error: {}", report(err));
    Error::Internal
}

impl From<StoreError> for Error {
    /// A full disk is the caller's to retry later (the server logs it once,
    /// when the database fails, not at every refused request); anything else
    /// is internal.
    fn from(err: StoreError) -> Self {
        if err.is_unavailable() {
            Error::StorageUnavailable
        } else {
            internal(&err)
        }
    }
}

impl From<CryptoError> for Error {
    fn from(err: CryptoError) -> Self {
        internal(&err)
    }
}
