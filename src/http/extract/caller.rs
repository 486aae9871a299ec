//! Who is calling: the [`Caller`] every handler receives, from the peer address,
//! `X-Forwarded-For` (from trusted proxies only) and `Authorization`.
//!
//! Spec §1: no `Authorization` header is the anonymous user, and so is Basic with an
//! empty user and empty token (`Basic Og==`). Any other header must be valid Basic
//! credentials of a known account, or the request fails with `Not authorized` — it
//! never falls back to anonymous.
//!
//! On the pages, a browser signed in with a session cookie is that session's
//! account: the pages' session middleware leaves a [`SignedIn`] in the
//! request's extensions. The API's scopes never have one, so a session cookie
//! never authenticates an API call (the API keeps its token).

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, web};
use actix_web_httpauth::headers::authorization::{Basic, Scheme};
use futures_util::future::LocalBoxFuture;
use std::net::{IpAddr, Ipv4Addr};

use crate::accounts::AccountName;
use crate::error::Error;
use crate::http::state::AppState;
use crate::ratelimit::client_ip;
use crate::service::Caller;

use super::SignedIn;

/// App data of a scope whose routes ignore `Authorization` (v2's `/guest/…`):
/// their caller is always anonymous, whatever credentials come with it.
#[derive(Debug, Clone, Copy)]
pub struct GuestRoute;

impl super::Extract for Caller {
    type Rejection = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn extract(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let ip = state.as_ref().map(|state| client_address(req, state));
        let header = match req.app_data::<GuestRoute>() {
            Some(GuestRoute) => None,
            None => req.headers().get(AUTHORIZATION).cloned(),
        };
        let session = req.extensions().get::<SignedIn>().cloned();
        Box::pin(async move {
            let (Some(state), Some(ip)) = (state, ip) else {
                return Err(Error::Internal);
            };
            let account = match (session, header) {
                (Some(SignedIn(account)), _) => Some(account),
                (None, None) => None,
                (None, Some(header)) => authenticate(&state, &header).await?,
            };
            Ok(Caller { account, ip })
        })
    }
}

/// The client's address as rate limits count it: the peer, or the forwarded
/// client when the peer is a trusted proxy.
pub fn client_address(req: &HttpRequest, state: &AppState) -> IpAddr {
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
    client_ip(peer, forwarded.as_deref(), &state.trusted_proxies)
}

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

/// `Ok(None)` only for the anonymous `Basic Og==`; unknown or malformed credentials
/// are `Not authorized`.
async fn authenticate(
    state: &AppState,
    header: &HeaderValue,
) -> Result<Option<AccountName>, Error> {
    let basic = Basic::parse(&with_canonical_scheme(header)).map_err(|_| Error::NotAuthorized)?;
    let token = basic.password().unwrap_or_default();
    if basic.user_id().is_empty() && token.is_empty() {
        return Ok(None);
    }
    state
        .service
        .authenticate(basic.user_id(), token)
        .await
        .map(Some)
}
