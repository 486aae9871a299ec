//! `POST /api/v1/secret/{key}`: reveal once.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::api::{ApiError, AppState, Caller, Params, json_ok};
use crate::domain::{Passphrase, SecretKey};
use crate::ratelimit::Action;

/// Reveals the secret and destroys it in the same step.
pub async fn reveal(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    mut params: Params,
) -> Result<HttpResponse, ApiError> {
    state.rate_limit(Action::Reveal, &caller)?;
    let raw = req.match_info().get("key").unwrap_or_default();
    let key = SecretKey::from_path(raw).ok_or_else(|| ApiError::UnknownSecret {
        key: raw.to_owned(),
    })?;
    let passphrase = Passphrase::attempt(params.take("passphrase"));
    let revealed = state
        .passphrase_attempt(&caller, raw, state.vault.reveal(&key, passphrase))
        .await??;
    let share_domain = if revealed.share_domain.is_empty() {
        state.origin().to_owned()
    } else {
        format!("https://{}", revealed.share_domain)
    };
    Ok(json_ok(&json!({
        "value": revealed.value.expose(),
        "secret_key": revealed.secret_key.expose(),
        "share_domain": share_domain,
    })))
}
