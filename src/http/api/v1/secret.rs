//! `POST /api/v1/secret/{key}`: reveal once.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::domain::{Passphrase, SecretKey};
use crate::http::api::{V1, V1Error, json_ok};
use crate::http::extract::Params;
use crate::http::state::AppState;
use crate::service::Caller;

/// Reveals the secret and destroys it in the same step.
pub async fn reveal(
    state: web::Data<AppState>,
    V1(caller): V1<Caller>,
    V1(mut params): V1<Params>,
    V1(key): V1<SecretKey>,
) -> Result<HttpResponse, V1Error> {
    let passphrase = Passphrase::attempt(params.take("passphrase"));
    let revealed = state.service.reveal(&caller, &key, passphrase).await?;
    let origin = state
        .service
        .links()
        .origin_of(revealed.share_domain.as_ref());
    Ok(json_ok(&json!({
        "value": revealed.value.expose(),
        "secret_key": revealed.secret_key.expose(),
        "share_domain": origin,
    })))
}
