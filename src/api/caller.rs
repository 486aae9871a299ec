//! Who is calling: the request context every handler receives.
//!
//! Spec §1: no `Authorization` header is the anonymous user, and so is Basic with an
//! empty user and empty token (`Basic Og==`). Any other header must be valid Basic
//! credentials of a known account, or the request fails with `Not authorized` — it
//! never falls back to anonymous.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};

use super::ApiError;
use crate::vault::ANONYMOUS;

/// The authenticated or anonymous caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// A known account, by name.
    Account(String),
}

impl Caller {
    /// The `custid` recorded on what this caller creates.
    pub fn custid(&self) -> &str {
        match self {
            Self::Anonymous => ANONYMOUS,
            Self::Account(name) => name,
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, Self::Anonymous)
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
    let Some(header) = req.headers().get(AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let header = header.to_str().map_err(|_| ApiError::NotAuthorized)?.trim();
    let (scheme, credentials) = header.split_once(' ').ok_or(ApiError::NotAuthorized)?;
    if scheme.eq_ignore_ascii_case("basic") && credentials.trim() == "Og==" {
        return Ok(Caller::Anonymous);
    }
    // No accounts exist yet: every other credential is unknown.
    Err(ApiError::NotAuthorized)
}
