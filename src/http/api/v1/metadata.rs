//! `GET|POST /api/v1/private/{key}` (alias `/metadata/{key}`), their `/burn`,
//! and `recent`.
//!
//! Knowing a metadata key is the capability: no account is needed.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::views::{MetadataJson, Shape};
use crate::domain::{Passphrase, ReceiptKey};
use crate::http::api::{V1, V1Error, json_ok};
use crate::http::extract::Params;
use crate::http::state::AppState;
use crate::service::Caller;

/// The receipt. Never contains the secret's value; reading it changes nothing.
pub async fn metadata(
    state: web::Data<AppState>,
    V1(caller): V1<Caller>,
    V1(key): V1<ReceiptKey>,
) -> Result<HttpResponse, V1Error> {
    let receipt = state.service.receipt(&caller, &key).await?;
    Ok(json_ok(&MetadataJson::new(&receipt, Shape::Full)))
}

/// Destroys the unread secret: `{"state": {receipt}, "secret_shortkey": "..."}`.
pub async fn burn(
    state: web::Data<AppState>,
    V1(caller): V1<Caller>,
    V1(mut params): V1<Params>,
    V1(key): V1<ReceiptKey>,
) -> Result<HttpResponse, V1Error> {
    let passphrase = Passphrase::attempt(params.take("passphrase"));
    let burned = state.service.burn(&caller, &key, passphrase).await?;
    Ok(json_ok(&json!({
        "state": MetadataJson::new(&burned.receipt, Shape::Brief),
        "secret_shortkey": burned.secret_shortkey,
    })))
}

/// The caller's receipts, newest first, without secret keys. Accounts only.
pub async fn recent(
    state: web::Data<AppState>,
    V1(caller): V1<Caller>,
) -> Result<HttpResponse, V1Error> {
    let receipts = state.service.recent(&caller).await?;
    let listing: Vec<_> = receipts
        .iter()
        .map(|r| MetadataJson::new(r, Shape::Listing))
        .collect();
    Ok(json_ok(&listing))
}
