//! `/api/v2/secret/…`: conceal, generate, preview, reveal, status (one and
//! many); and their `/guest/…` twins, which are the same handlers for a
//! caller the extractor never authenticates.

use actix_web::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue};
use actix_web::{HttpResponse, web};
use serde::{Serialize, Serializer};
use serde_json::json;

use super::error::{Create, V2, V2Error};
use super::views::{self, Answer, ReceiptView, SecretView};
use crate::domain::{CharacterSets, Passphrase, SecretKey};
use crate::http::api::json_answer;
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
    created(&receipt, "conceal", recipients, None)
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
    created(
        &generated.receipt,
        "generate",
        recipients,
        Some(generated.value.expose()),
    )
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
) -> Result<HttpResponse, V2Error> {
    let view = views::receipt(receipt);
    let facts = receipt.secret_key.as_ref().map(|key| SecretFacts {
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
    let secret = facts.as_ref().map(|facts| {
        let secret = views::secret(facts);
        match value {
            Some(value) => secret.with_value(value),
            None => secret,
        }
    });
    let body = Answer {
        success: true,
        record: CreatedRecord {
            receipt: &view,
            metadata: &view,
            secret,
            share_domain: receipt.share_domain.as_ref().map(|d| d.as_str()),
        },
        details: CreatedDetails {
            kind,
            recipient: recipients,
            recipient_safe: &receipt.recipients,
        },
    };
    let mut answer = json_answer::<_, V2Error>(&body)?;
    answer
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(answer)
}

/// `record` of a create's answer.
#[derive(Serialize)]
struct CreatedRecord<'a> {
    receipt: &'a ReceiptView<'a>,
    metadata: &'a ReceiptView<'a>,
    /// `{}` when there is no secret to show (never after a create, but the
    /// field is always an object).
    #[serde(serialize_with = "object_or_empty")]
    secret: Option<SecretView<'a>>,
    share_domain: Option<&'a str>,
}

/// `details` of a create's answer.
#[derive(Serialize)]
struct CreatedDetails<'a> {
    kind: &'a str,
    recipient: Vec<String>,
    recipient_safe: &'a [String],
}

fn object_or_empty<S: Serializer>(
    secret: &Option<SecretView<'_>>,
    to: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    match secret {
        Some(secret) => secret.serialize(to),
        None => to.serialize_map(Some(0))?.end(),
    }
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
    json_answer(&Answer {
        success: true,
        record: views::secret(&facts),
        details: shown(&caller, &facts, None),
    })
}

/// `details` of a preview or reveal (§8).
#[derive(Serialize)]
struct Shown {
    #[serde(rename = "continue")]
    continued: bool,
    is_owner: bool,
    show_secret: bool,
    correct_passphrase: bool,
    display_lines: usize,
    one_liner: Option<bool>,
}

/// `details` of a preview (`value` `None`) or of a reveal of `value`.
fn shown(caller: &Caller, facts: &SecretFacts, value: Option<&str>) -> Shown {
    let is_owner = caller
        .account
        .as_ref()
        .is_some_and(|account| account.as_str() == facts.owner);
    let revealed = value.is_some();
    Shown {
        continued: revealed,
        is_owner,
        show_secret: revealed,
        correct_passphrase: revealed || !facts.passphrase_required,
        display_lines: value.map_or(1, |v| v.lines().count().max(1)),
        one_liner: value.map(|v| !v.contains('\n')),
    }
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
    json_answer(&Answer {
        success: true,
        record: views::secret(&revealed.facts).with_value(value),
        details: shown(&caller, &revealed.facts, Some(value)),
    })
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
    match facts {
        Some(facts) => json_answer(&Answer {
            success: true,
            record: views::secret(&facts),
            details: json!({ "current_expiration": facts.expires_in }),
        }),
        None => json_answer(&json!({ "success": true, "record": { "state": "unknown" } })),
    }
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
    json_answer(&Records {
        success: true,
        count: records.len(),
        records,
    })
}

/// The answer of a bulk status: the secrets found.
#[derive(Serialize)]
struct Records<'a> {
    success: bool,
    records: Vec<SecretView<'a>>,
    count: usize,
}
