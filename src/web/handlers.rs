//! Thin handlers: check origin and limits, call the vault, render a page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::pages::{self, IndexView};
use super::{WebError, page, same_origin, see_other};
use crate::api::{ApiError, AppState, Caller, Params};
use crate::domain::{
    GeneratedLength, MetadataKey, Passphrase, SecretKey, SecretValue, generate_password,
};
use crate::ratelimit::Action;
use crate::vault::VaultError;

type PageResult = Result<HttpResponse, WebError>;

fn path_key(req: &HttpRequest) -> &str {
    req.match_info().get("key").unwrap_or_default()
}

fn unknown(raw: &str) -> WebError {
    WebError::Api(ApiError::UnknownSecret {
        key: raw.to_owned(),
    })
}

/// The create form. On a closed instance it also asks for account and token.
fn index_page(state: &AppState, status: StatusCode, error: Option<&str>) -> HttpResponse {
    let closed = !state.anonymous_create;
    let limits = if closed {
        &state.authenticated
    } else {
        &state.anonymous
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
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Result<Caller, ApiError>,
    params: Result<Params, ApiError>,
) -> PageResult {
    same_origin(&req, &state)?;
    let mut params = params?;
    let result = create_from_form(&state, caller?, &mut params).await;
    match result {
        Ok((receipt, generated)) => {
            let key = receipt.metadata_key.expose();
            match generated {
                None => Ok(see_other(&format!("/private/{key}"))),
                Some(value) => {
                    let link = receipt
                        .secret_key
                        .as_ref()
                        .map(|k| state.secret_link(&receipt.share_domain, k.expose()));
                    Ok(page(
                        StatusCode::OK,
                        pages::receipt(&receipt, link.as_deref(), Some(value.expose())),
                    ))
                }
            }
        }
        Err(ApiError::Internal) => Err(WebError::Api(ApiError::Internal)),
        Err(err) => Ok(index_page(
            &state,
            err.intended_status(),
            Some(&err.to_string()),
        )),
    }
}

async fn create_from_form(
    state: &AppState,
    mut caller: Caller,
    params: &mut Params,
) -> Result<(crate::vault::Receipt, Option<SecretValue>), ApiError> {
    let account = params.take("account").unwrap_or_default();
    let token = zeroize::Zeroizing::new(params.take("token").unwrap_or_default());
    if !account.is_empty() || !token.is_empty() {
        let found = state
            .accounts
            .authenticate(&account, &token)
            .map_err(|err| {
                log::error!("checking credentials failed: {err}");
                ApiError::Internal
            })?;
        caller.account = Some(found.ok_or(ApiError::NotAuthorized)?);
    }
    state.may_create(&caller)?;
    let generated = params.get("action") == Some("generate");
    let value = if generated {
        generate_password(GeneratedLength::parse(None)?)
    } else {
        SecretValue::parse(
            params.take("secret"),
            state.limits(&caller).max_secret_bytes,
        )?
    };
    let receipt = state
        .create(state.new_secret(&caller, params, value.clone())?)
        .await?;
    Ok((receipt, generated.then_some(value)))
}

/// `GET /private/{key}`: the creator's receipt.
pub async fn receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Result<Caller, ApiError>,
) -> PageResult {
    state.rate_limit(Action::Metadata, &caller?)?;
    let raw = path_key(&req);
    let key = MetadataKey::from_path(raw).ok_or_else(|| unknown(raw))?;
    let receipt = state.vault.receipt(&key)?;
    let link = receipt
        .secret_key
        .as_ref()
        .map(|k| state.secret_link(&receipt.share_domain, k.expose()));
    Ok(page(
        StatusCode::OK,
        pages::receipt(&receipt, link.as_deref(), None),
    ))
}

/// `GET /private/{key}/burn`: the confirm step. Nothing to burn → the receipt.
pub async fn confirm_burn(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Result<Caller, ApiError>,
) -> PageResult {
    state.rate_limit(Action::Metadata, &caller?)?;
    let raw = path_key(&req);
    let key = MetadataKey::from_path(raw).ok_or_else(|| unknown(raw))?;
    let receipt = state.vault.receipt(&key)?;
    if !receipt.state.is_live() {
        return Ok(see_other(&format!("/private/{raw}")));
    }
    Ok(page(StatusCode::OK, pages::confirm_burn(&receipt, None)))
}

/// `POST /private/{key}/burn`: burns, then back to the receipt. A wrong passphrase
/// shows the confirm step again with the reason.
pub async fn burn(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Result<Caller, ApiError>,
    params: Result<Params, ApiError>,
) -> PageResult {
    same_origin(&req, &state)?;
    let caller = caller?;
    state.rate_limit(Action::Metadata, &caller)?;
    let raw = path_key(&req);
    let key = MetadataKey::from_path(raw).ok_or_else(|| unknown(raw))?;
    let passphrase = Passphrase::attempt(params?.take("passphrase"));
    let attempt = state
        .passphrase_attempt(&caller, key.expose(), state.vault.burn(&key, passphrase))
        .await?;
    match attempt {
        Ok(_) => Ok(see_other(&format!("/private/{raw}"))),
        Err(VaultError::IncorrectPassphrase) => {
            let receipt = state.vault.receipt(&key)?;
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
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Result<Caller, ApiError>,
) -> PageResult {
    state.rate_limit(Action::Reveal, &caller?)?;
    let raw = path_key(&req);
    let key = SecretKey::from_path(raw).ok_or_else(|| unknown(raw))?;
    let needs_passphrase = state.vault.peek(&key)?.ok_or_else(|| unknown(raw))?;
    state.vault.mark_viewed(&key)?;
    Ok(page(
        StatusCode::OK,
        pages::reveal_form(raw, needs_passphrase, None),
    ))
}

/// `POST /secret/{key}`: reveals and destroys. A wrong passphrase shows the form
/// again with the reason and keeps the secret.
pub async fn reveal_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Result<Caller, ApiError>,
    params: Result<Params, ApiError>,
) -> PageResult {
    same_origin(&req, &state)?;
    let caller = caller?;
    state.rate_limit(Action::Reveal, &caller)?;
    let raw = path_key(&req);
    let key = SecretKey::from_path(raw).ok_or_else(|| unknown(raw))?;
    let passphrase = Passphrase::attempt(params?.take("passphrase"));
    let attempt = state
        .passphrase_attempt(&caller, raw, state.vault.reveal(&key, passphrase))
        .await?;
    match attempt {
        Ok(revealed) => Ok(page(
            StatusCode::OK,
            pages::revealed(revealed.value.expose()),
        )),
        Err(VaultError::WrongPassphrase { .. }) => Ok(page(
            StatusCode::BAD_REQUEST,
            pages::reveal_form(
                raw,
                true,
                Some("That passphrase is not right. The secret is still there: try again."),
            ),
        )),
        Err(err) => Err(err.into()),
    }
}
