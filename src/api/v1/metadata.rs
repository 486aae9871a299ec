//! `GET|POST /api/v1/private/{key}` (alias `/metadata/{key}`) and their `/burn`.
//!
//! Knowing a metadata key is the capability: no account is needed.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::views::{MetadataJson, Shape};
use crate::api::{ApiError, AppState, Caller, Params, json_ok};
use crate::domain::{MetadataKey, Passphrase};
use crate::ratelimit::Action;

fn metadata_key(req: &HttpRequest) -> Result<MetadataKey, ApiError> {
    let raw = req.match_info().get("key").unwrap_or_default();
    MetadataKey::from_path(raw).ok_or_else(|| ApiError::UnknownSecret {
        key: raw.to_owned(),
    })
}

/// The receipt. Never contains the secret's value; reading it changes nothing.
pub async fn metadata(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    state.rate_limit(Action::Metadata, &caller)?;
    let receipt = state.vault.receipt(&metadata_key(&req)?)?;
    Ok(json_ok(&MetadataJson::new(&receipt, Shape::Full)))
}

/// Destroys the unread secret: `{"state": {receipt}, "secret_shortkey": "..."}`.
pub async fn burn(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    mut params: Params,
) -> Result<HttpResponse, ApiError> {
    state.rate_limit(Action::Metadata, &caller)?;
    let key = metadata_key(&req)?;
    let passphrase = Passphrase::attempt(params.take("passphrase"));
    let (receipt, shortkey) = state
        .passphrase_attempt(&caller, key.expose(), state.vault.burn(&key, passphrase))
        .await??;
    Ok(json_ok(&json!({
        "state": MetadataJson::new(&receipt, Shape::Brief),
        "secret_shortkey": shortkey,
    })))
}

/// How many receipts `recent` lists at most.
const RECENT_LIMIT: usize = 500;

/// The caller's receipts, newest first, without secret keys. Accounts only.
pub async fn recent(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let account = caller.require_account()?;
    state.rate_limit(Action::Metadata, &caller)?;
    let receipts = state.vault.recent(account.as_str(), RECENT_LIMIT)?;
    let listing: Vec<_> = receipts
        .iter()
        .map(|r| MetadataJson::new(r, Shape::Listing))
        .collect();
    Ok(json_ok(&listing))
}
