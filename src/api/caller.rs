//! Who is calling: the request context every handler receives.
//!
//! Spec §1: no `Authorization` header is the anonymous user, and so is Basic with an
//! empty user and empty token (`Basic Og==`). Any other header must be valid Basic
//! credentials of a known account, or the request fails with `Not authorized` — it
//! never falls back to anonymous.

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::{FromRequest, HttpRequest, web};
use actix_web_httpauth::headers::authorization::{Basic, Scheme};
use std::future::{Ready, ready};
use std::net::{IpAddr, Ipv4Addr};

use super::{ApiError, AppState};
use crate::accounts::AccountName;
use crate::ratelimit::client_ip;
use crate::vault::ANONYMOUS;

/// The caller of one request: an account or anonymous, and the client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: Option<AccountName>,
    /// The peer, or the forwarded client when the peer is a trusted proxy.
    pub ip: IpAddr,
}

impl Caller {
    /// The `custid` recorded on what this caller creates.
    pub fn custid(&self) -> &str {
        self.account.as_ref().map_or(ANONYMOUS, AccountName::as_str)
    }

    pub fn is_anonymous(&self) -> bool {
        self.account.is_none()
    }

    /// The account, or `Not authorized` for routes that need one.
    pub fn require_account(&self) -> Result<&AccountName, ApiError> {
        self.account.as_ref().ok_or(ApiError::NotAuthorized)
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(identify(req))
    }
}

fn identify(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or(ApiError::Internal)?;
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    // Several header lines are one list in order (RFC 9110 §5.3): a proxy may append
    // its own line after the client's. A line that is not text ends the walk there.
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .map(|v| v.to_str().unwrap_or("?"))
        .collect();
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(","));
    let ip = client_ip(peer, forwarded.as_deref(), &state.trusted_proxies);
    let account = match req.headers().get(AUTHORIZATION) {
        None => None,
        Some(header) => authenticate(state, header)?,
    };
    Ok(Caller { account, ip })
}

/// `Ok(None)` only for the anonymous `Basic Og==`; unknown or malformed credentials
/// are `Not authorized`.
/// The scheme name is case-insensitive (RFC 9110 §11.1) but the parser wants
/// `Basic`: rewrite `basic …`, `BASIC …` and the like.
fn with_canonical_scheme(header: &HeaderValue) -> HeaderValue {
    let bytes = header.as_bytes();
    match bytes.get(..6) {
        Some(scheme) if scheme.eq_ignore_ascii_case(b"basic ") && &scheme[..5] != b"Basic" => {
            let mut fixed = b"Basic ".to_vec();
            fixed.extend_from_slice(&bytes[6..]);
            HeaderValue::from_bytes(&fixed).unwrap_or_else(|_| header.clone())
        }
        _ => header.clone(),
    }
}

fn authenticate(state: &AppState, header: &HeaderValue) -> Result<Option<AccountName>, ApiError> {
    let basic =
        Basic::parse(&with_canonical_scheme(header)).map_err(|_| ApiError::NotAuthorized)?;
    let token = basic.password().unwrap_or_default();
    if basic.user_id().is_empty() && token.is_empty() {
        return Ok(None);
    }
    match state.accounts.authenticate(basic.user_id(), token) {
        Ok(Some(account)) => Ok(Some(account)),
        Ok(None) => Err(ApiError::NotAuthorized),
        Err(err) => {
            log::error!("checking credentials failed: {err}");
            Err(ApiError::Internal)
        }
    }
}
