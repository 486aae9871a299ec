//! `POST /api/v1/share` (alias `/create`) and `POST /api/v1/generate`.

use actix_web::{HttpResponse, web};

use super::views::{MetadataJson, Shape};
use crate::api::{ApiError, ApiState, Caller, Params, json_ok};
use crate::domain::{GeneratedLength, Passphrase, SecretValue, Ttl, generate_password};
use crate::ratelimit::Action;
use crate::vault::NewSecret;

/// Stores the `secret` parameter.
pub async fn share(
    state: web::Data<ApiState>,
    caller: Caller,
    mut params: Params,
) -> Result<HttpResponse, ApiError> {
    may_create(&state, &caller)?;
    let max = state.limits(&caller).max_secret_bytes;
    let value = SecretValue::parse(params.take("secret"), max)?;
    let new = new_secret(&state, &caller, &mut params, value)?;
    let receipt = state.vault.create(new).await?;
    Ok(json_ok(&MetadataJson::new(&receipt, Shape::Full)))
}

/// Generates a password, stores it, and returns it once in `value`.
pub async fn generate(
    state: web::Data<ApiState>,
    caller: Caller,
    mut params: Params,
) -> Result<HttpResponse, ApiError> {
    may_create(&state, &caller)?;
    let value = generate_password(GeneratedLength::parse(params.get("length"))?);
    let new = new_secret(&state, &caller, &mut params, value.clone())?;
    let receipt = state.vault.create(new).await?;
    Ok(json_ok(
        &MetadataJson::new(&receipt, Shape::Full).with_value(value.expose()),
    ))
}

/// Closed instances refuse anonymous creators; everyone is rate limited.
fn may_create(state: &ApiState, caller: &Caller) -> Result<(), ApiError> {
    if caller.is_anonymous() && !state.anonymous_create {
        return Err(ApiError::AccountRequiredToCreate);
    }
    state.rate_limit(Action::Create, caller)
}

/// The parameters share and generate have in common, checked against the caller's
/// limits. Nothing is stored unless all of them are valid.
fn new_secret(
    state: &ApiState,
    caller: &Caller,
    params: &mut Params,
    value: SecretValue,
) -> Result<NewSecret, ApiError> {
    let limits = state.limits(caller);
    let ttl = Ttl::parse(params.get("ttl"), &limits.ttl)?;
    let passphrase = Passphrase::for_new_secret(params.take("passphrase"), &limits.passphrase)?;
    let share_domain = share_domain(state, caller, params.get("share_domain"))?;
    if let Some(_recipient) = params
        .all(&["recipient", "recipient[]"])
        .find(|r| !r.trim().is_empty())
    {
        return Err(if caller.is_anonymous() {
            ApiError::AccountRequiredForEmail
        } else {
            ApiError::EmailNotConfigured
        });
    }
    Ok(NewSecret {
        custid: caller.custid().to_owned(),
        value,
        passphrase,
        ttl,
        share_domain,
        recipients: Vec::new(),
    })
}

/// The `share_domain` parameter: empty or the server's own host means none; an
/// account may name a domain from the allow-list; anything else is refused.
fn share_domain(state: &ApiState, caller: &Caller, raw: Option<&str>) -> Result<String, ApiError> {
    let domain = raw.map(str::trim).unwrap_or_default().to_ascii_lowercase();
    if domain.is_empty() || domain == state.own_host().to_ascii_lowercase() {
        return Ok(String::new());
    }
    if !caller.is_anonymous()
        && state
            .share_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&domain))
    {
        return Ok(domain);
    }
    Err(ApiError::UnknownDomain(domain))
}
