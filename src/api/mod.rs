//! The Onetime Secret REST API v1 (`/api/v1`): routing, parameters, callers, errors.
//!
//! Handlers (in `v1/`) are thin: extract a [`Caller`] and [`Params`], turn params
//! into domain values, call the [`Vault`], render JSON. Every failure is an
//! [`ApiError`], mapped to the wire in one place (`error.rs`).

mod caller;
mod error;
mod params;
mod v1;

pub use caller::Caller;
pub use error::{ApiError, INTENDED_STATUS, JSON, not_found};
pub use params::{BodyLimit, Params};

use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use crate::accounts::Accounts;
use crate::domain::CallerLimits;
use crate::ratelimit::{Action, IpNet, RateLimiter, Subject};
use crate::vault::{Vault, VaultError, unix_now};

/// Everything the API handlers share.
pub struct ApiState {
    pub vault: Vault,
    pub accounts: Accounts,
    pub limiter: RateLimiter,
    /// Accounts skip the create, reveal and metadata limits.
    pub exempt_accounts: bool,
    pub trusted_proxies: Vec<IpNet>,
    /// `false`: only accounts may create secrets.
    pub anonymous_create: bool,
    pub anonymous: CallerLimits,
    pub authenticated: CallerLimits,
    /// Scheme and host (and optional path prefix) of every link, without a trailing
    /// slash. Never taken from the request's `Host` header.
    pub base_url: String,
    /// Custom domains an account may pass as `share_domain`.
    pub share_domains: Vec<String>,
}

impl ApiState {
    /// The limits that apply to `caller`.
    pub fn limits(&self, caller: &Caller) -> &CallerLimits {
        if caller.is_anonymous() {
            &self.anonymous
        } else {
            &self.authenticated
        }
    }

    /// Counts one `action` for the caller (its address, and its account), or
    /// refuses the request without counting when a limit is reached.
    pub fn rate_limit(&self, action: Action, caller: &Caller) -> Result<(), ApiError> {
        if self.exempt_accounts && !caller.is_anonymous() && action != Action::Email {
            return Ok(());
        }
        let mut subjects = vec![Subject::Ip(caller.ip)];
        if let Some(account) = &caller.account {
            subjects.push(Subject::Account(account.as_str().to_owned()));
        }
        self.limiter
            .hit(action, &subjects, unix_now())
            .map_err(|_| ApiError::RateLimited)
    }

    /// Runs a passphrase attempt on the secret or receipt named `key`, unless this
    /// address has used up its failed attempts on it; counts the attempt if the
    /// passphrase was wrong.
    pub async fn passphrase_attempt<T>(
        &self,
        caller: &Caller,
        key: &str,
        attempt: impl Future<Output = Result<T, VaultError>>,
    ) -> Result<T, ApiError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        let mut id = [0u8; 32];
        id.copy_from_slice(digest.as_ref());
        let subject = [Subject::SecretFromIp(id, caller.ip)];
        let now = unix_now();
        self.limiter
            .check(Action::FailedPassphrase, &subject, now)
            .map_err(|_| ApiError::RateLimited)?;
        let result = attempt.await;
        if matches!(
            result,
            Err(VaultError::WrongPassphrase { .. } | VaultError::IncorrectPassphrase)
        ) {
            // Counting cannot fail the request: it already failed.
            let _ = self.limiter.hit(Action::FailedPassphrase, &subject, now);
        }
        Ok(result?)
    }

    /// `scheme://host` of the server's own links (the base URL without its path).
    pub fn origin(&self) -> &str {
        let after_scheme = self.base_url.find("://").map_or(0, |i| i + 3);
        let end = self.base_url[after_scheme..]
            .find('/')
            .map_or(self.base_url.len(), |i| after_scheme + i);
        &self.base_url[..end]
    }

    /// The host of the server's own links.
    pub fn own_host(&self) -> &str {
        let origin = self.origin();
        origin.find("://").map_or(origin, |i| &origin[i + 3..])
    }
}

/// Registers every v1 route. Each resource answers unknown methods with the v1
/// `Not Found` error rather than actix's bare 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let no_store = DefaultHeaders::new()
        .add((CACHE_CONTROL, "no-store"))
        .add((PRAGMA, "no-cache"));
    cfg.service(
        web::scope("/api/v1")
            .wrap(no_store)
            .service(resource("/status").route(web::get().to(v1::status::status)))
            .service(resource("/authcheck").route(web::get().to(v1::status::authcheck)))
            // Before `/private/{key}`, which would otherwise take "recent" as a key.
            .service(resource("/private/recent").route(web::get().to(v1::metadata::recent)))
            .service(resource("/metadata/recent").route(web::get().to(v1::metadata::recent)))
            .service(resource("/share").route(web::post().to(v1::share::share)))
            .service(resource("/create").route(web::post().to(v1::share::share)))
            .service(resource("/generate").route(web::post().to(v1::share::generate)))
            .service(resource("/secret/{key}").route(web::post().to(v1::secret::reveal)))
            .service(
                resource("/private/{key}")
                    .route(web::get().to(v1::metadata::metadata))
                    .route(web::post().to(v1::metadata::metadata)),
            )
            .service(
                resource("/metadata/{key}")
                    .route(web::get().to(v1::metadata::metadata))
                    .route(web::post().to(v1::metadata::metadata)),
            )
            .service(resource("/private/{key}/burn").route(web::post().to(v1::metadata::burn)))
            .service(resource("/metadata/{key}/burn").route(web::post().to(v1::metadata::burn)))
            .default_service(web::to(not_found)),
    );
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(not_found))
}

/// A 200 response with a JSON body and the v1 content type.
pub fn json_ok<T: Serialize>(body: &T) -> HttpResponse {
    match serde_json::to_string(body) {
        Ok(text) => HttpResponse::Ok().content_type(JSON).body(text),
        Err(err) => {
            log::error!("serialising a response failed: {err}");
            actix_web::ResponseError::error_response(&ApiError::Internal)
        }
    }
}
