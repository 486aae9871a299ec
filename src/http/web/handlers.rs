//! Thin handlers: parse the form, call the service, render a page. (Cross-site
//! posts never get here: see [`super::same_origin`].)

use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use zeroize::Zeroizing;

use super::pages::{self, FormView, Frame, Typed};
use super::{Page, Redirect, WebError, page, retry_after, see_other};
use crate::domain::{Passphrase, ReceiptKey, SecretKey};
use crate::error::Error;
use crate::http::extract::Params;
use crate::http::extract::status::intended;
use crate::http::handover;
use crate::http::state::AppState;
use crate::service::{Caller, Generate, Password, Share};

type PageResult = Result<HttpResponse, WebError>;

/// What a creating form offers: the TTL choices within the caller's limits
/// (an account's when someone is signed in, or on a closed instance, where
/// only accounts create), and the one selected.
fn ttl_choices(state: &AppState, frame: &Frame) -> (Vec<u64>, u64) {
    let policy = state.service.policy();
    let limits = if !policy.anonymous_create || frame.signed_in.is_some() {
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
    (choices, selected)
}

/// Whether a visitor to a creating form should sign in first: a closed
/// instance, nobody signed in, and some way to sign in on. (With no way on,
/// the form asks for the account's name and token itself, as it always did.)
pub(super) fn must_sign_in(state: &AppState, frame: &Frame) -> bool {
    !state.service.policy().anonymous_create && frame.signed_in.is_none() && frame.sign_in_offered
}

/// A creating form (`render` is `pages::index` or `pages::ask`), with the
/// reason a post was refused.
pub(super) fn form_page(
    state: &AppState,
    frame: &Frame,
    status: StatusCode,
    error: Option<&str>,
    typed: Typed<'_>,
    render: fn(&Frame, &FormView<'_>) -> maud::Markup,
) -> HttpResponse {
    let (choices, selected) = ttl_choices(state, frame);
    let closed = !state.service.policy().anonymous_create;
    let signed_in = frame.signed_in.is_some();
    page(
        status,
        render(
            frame,
            &FormView {
                ask_account: closed && !signed_in && !frame.sign_in_offered,
                recipient: signed_in && state.service.email_configured(),
                ttl_choices: &choices,
                selected_ttl: selected,
                error,
                typed,
            },
        ),
    )
}

/// A creating form's post the service refused: the form again, with the
/// reason. Only an internal failure is the error page.
pub(super) fn form_again(
    state: &AppState,
    frame: &Frame,
    err: Error,
    typed: Typed<'_>,
    render: fn(&Frame, &FormView<'_>) -> maud::Markup,
) -> PageResult {
    match err {
        Error::Internal => Err(WebError::Page(Error::Internal)),
        err => Ok(form_page(
            state,
            frame,
            intended(&err),
            Some(&frame.lang.error(&err)),
            typed,
            render,
        )),
    }
}

/// `GET /`: the create form; on a closed instance, a visitor who is not
/// signed in gets the sign-in page instead.
pub async fn index(state: web::Data<AppState>, frame: Frame) -> HttpResponse {
    if must_sign_in(&state, &frame) {
        return super::signin::sign_in_page(&state, &frame, StatusCode::OK, None);
    }
    form_page(
        &state,
        &frame,
        StatusCode::OK,
        None,
        Typed::default(),
        pages::index,
    )
}

/// `POST /share`: create (or generate) from the form. Success redirects to the
/// receipt, so a reload does not create a second secret; a generated password
/// goes with the redirect through the [`handover`], shown by the first GET only.
/// A refused form is shown again with the reason and what was typed (see
/// [`Typed`] for why that is safe, and what is never put back).
pub async fn create(
    state: web::Data<AppState>,
    frame: Frame,
    Page(mut params): Page<Params>,
    Page(caller): Page<Caller>,
) -> PageResult {
    let service = &state.service;
    // Kept for a refusal's form; wiped when this handler returns.
    let typed_text = params.get("secret").map(|s| Zeroizing::new(s.to_owned()));
    let typed_account = params.get("account").map(str::to_owned);
    let typed_ttl = params.get("ttl").and_then(|t| t.trim().parse().ok());
    let result = async {
        // Signed in, the caller is the session's account; a closed instance
        // without sign-in has the account's credentials in the form itself.
        let caller = signed_in(&state, caller, &mut params).await?;
        let options = params.secret_options();
        if params.get("action") == Some("generate") {
            let request = Generate {
                password: Password::Default { length: None },
                options,
            };
            let generated = service.generate(&caller, request).await?;
            let receipt_key = generated.receipt.receipt_key.expose();
            let value = generated.value.expose();
            match state.generated.put(receipt_key, value) {
                Some(token) => {
                    let mut response = see_other(Redirect::Receipt(&generated.receipt.receipt_key));
                    set_handover_cookie(
                        &mut response,
                        &state,
                        &generated.receipt.receipt_key,
                        &token,
                        handover::LIFETIME,
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
            Ok(see_other(Redirect::Receipt(&receipt.receipt_key)))
        }
    }
    .await;
    let typed = Typed {
        text: typed_text.as_deref().map(String::as_str),
        account: typed_account.as_deref(),
        ttl: typed_ttl,
    };
    result.or_else(|err| form_again(&state, &frame, err, typed, pages::index))
}

/// The caller, signed in with the form's `account` and `token` when it has them.
pub(super) async fn signed_in(
    state: &AppState,
    mut caller: Caller,
    params: &mut Params,
) -> Result<Caller, Error> {
    let account = params.take("account").unwrap_or_default();
    let token = Zeroizing::new(params.take("token").unwrap_or_default());
    if !account.is_empty() || !token.is_empty() {
        caller.account = Some(state.service.authenticate(&account, &token).await?);
    }
    Ok(caller)
}

/// `GET /private/{key}`: the creator's receipt.
pub async fn receipt(
    state: web::Data<AppState>,
    frame: Frame,
    req: HttpRequest,
    Page(key): Page<ReceiptKey>,
    Page(caller): Page<Caller>,
) -> PageResult {
    let receipt = state
        .service
        .receipt(&caller, &key)
        .await
        .map_err(receipt_error)?;
    let link = state.service.links().secret_of(&receipt);
    let token = req.cookie(handover::COOKIE);
    let generated = token
        .as_ref()
        .and_then(|token| state.generated.take(key.expose(), token.value()));
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
        set_handover_cookie(&mut response, &state, &key, "", Duration::ZERO);
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
    receipt_key: &ReceiptKey,
    token: &str,
    max_age: Duration,
) {
    let cookie = Cookie::build(handover::COOKIE, token)
        .path(Redirect::Receipt(receipt_key).location())
        .max_age(time::Duration::try_from(max_age).unwrap_or(time::Duration::MAX))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.service.links().origin().starts_with("https://"))
        .finish();
    // Our name, a hex token and a parsed key's path: always a valid header value.
    let _ = response.add_cookie(&cookie);
}

/// `GET /private/{key}/burn`: the confirm step. Nothing to burn → the receipt.
pub async fn confirm_burn(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
    Page(key): Page<ReceiptKey>,
) -> PageResult {
    let receipt = state
        .service
        .receipt(&caller, &key)
        .await
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
    Page(caller): Page<Caller>,
    Page(key): Page<ReceiptKey>,
    Page(mut params): Page<Params>,
) -> PageResult {
    let passphrase = Passphrase::attempt(params.take("passphrase"));
    match state.service.burn(&caller, &key, passphrase).await {
        Ok(_) => Ok(see_other(Redirect::Receipt(&key))),
        Err(err) => match Refusal::of_passphrase(&frame, &err) {
            Some(refusal) => {
                let receipt = state
                    .service
                    .receipt(&caller, &key)
                    .await
                    .map_err(receipt_error)?;
                Ok(refusal.page(|reason| pages::confirm_burn(&frame, &receipt, Some(reason))))
            }
            None => Err(receipt_error(err)),
        },
    }
}

/// `GET /secret/{key}`: offers to reveal; reveals nothing and consumes nothing
/// (link previews and scanners fetch this). Marks the receipt `viewed`.
pub async fn show_secret(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
    Page(key): Page<SecretKey>,
) -> PageResult {
    let preview = state.service.preview(&caller, &key).await?;
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
    Page(caller): Page<Caller>,
    Page(key): Page<SecretKey>,
    Page(mut params): Page<Params>,
) -> PageResult {
    let passphrase = Passphrase::attempt(params.take("passphrase"));
    match state.service.reveal(&caller, &key, passphrase).await {
        Ok(revealed) => Ok(page(
            StatusCode::OK,
            pages::revealed(&frame, revealed.value.expose()),
        )),
        Err(err) => {
            match Refusal::of_passphrase(&frame, &err) {
                Some(refusal) => Ok(refusal
                    .page(|reason| pages::reveal_form(&frame, key.expose(), true, Some(reason)))),
                None => Err(err.into()),
            }
        }
    }
}

/// A passphrase the service refused: the form is asked again with the reason,
/// the secret kept. Wrong is a 400; out of attempts for this address is a 429
/// that says how long the lock lasts, with `Retry-After`.
struct Refusal {
    status: StatusCode,
    reason: String,
    retry_after: Option<u64>,
}

impl Refusal {
    /// `None` for any error that is not about the passphrase.
    fn of_passphrase(frame: &Frame, err: &Error) -> Option<Self> {
        let lang = frame.lang;
        let wrong = |key| Self {
            status: StatusCode::BAD_REQUEST,
            reason: lang.t(key).to_owned(),
            retry_after: None,
        };
        match err {
            Error::WrongPassphraseToBurn => Some(wrong("burn.wrong")),
            Error::WrongPassphraseToReveal { .. } => Some(wrong("reveal.wrong")),
            Error::PassphraseLocked { retry_after } => Some(Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                reason: lang.tf(
                    "reveal.locked",
                    &[("duration", &lang.duration(*retry_after))],
                ),
                retry_after: Some(*retry_after),
            }),
            _ => None,
        }
    }

    /// The form, rendered with the reason.
    fn page(self, form: impl FnOnce(&str) -> maud::Markup) -> HttpResponse {
        let mut response = page(self.status, form(&self.reason));
        if let Some(seconds) = self.retry_after {
            retry_after(&mut response, seconds);
        }
        response
    }
}
