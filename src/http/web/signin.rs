//! Signing in on the pages, and what a signed-in person has of their own:
//! the sign-in page (a password, single sign-on, or both), sign-out, the
//! OpenID provider's round trip, "My secrets" and the API token's renewal.
//!
//! Thin like the other handlers: the service decides (who may sign in, how
//! often, which sessions live); here are only the cookies
//! ([`super::cookies`]) and the pages. Every POST passes the same-origin
//! check first, like every other form.

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use zeroize::Zeroizing;

use super::cookies::{Jar, Kind};
use super::pages::{self, AccountView, Frame, SignInWays};
use super::{Page, Redirect, WebError, page, retry_after, see_other};
use crate::error::Error;
use crate::http::extract::status::intended;
use crate::http::extract::{Params, SignedIn};
use crate::http::state::AppState;
use crate::oidc::{PENDING_SECS, Refusal};
use crate::service::Caller;
use crate::sessions::Started;
use crate::vault::RequestStatus;

type PageResult = Result<HttpResponse, WebError>;

/// The cookies' names and flags on this server (by its `base_url`).
fn jar(state: &AppState) -> Jar {
    Jar::for_origin(state.service.links().origin())
}

fn ways(state: &AppState) -> SignInWays {
    let (password, single_sign_on) = state.service.sign_in_ways();
    SignInWays {
        password,
        single_sign_on,
    }
}

/// The sign-in page with `status`, and the reason an attempt failed. A
/// rate-limited attempt says how long to wait, with `Retry-After`.
pub(super) fn sign_in_page(
    state: &AppState,
    frame: &Frame,
    status: StatusCode,
    error: Option<&Error>,
) -> HttpResponse {
    let reason = error.map(|err| frame.lang.error(err));
    let mut response = page(
        status,
        pages::sign_in(frame, ways(state), reason.as_deref()),
    );
    if let Some(seconds) = error.and_then(Error::retry_after) {
        retry_after(&mut response, seconds);
    }
    response
}

/// `GET /signin`. Not a page at all when no way to sign in is on.
pub async fn form(state: web::Data<AppState>, frame: Frame) -> PageResult {
    let ways = ways(&state);
    if !ways.password && !ways.single_sign_on {
        return Err(WebError::NotFound);
    }
    Ok(sign_in_page(&state, &frame, StatusCode::OK, None))
}

/// The answer to a sign-in that worked: the new session's cookie (a fresh
/// value every time: a session id is never reused), and on to `/`. A
/// session the browser still had is ended first.
async fn signed_in(state: &AppState, req: &HttpRequest, started: &Started) -> HttpResponse {
    let jar = jar(state);
    if let Some(old) = req.cookie(jar.name(Kind::Session)) {
        // Best effort: the old session ends by itself at its idle end anyway.
        if let Err(err) = state.service.sign_out(old.value()).await {
            log::warn!("an earlier session could not be ended at sign-in: {err}");
        }
    }
    let mut response = see_other(Redirect::Home);
    // Our name and a base64url value: always a valid header value.
    let _ = response.add_cookie(&jar.set(Kind::Session, &started.cookie, started.max_age));
    response
}

/// `POST /signin`: a name and a password. A wrong password and an unknown
/// name get the same page (401); too many failures get the rate limit's page
/// (429), the right password included.
pub async fn sign_in(
    state: web::Data<AppState>,
    frame: Frame,
    req: HttpRequest,
    Page(caller): Page<Caller>,
    Page(mut params): Page<Params>,
) -> PageResult {
    let name = params.take("name").unwrap_or_default();
    let password = Zeroizing::new(params.take("password").unwrap_or_default());
    match state
        .service
        .sign_in_with_password(&caller, &name, password)
        .await
    {
        Ok(started) => Ok(signed_in(&state, &req, &started).await),
        Err(Error::NotFound) => Err(WebError::NotFound),
        Err(err @ (Error::SignInFailed | Error::RateLimited { .. })) => {
            Ok(sign_in_page(&state, &frame, intended(&err), Some(&err)))
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /signout`: ends the session, forgets its cookie, back to `/`.
pub async fn sign_out(state: web::Data<AppState>, req: HttpRequest) -> PageResult {
    let jar = jar(&state);
    if let Some(cookie) = req.cookie(jar.name(Kind::Session)) {
        state.service.sign_out(cookie.value()).await?;
    }
    let mut response = see_other(Redirect::Home);
    let _ = response.add_cookie(&jar.clear(Kind::Session));
    Ok(response)
}

/// `GET /auth/oidc/start`: off to the OpenID provider, with the pending
/// sign-in sealed in a cookie of this browser (for 10 minutes).
pub async fn start(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
) -> PageResult {
    match state.service.begin_single_sign_on(&caller).await {
        Ok((url, pending)) => {
            let mut response = see_other(Redirect::Provider(&url));
            // Our name and a base64url value: always a valid header value.
            let _ = response.add_cookie(&jar(&state).set(Kind::Pending, &pending, PENDING_SECS));
            Ok(response)
        }
        Err(Error::NotFound) => Err(WebError::NotFound),
        Err(err) => Ok(refused(&state, &frame, err)),
    }
}

/// A single sign-on that did not go through: the sign-in page with the
/// reason (403), or the rate limit's (429). Only an internal failure is the
/// error page.
fn refused(state: &AppState, frame: &Frame, err: Error) -> HttpResponse {
    let status = match &err {
        Error::SingleSignOn(_) => StatusCode::FORBIDDEN,
        other => intended(other),
    };
    match err {
        Error::Internal | Error::StorageUnavailable | Error::Busy => {
            WebError::Page(err).render(frame)
        }
        err => sign_in_page(state, frame, status, Some(&err)),
    }
}

/// `GET /auth/oidc/callback?code&state[&iss]`: the provider sends the
/// person back. Checked by the service against the pending cookie (which is
/// removed whatever the outcome: it serves one attempt); a session and on
/// to `/`, or the sign-in page with the reason. A provider's own `error=`
/// (the person cancelled, the provider refused) is "did not complete".
pub async fn callback(
    state: web::Data<AppState>,
    frame: Frame,
    req: HttpRequest,
    Page(caller): Page<Caller>,
    Page(mut params): Page<Params>,
) -> PageResult {
    let jar = jar(&state);
    let pending = req
        .cookie(jar.name(Kind::Pending))
        .map(|cookie| cookie.value().to_owned())
        .unwrap_or_default();
    let result = if params.get("error").is_some() {
        Err(Error::SingleSignOn(Refusal::Provider(
            "the provider answered with an error".into(),
        )))
    } else {
        let code = params.take("code").unwrap_or_default();
        let returned_state = params.take("state").unwrap_or_default();
        let iss = params.take("iss");
        state
            .service
            .finish_single_sign_on(&caller, &pending, &code, &returned_state, iss.as_deref())
            .await
    };
    let mut response = match result {
        Ok(started) => signed_in(&state, &req, &started).await,
        Err(Error::NotFound) => return Err(WebError::NotFound),
        Err(err) => refused(&state, &frame, err),
    };
    let _ = response.add_cookie(&jar.clear(Kind::Pending));
    Ok(response)
}

/// The caller, if signed in with a session (not merely with API
/// credentials): "My secrets" and the token's renewal are for people.
fn session_caller(req: &HttpRequest, caller: Caller) -> Option<Caller> {
    req.extensions()
        .get::<SignedIn>()
        .is_some()
        .then_some(caller)
        .filter(|caller| caller.account.is_some())
}

/// `GET /account`: "My secrets". Nobody signed in: to the sign-in page.
pub async fn account(
    state: web::Data<AppState>,
    frame: Frame,
    req: HttpRequest,
    Page(caller): Page<Caller>,
) -> PageResult {
    let Some(caller) = session_caller(&req, caller) else {
        return Ok(see_other(Redirect::SignIn));
    };
    let Some(account) = caller.account.as_ref() else {
        return Ok(see_other(Redirect::SignIn));
    };
    let service = &state.service;
    let receipts = service.recent(&caller).await?;
    let mut requests = service.my_requests(&caller).await?;
    requests.retain(|r| matches!(r.status, RequestStatus::Waiting | RequestStatus::Answered));
    let extid = service.my_extid(&caller).await?;
    Ok(page(
        StatusCode::OK,
        pages::account(
            &frame,
            &AccountView {
                account,
                extid: &extid,
                receipts: &receipts,
                requests: &requests,
            },
        ),
    ))
}

/// `POST /account/token`: a new API token, shown once (the page is
/// `no-store`, like every page). Renewing ends every session of the account;
/// this browser goes on in the new one the service started.
pub async fn renew_token(
    state: web::Data<AppState>,
    frame: Frame,
    req: HttpRequest,
    Page(caller): Page<Caller>,
) -> PageResult {
    let Some(caller) = session_caller(&req, caller) else {
        return Ok(see_other(Redirect::SignIn));
    };
    let (issued, started) = state.service.renew_token(&caller).await?;
    let mut response = page(
        StatusCode::OK,
        pages::token_renewed(&frame, issued.token.expose(), &issued.extid),
    );
    let jar = jar(&state);
    let _ = response.add_cookie(&jar.set(Kind::Session, &started.cookie, started.max_age));
    Ok(response)
}
