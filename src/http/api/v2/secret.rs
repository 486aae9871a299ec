//! `/api/v2/secret/…`: conceal, generate, preview, reveal, status (one and
//! many); and their `/guest/…` twins, which are the same handlers for a
//! caller the extractor never authenticates.

use actix_web::http::header::ACCESS_CONTROL_ALLOW_ORIGIN;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::error::{Create, V2, V2Error};
use super::views;
use crate::domain::{CharacterSets, Passphrase, SecretKey};
use crate::http::api::JSON;
use crate::http::extract::{Params, SecretParams};
use crate::http::state::AppState;
use crate::service::{Caller, Generate, Password, Share};
use crate::vault::{Look, Receipt, SecretFacts};

/// `POST /secret/conceal`: stores `secret.secret`.
pub async fn conceal(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
    V2(SecretParams(mut params)): V2<SecretParams>,
) -> Result<HttpResponse, V2Error> {
    let recipients = recipients(&params);
    let request = Share {
        secret: params.secret(),
        options: params.secret_options(),
    };
    let receipt = state
        .service
        .share(&caller, request)
        .await
        .map_err(V2Error::during(Create::Conceal))?;
    Ok(created(&receipt, "conceal", recipients, None))
}

/// `POST /secret/generate`: stores a password made of `secret.character_sets`,
/// `secret.length` long, and answers it once (the receipt's first read
/// within a minute has it too).
pub async fn generate(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
    V2(SecretParams(mut params)): V2<SecretParams>,
) -> Result<HttpResponse, V2Error> {
    let during = V2Error::during(Create::Generate);
    let recipients = recipients(&params);
    let sets = CharacterSets::parse(|name| params.get(name)).map_err(|e| during(e.into()))?;
    let request = Generate {
        password: Password::Chosen {
            length: params.take("length"),
            sets,
        },
        options: params.secret_options(),
    };
    let generated = state
        .service
        .generate(&caller, request)
        .await
        .map_err(V2Error::during(Create::Generate))?;
    Ok(created(
        &generated.receipt,
        "generate",
        recipients,
        Some(generated.value.expose()),
    ))
}

/// Every `recipient` as sent (for `details.recipient`), before the options
/// take the first.
fn recipients(params: &Params) -> Vec<String> {
    params
        .all(&["recipient", "recipient[]"])
        .filter(|r| !r.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The create answer (§5): the receipt (twice: `metadata` is its old name),
/// the secret, and what was sent to whom.
fn created(
    receipt: &Receipt,
    kind: &str,
    recipients: Vec<String>,
    value: Option<&str>,
) -> HttpResponse {
    let record = views::receipt(receipt);
    let mut secret = Map::new();
    if let Some(key) = &receipt.secret_key {
        secret = views::secret(&SecretFacts {
            secret_key: key.clone(),
            owner: receipt.owner.clone(),
            state: receipt.state,
            ttl: receipt.ttl,
            passphrase_required: receipt.passphrase_required,
            created: receipt.created,
            updated: receipt.updated,
            previewed: None,
            expires_in: receipt.secret_ttl.unwrap_or(0),
            share_domain: receipt.share_domain.clone(),
        });
    }
    if let Some(value) = value {
        secret.insert("secret_value".into(), Value::String(value.to_owned()));
    }
    let body = json!({
        "success": true,
        "record": {
            "receipt": record,
            "metadata": record,
            "secret": secret,
            "share_domain": receipt.share_domain.as_ref().map(|d| d.as_str()),
        },
        "details": {
            "kind": kind,
            "recipient": recipients,
            "recipient_safe": receipt.recipients,
        },
    });
    HttpResponse::Ok()
        .insert_header((ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .content_type(JSON)
        .body(body.to_string())
}

/// `GET /secret/{key}`: what the link's holder may see before revealing.
/// Never consumes it (the reference's `?continue=true` on a GET does not
/// either); the first preview is noted in the receipt.
pub async fn preview(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
    V2(key): V2<SecretKey>,
) -> Result<HttpResponse, V2Error> {
    let facts = state
        .service
        .look(&caller, &key, Look::Preview)
        .await?
        .ok_or_else(|| crate::Error::unknown(key.expose()))?;
    Ok(ok(json!({
        "success": true,
        "record": views::secret(&facts),
        "details": shown(&caller, &facts, false),
    })))
}

/// `details` of a preview or reveal (§8).
fn shown(caller: &Caller, facts: &SecretFacts, revealed: bool) -> Value {
    let is_owner = caller
        .account
        .as_ref()
        .is_some_and(|account| account.as_str() == facts.owner);
    json!({
        "continue": revealed,
        "is_owner": is_owner,
        "show_secret": revealed,
        "correct_passphrase": revealed || !facts.passphrase_required,
        "display_lines": 1,
        "one_liner": Value::Null,
    })
}

/// `POST /secret/{key}/reveal` with `continue` true: the value, and the
/// secret destroyed before the answer (once across v1 and v2). Without
/// `continue`: a preview, nothing consumed.
pub async fn reveal(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
    V2(mut params): V2<Params>,
    V2(key): V2<SecretKey>,
) -> Result<HttpResponse, V2Error> {
    if !params.flag("continue") {
        return preview(state, V2(caller), V2(key)).await;
    }
    let passphrase = Passphrase::attempt(params.take("passphrase"));
    let revealed = state.service.reveal(&caller, &key, passphrase).await?;
    let value = revealed.value.expose();
    let mut record = views::secret(&revealed.facts);
    record.insert("secret_value".into(), Value::String(value.to_owned()));
    let mut details = shown(&caller, &revealed.facts, true);
    details["display_lines"] = json!(value.lines().count().max(1));
    details["one_liner"] = json!(!value.contains('\n'));
    Ok(ok(
        json!({ "success": true, "record": record, "details": details }),
    ))
}

/// `GET /secret/{key}/status`: where a secret stands, without noting a look.
/// An unknown one is `{"record":{"state":"unknown"}}` with 200, as the
/// reference answers; so is a path that cannot be a key at all (a key of
/// ours answers like an unknown one whatever is wrong with it, and here the
/// unknown answer is a 200, not the 404 of the key extractor).
pub async fn status(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
    raw: web::Path<String>,
) -> Result<HttpResponse, V2Error> {
    let facts = match SecretKey::from_path(&raw) {
        Some(key) => state.service.look(&caller, &key, Look::Status).await?,
        None => None,
    };
    let body = match facts {
        Some(facts) => json!({
            "success": true,
            "record": views::secret(&facts),
            "details": { "current_expiration": facts.expires_in },
        }),
        None => json!({ "success": true, "record": { "state": "unknown" } }),
    };
    Ok(ok(body))
}

/// `POST /secret/status`: the live secrets among `identifiers` (a
/// comma-separated string, or a JSON array), unknown ones left out.
pub async fn statuses(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
    V2(params): V2<Params>,
) -> Result<HttpResponse, V2Error> {
    let keys = params.list("identifiers");
    let found = state.service.statuses(&caller, &keys).await?;
    let records: Vec<_> = found.iter().map(views::secret).collect();
    Ok(ok(json!({
        "success": true,
        "records": records,
        "count": records.len(),
    })))
}

/// A 200 JSON answer.
pub fn ok(body: Value) -> HttpResponse {
    HttpResponse::Ok().content_type(JSON).body(body.to_string())
}
