//! Thin handlers: parse the form, call the service, render a page. (Cross-site
//! posts never get here: see [`super::same_origin`].)

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use zeroize::Zeroizing;

use super::handover;
use super::pages::{self, FormView, Frame};
use super::{Redirect, WebError, page, retry_after, see_other};
use crate::app::AppState;
use crate::domain::{MetadataKey, Passphrase, SecretKey};
use crate::error::Error;
use crate::request::{Params, PathKey};
use crate::service::{Caller, Generate, Share};

type PageResult = Result<HttpResponse, WebError>;

/// What a creating form offers: whether it asks for an account (a closed
/// instance), the TTL choices within the limits, and the one selected.
fn form_choices(state: &AppState) -> (bool, Vec<u64>, u64) {
    let policy = state.service.policy();
    let closed = !policy.anonymous_create;
    let limits = if closed {
        &policy.authenticated
    } else {
        &policy.anonymous
    };
    let choices: Vec<u64> = state
        .ttl_choices
        .iter()
        .copied()
        .filter(|c| (limits.ttl.min..=limits.ttl.max).contains(c))
        .collect();
    // The largest choice not above the default TTL.
    let selected = choices
        .iter()
        .copied()
        .filter(|c| *c <= limits.ttl.default)
        .max()
        .or_else(|| choices.first().copied())
        .unwrap_or(limits.ttl.default);
    (closed, choices, selected)
}

/// A creating form (`render` is `pages::index` or `pages::ask`), with the
/// reason a post was refused.
pub(super) fn form_page(
    state: &AppState,
    frame: &Frame,
    status: StatusCode,
    error: Option<&str>,
    render: fn(&Frame, &FormView<'_>) -> maud::Markup,
) -> HttpResponse {
    let (closed, choices, selected) = form_choices(state);
    page(
        status,
        render(
            frame,
            &FormView {
                closed,
                ttl_choices: &choices,
                selected_ttl: selected,
                error,
            },
        ),
    )
}

fn index_page(
    state: &AppState,
    frame: &Frame,
    status: StatusCode,
    error: Option<&str>,
) -> HttpResponse {
    form_page(state, frame, status, error, pages::index)
}

/// `GET /`
pub async fn index(state: web::Data<AppState>, frame: Frame) -> HttpResponse {
    index_page(&state, &frame, StatusCode::OK, None)
}

/// `POST /share`: create (or generate) from the form. Success redirects to the
/// receipt, so a reload does not create a second secret; a generated password
/// goes with the redirect through the [`handover`], shown by the first GET only.
/// A refused form is shown again with the reason (the secret is not echoed back).
pub async fn create(
    state: web::Data<AppState>,
    frame: Frame,
    caller: Result<Caller, Error>,
    params: Result<Params, Error>,
) -> PageResult {
    let mut params = params?;
    let caller = caller?;
    let service = &state.service;
    let result = async {
        // A closed instance's form carries the account's credentials itself.
        let caller = signed_in(&state, caller, &mut params)?;
        let options = params.secret_options();
        if params.get("action") == Some("generate") {
            let request = Generate {
                length: None,
                options,
            };
            let generated = service.generate(&caller, request).await?;
            let metadata_key = generated.receipt.metadata_key.expose();
            let value = generated.value.expose();
            match state.generated.put(metadata_key, value) {
                Some(token) => {
                    let mut response =
                        see_other(Redirect::Receipt(&generated.receipt.metadata_key));
                    set_handover_cookie(
                        &mut response,
                        &state,
                        &generated.receipt.metadata_key,
                        &token,
                        handover::LIFETIME.as_secs(),
                    );
                    Ok(response)
                }
                // Too many waiting: shown in this answer instead.
                None => {
                    let link = service.links().secret_of(&generated.receipt);
                    Ok(page(
                        StatusCode::OK,
                        pages::receipt(&frame, &generated.receipt, link.as_deref(), Some(value)),
                    ))
                }
            }
        } else {
            let request = Share {
                secret: params.secret(),
                options,
            };
            let receipt = service.share(&caller, request).await?;
            Ok(see_other(Redirect::Receipt(&receipt.metadata_key)))
        }
    }
    .await;
    match result {
        Ok(response) => Ok(response),
        Err(Error::Internal) => Err(WebError::Page(Error::Internal)),
        Err(err) => Ok(index_page(
            &state,
            &frame,
            err.intended_status(),
            Some(&frame.lang.error(&err)),
        )),
    }
}

/// The caller, signed in with the form's `account` and `token` when it has them.
pub(super) fn signed_in(
    state: &AppState,
    mut caller: Caller,
    params: &mut Params,
) -> Result<Caller, Error> {
    let account = params.take("account").unwrap_or_default();
    let token = Zeroizing::new(params.take("token").unwrap_or_default());
    if !account.is_empty() || !token.is_empty() {
        caller.account = Some(state.service.authenticate(&account, &token)?);
    }
    Ok(caller)
}

/// `GET /private/{key}`: the creator's receipt.
pub async fn receipt(
    state: web::Data<AppState>,
    frame: Frame,
    req: HttpRequest,
    caller: Result<Caller, Error>,
    key: Result<PathKey<MetadataKey>, Error>,
) -> PageResult {
    let PathKey(key) = key.map_err(receipt_error)?;
    let receipt = state
        .service
        .receipt(&caller?, &key)
        .map_err(receipt_error)?;
    let link = state.service.links().secret_of(&receipt);
    let token = pages::cookie(&req, handover::COOKIE);
    let generated = token.and_then(|token| state.generated.take(key.expose(), token));
    let mut response = page(
        StatusCode::OK,
        pages::receipt(
            &frame,
            &receipt,
            link.as_deref(),
            generated.as_deref().map(String::as_str),
        ),
    );
    if token.is_some() {
        set_handover_cookie(&mut response, &state, &key, "", 0);
    }
    Ok(response)
}

/// A receipt that cannot be found gets the receipt's page, not the secret's.
fn receipt_error(err: Error) -> WebError {
    match err {
        Error::UnknownSecret { .. } => WebError::UnknownReceipt,
        other => other.into(),
    }
}

/// Sets (or, with `max_age` 0, clears) the handover cookie, scoped to this
/// receipt's path, unreadable by script, never sent cross-site. The path is
/// made of a parsed key, so nothing of the request's path reaches the header.
fn set_handover_cookie(
    response: &mut HttpResponse,
    state: &AppState,
    metadata_key: &MetadataKey,
    token: &str,
    max_age: u64,
) {
    let secure = if state.service.links().origin().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={token}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
        handover::COOKIE,
        Redirect::Receipt(metadata_key).location()
    );
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&cookie) {
        response
            .headers_mut()
            .append(actix_web::http::header::SET_COOKIE, value);
    }
}

/// `GET /private/{key}/burn`: the confirm step. Nothing to burn → the receipt.
pub async fn confirm_burn(
    state: web::Data<AppState>,
    frame: Frame,
    caller: Result<Caller, Error>,
    key: Result<PathKey<MetadataKey>, Error>,
) -> PageResult {
    let (caller, PathKey(key)) = (caller?, key.map_err(receipt_error)?);
    let receipt = state
        .service
        .receipt(&caller, &key)
        .map_err(receipt_error)?;
    if !receipt.state.is_live() {
        return Ok(see_other(Redirect::Receipt(&key)));
    }
    Ok(page(
        StatusCode::OK,
        pages::confirm_burn(&frame, &receipt, None),
    ))
}

/// `POST /private/{key}/burn`: burns, then back to the receipt. A wrong passphrase
/// shows the confirm step again with the reason.
pub async fn burn(
    state: web::Data<AppState>,
    frame: Frame,
    caller: Result<Caller, Error>,
    key: Result<PathKey<MetadataKey>, Error>,
    params: Result<Params, Error>,
) -> PageResult {
    let (caller, PathKey(key)) = (caller?, key.map_err(receipt_error)?);
    let passphrase = Passphrase::attempt(params?.take("passphrase"));
    match state.service.burn(&caller, &key, passphrase).await {
        Ok(_) => Ok(see_other(Redirect::Receipt(&key))),
        Err(Error::WrongPassphraseToBurn) => {
            let receipt = state
                .service
                .receipt(&caller, &key)
                .map_err(receipt_error)?;
            Ok(page(
                StatusCode::BAD_REQUEST,
                pages::confirm_burn(&frame, &receipt, Some(frame.lang.t("burn.wrong"))),
            ))
        }
        Err(Error::PassphraseLocked {
            retry_after: seconds,
        }) => {
            let receipt = state
                .service
                .receipt(&caller, &key)
                .map_err(receipt_error)?;
            let mut response = page(
                StatusCode::TOO_MANY_REQUESTS,
                pages::confirm_burn(&frame, &receipt, Some(&locked_message(&frame, seconds))),
            );
            retry_after(&mut response, seconds);
            Ok(response)
        }
        Err(err) => Err(receipt_error(err)),
    }
}

/// `GET /secret/{key}`: offers to reveal; reveals nothing and consumes nothing
/// (link previews and scanners fetch this). Marks the receipt `viewed`.
pub async fn show_secret(
    state: web::Data<AppState>,
    frame: Frame,
    caller: Result<Caller, Error>,
    key: Result<PathKey<SecretKey>, Error>,
) -> PageResult {
    let (caller, PathKey(key)) = (caller?, key?);
    let preview = state.service.preview(&caller, &key)?;
    Ok(page(
        StatusCode::OK,
        pages::reveal_form(&frame, key.expose(), preview.passphrase_required, None),
    ))
}

/// `POST /secret/{key}`: reveals and destroys. A wrong passphrase shows the form
/// again with the reason and keeps the secret.
pub async fn reveal_secret(
    state: web::Data<AppState>,
    frame: Frame,
    caller: Result<Caller, Error>,
    key: Result<PathKey<SecretKey>, Error>,
    params: Result<Params, Error>,
) -> PageResult {
    let (caller, PathKey(key)) = (caller?, key?);
    let passphrase = Passphrase::attempt(params?.take("passphrase"));
    match state.service.reveal(&caller, &key, passphrase).await {
        Ok(revealed) => Ok(page(
            StatusCode::OK,
            pages::revealed(&frame, revealed.value.expose()),
        )),
        Err(Error::WrongPassphraseToReveal { .. }) => Ok(page(
            StatusCode::BAD_REQUEST,
            pages::reveal_form(
                &frame,
                key.expose(),
                true,
                Some(frame.lang.t("reveal.wrong")),
            ),
        )),
        Err(Error::PassphraseLocked {
            retry_after: seconds,
        }) => {
            let mut response = page(
                StatusCode::TOO_MANY_REQUESTS,
                pages::reveal_form(
                    &frame,
                    key.expose(),
                    true,
                    Some(&locked_message(&frame, seconds)),
                ),
            );
            retry_after(&mut response, seconds);
            Ok(response)
        }
        Err(err) => Err(err.into()),
    }
}

/// What a page says when this address is out of passphrase attempts.
fn locked_message(frame: &Frame, seconds: u64) -> String {
    let lang = frame.lang;
    lang.tf("reveal.locked", &[("duration", &lang.duration(seconds))])
}
