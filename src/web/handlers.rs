//! Thin handlers: parse the form, call the service, render a page. (Cross-site
//! posts never get here: see [`super::same_origin`].)

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use zeroize::Zeroizing;

use super::pages::{self, IndexView};
use super::{WebError, page, see_other};
use crate::app::AppState;
use crate::domain::{MetadataKey, Passphrase, SecretKey};
use crate::error::Error;
use crate::request::{Params, PathKey};
use crate::service::{Caller, Generate, Share};

type PageResult = Result<HttpResponse, WebError>;

/// The create form. On a closed instance it also asks for account and token.
fn index_page(state: &AppState, status: StatusCode, error: Option<&str>) -> HttpResponse {
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
    page(
        status,
        pages::index(&IndexView {
            closed,
            ttl_choices: &choices,
            selected_ttl: selected,
            error,
        }),
    )
}

/// `GET /`
pub async fn index(state: web::Data<AppState>) -> HttpResponse {
    index_page(&state, StatusCode::OK, None)
}

/// `POST /share`: create (or generate) from the form. Success redirects to the
/// receipt; a generated password is shown on the receipt in this response only.
/// A refused form is shown again with the reason (the secret is not echoed back).
pub async fn create(
    state: web::Data<AppState>,
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
            let link = service.links().secret_of(&generated.receipt);
            Ok(page(
                StatusCode::OK,
                pages::receipt(
                    &generated.receipt,
                    link.as_deref(),
                    Some(generated.value.expose()),
                ),
            ))
        } else {
            let request = Share {
                secret: params.secret(),
                options,
            };
            let receipt = service.share(&caller, request).await?;
            Ok(see_other(&format!(
                "/private/{}",
                receipt.metadata_key.expose()
            )))
        }
    }
    .await;
    match result {
        Ok(response) => Ok(response),
        Err(Error::Internal) => Err(WebError::Page(Error::Internal)),
        Err(err) => Ok(index_page(
            &state,
            err.intended_status(),
            Some(&err.to_string()),
        )),
    }
}

/// The caller, signed in with the form's `account` and `token` when it has them.
fn signed_in(state: &AppState, mut caller: Caller, params: &mut Params) -> Result<Caller, Error> {
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
    caller: Result<Caller, Error>,
    key: Result<PathKey<MetadataKey>, Error>,
) -> PageResult {
    let receipt = state.service.receipt(&caller?, &key?.0)?;
    let link = state.service.links().secret_of(&receipt);
    Ok(page(
        StatusCode::OK,
        pages::receipt(&receipt, link.as_deref(), None),
    ))
}

/// `GET /private/{key}/burn`: the confirm step. Nothing to burn → the receipt.
pub async fn confirm_burn(
    state: web::Data<AppState>,
    caller: Result<Caller, Error>,
    key: Result<PathKey<MetadataKey>, Error>,
) -> PageResult {
    let (caller, PathKey(key)) = (caller?, key?);
    let receipt = state.service.receipt(&caller, &key)?;
    if !receipt.state.is_live() {
        return Ok(see_other(&format!("/private/{}", key.expose())));
    }
    Ok(page(StatusCode::OK, pages::confirm_burn(&receipt, None)))
}

/// `POST /private/{key}/burn`: burns, then back to the receipt. A wrong passphrase
/// shows the confirm step again with the reason.
pub async fn burn(
    state: web::Data<AppState>,
    caller: Result<Caller, Error>,
    key: Result<PathKey<MetadataKey>, Error>,
    params: Result<Params, Error>,
) -> PageResult {
    let (caller, PathKey(key)) = (caller?, key?);
    let passphrase = Passphrase::attempt(params?.take("passphrase"));
    match state.service.burn(&caller, &key, passphrase).await {
        Ok(_) => Ok(see_other(&format!("/private/{}", key.expose()))),
        Err(Error::WrongPassphraseToBurn) => {
            let receipt = state.service.receipt(&caller, &key)?;
            Ok(page(
                StatusCode::BAD_REQUEST,
                pages::confirm_burn(&receipt, Some("That passphrase is not right.")),
            ))
        }
        Err(err) => Err(err.into()),
    }
}

/// `GET /secret/{key}`: offers to reveal; reveals nothing and consumes nothing
/// (link previews and scanners fetch this). Marks the receipt `viewed`.
pub async fn show_secret(
    state: web::Data<AppState>,
    caller: Result<Caller, Error>,
    key: Result<PathKey<SecretKey>, Error>,
) -> PageResult {
    let (caller, PathKey(key)) = (caller?, key?);
    let preview = state.service.preview(&caller, &key)?;
    Ok(page(
        StatusCode::OK,
        pages::reveal_form(key.expose(), preview.passphrase_required, None),
    ))
}

/// `POST /secret/{key}`: reveals and destroys. A wrong passphrase shows the form
/// again with the reason and keeps the secret.
pub async fn reveal_secret(
    state: web::Data<AppState>,
    caller: Result<Caller, Error>,
    key: Result<PathKey<SecretKey>, Error>,
    params: Result<Params, Error>,
) -> PageResult {
    let (caller, PathKey(key)) = (caller?, key?);
    let passphrase = Passphrase::attempt(params?.take("passphrase"));
    match state.service.reveal(&caller, &key, passphrase).await {
        Ok(revealed) => Ok(page(
            StatusCode::OK,
            pages::revealed(revealed.value.expose()),
        )),
        Err(Error::WrongPassphraseToReveal { .. }) => Ok(page(
            StatusCode::BAD_REQUEST,
            pages::reveal_form(
                key.expose(),
                true,
                Some("That passphrase is not right. The secret is still there: try again."),
            ),
        )),
        Err(err) => Err(err.into()),
    }
}
