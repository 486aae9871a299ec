//! `/api/v2/receipt/…` (and its deprecated alias `/private/…`): read, memo,
//! burn, recent. The receipt key is the capability to read the receipt and
//! burn its secret; only the account that made it may write its memo.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::{V2, V2Error};
use super::views::{self, Answer, ReceiptView};
use crate::clock::unix_now;
use crate::domain::{Passphrase, ReceiptKey};
use crate::http::api::json_answer;
use crate::http::extract::Params;
use crate::http::state::AppState;
use crate::service::Caller;
use crate::vault::{Receipt, State};

/// How far back `recent` lists, by each receipt's last change.
const RECENT_DAYS: u64 = 30;

/// `GET /receipt/{key}`: the receipt with its paths and URLs (§9). The first
/// read within a minute of a generate carries the generated value, once.
pub async fn read(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
    V2(key): V2<ReceiptKey>,
) -> Result<HttpResponse, V2Error> {
    let receipt = state.service.receipt_with_handover(&caller, &key).await?;
    let record = views::receipt_with_links(&receipt, state.service.links());
    json_answer(&Answer {
        success: true,
        record,
        details: details(&receipt),
    })
}

/// `details` of a receipt read (§9).
fn details(r: &Receipt) -> Value {
    let previewed = r
        .previewed
        .or((r.state == State::Viewed).then_some(r.updated));
    let handover = r.handover.as_ref().map(|v| v.expose());
    json!({
        "type": "record",
        "display_lines": handover.map_or(1, |v| v.lines().count().max(1)),
        "no_cache": true,
        "secret_realttl": r.secret_ttl,
        "view_count": usize::from(previewed.is_some()),
        "first_access": previewed,
        "last_access": previewed,
        "has_passphrase": r.passphrase_required,
        "can_decrypt": r.state.is_live() && !r.passphrase_required,
        "secret_value": handover,
        "show_secret": handover.is_some(),
        "show_secret_link": r.state.is_live(),
        "show_receipt_link": true,
        "show_receipt": true,
        "show_recipients": !r.recipients.is_empty(),
    })
}

/// `PATCH /receipt/{key}` `{"memo"}`: the owner's note, kept as one line of
/// plain text of at most 500 characters (blank clears it).
pub async fn memo(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
    V2(params): V2<Params>,
    V2(key): V2<ReceiptKey>,
) -> Result<HttpResponse, V2Error> {
    let receipt = state
        .service
        .set_memo(&caller, &key, params.get("memo"))
        .await?;
    json_answer(&Memo {
        success: true,
        record: views::receipt(&receipt),
    })
}

/// `POST /receipt/{key}/burn` with `continue` true: the secret destroyed
/// (its passphrase needed when it has one). Without `continue`: the receipt
/// as it is, `success` false, nothing burned.
pub async fn burn(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
    V2(mut params): V2<Params>,
    V2(key): V2<ReceiptKey>,
) -> Result<HttpResponse, V2Error> {
    let links = state.service.links();
    if !params.flag("continue") {
        let receipt = state.service.receipt(&caller, &key).await?;
        return json_answer(&Answer {
            success: false,
            record: views::receipt_with_links(&receipt, links),
            details: json!({ "type": "record", "title": "Burn this secret?" }),
        });
    }
    let passphrase = Passphrase::attempt(params.take("passphrase"));
    let burned = state.service.burn(&caller, &key, passphrase).await?;
    json_answer(&Answer {
        success: true,
        record: views::receipt_with_links(&burned.receipt, links),
        details: json!({ "type": "record", "title": "Secret burned" }),
    })
}

/// `GET /receipt/recent`: the account's receipts changed in the last 30
/// days, newest change first. Accounts only.
pub async fn recent(
    state: web::Data<AppState>,
    V2(caller): V2<Caller>,
) -> Result<HttpResponse, V2Error> {
    let account = caller.require_account()?.to_string();
    let now = unix_now();
    let since = now.saturating_sub(RECENT_DAYS * 86_400);
    let mut receipts: Vec<Receipt> = state
        .service
        .recent(&caller)
        .await?
        .into_iter()
        .filter(|r| r.updated >= since)
        .collect();
    receipts.sort_by_key(|r| std::cmp::Reverse(r.updated));
    let records: Vec<_> = receipts.iter().map(views::receipt).collect();
    let (destroyed, pending): (Vec<&ReceiptView>, Vec<&ReceiptView>) =
        records.iter().partition(|r| r.is_destroyed);
    json_answer(&Recent {
        success: true,
        custid: &account,
        count: records.len(),
        records: &records,
        details: RecentDetails {
            kind: "list",
            scope: None,
            scope_label: None,
            since,
            now,
            has_items: !records.is_empty(),
            revealed_receipts: destroyed,
            pending_receipts: pending,
        },
    })
}

/// `PATCH /receipt/{key}`'s answer: the receipt as it is now.
#[derive(Serialize)]
struct Memo<'a> {
    success: bool,
    record: ReceiptView<'a>,
}

/// `GET /receipt/recent`'s answer.
#[derive(Serialize)]
struct Recent<'a> {
    success: bool,
    custid: &'a str,
    count: usize,
    records: &'a [ReceiptView<'a>],
    details: RecentDetails<'a>,
}

#[derive(Serialize)]
struct RecentDetails<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    scope: Option<&'static str>,
    scope_label: Option<&'static str>,
    since: u64,
    now: u64,
    has_items: bool,
    revealed_receipts: Vec<&'a ReceiptView<'a>>,
    pending_receipts: Vec<&'a ReceiptView<'a>>,
}
