//! v2's JSON records (`api-v2.md` §6, §7, §9): the secret record (S) and the
//! receipt record (R), with native JSON types. Every field is always there;
//! `null` where the spec allows it and there is nothing to say.
//!
//! They are structs serialized straight to the answer's bytes, not
//! `serde_json::Value` maps: R has 37 fields (49 with its links), and
//! building it as a map (a `BTreeMap` insert and a `String` key per field,
//! twice in a create's answer) took a quarter of a v2 create's CPU time.

use serde::Serialize;

use crate::service::Links;
use crate::vault::{Kind, Receipt, SecretFacts, State};

/// v2's name for a state (`previewed` and `revealed` for v1's `viewed` and
/// `received`).
pub fn state_name(state: State) -> &'static str {
    match state {
        State::New => "new",
        State::Viewed => "previewed",
        State::Received => "revealed",
        State::Burned => "burned",
        State::Expired => "expired",
        State::Orphaned => "orphaned",
    }
}

/// The first 8 characters of a key.
fn short(key: &str) -> &str {
    key.get(..8).unwrap_or(key)
}

/// The secret record (S, §6); with its value only in a reveal's answer
/// (and a generate's).
#[derive(Serialize)]
pub struct SecretView<'a> {
    identifier: &'a str,
    key: &'a str,
    shortid: &'a str,
    state: &'static str,
    lifespan: u64,
    secret_ttl: u64,
    has_passphrase: bool,
    verification: bool,
    created: u64,
    updated: u64,
    is_previewed: bool,
    is_viewed: bool,
    is_revealed: bool,
    is_received: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_value: Option<&'a str>,
}

impl<'a> SecretView<'a> {
    /// The record with its value.
    pub fn with_value(self, value: &'a str) -> Self {
        Self {
            secret_value: Some(value),
            ..self
        }
    }
}

/// The secret record (S, §6), without its value.
pub fn secret(facts: &SecretFacts) -> SecretView<'_> {
    let key = facts.secret_key.expose();
    let previewed = facts.previewed.is_some() || facts.state == State::Viewed;
    let revealed = facts.state == State::Received;
    SecretView {
        identifier: key,
        key,
        shortid: short(key),
        state: state_name(facts.state),
        lifespan: facts.ttl,
        secret_ttl: facts.ttl,
        has_passphrase: facts.passphrase_required,
        verification: false,
        created: facts.created,
        updated: facts.updated,
        is_previewed: previewed,
        is_viewed: previewed,
        is_revealed: revealed,
        is_received: revealed,
        secret_value: None,
    }
}

/// The receipt record (R, §7), and with [`receipt_with_links`] the paths
/// and URLs of §9.
#[derive(Serialize)]
pub struct ReceiptView<'a> {
    identifier: &'a str,
    key: &'a str,
    shortid: &'a str,
    secret_shortid: &'a str,
    secret_identifier: &'a str,
    custid: &'a str,
    owner_id: Option<&'a str>,
    state: &'static str,
    secret_ttl: u64,
    lifespan: u64,
    receipt_ttl: u64,
    metadata_ttl: u64,
    share_domain: Option<&'a str>,
    recipient_name: Option<&'a str>,
    memo: Option<&'a str>,
    created: u64,
    updated: u64,
    shared: Option<u64>,
    previewed: Option<u64>,
    revealed: Option<u64>,
    burned: Option<u64>,
    viewed: Option<u64>,
    received: Option<u64>,
    recipients: String,
    show_recipients: bool,
    has_passphrase: bool,
    is_previewed: bool,
    is_viewed: bool,
    is_revealed: bool,
    is_received: bool,
    is_burned: bool,
    is_expired: bool,
    is_orphaned: bool,
    /// Whether the secret is gone (revealed, burned, expired, orphaned):
    /// `recent` sorts receipts by it.
    pub is_destroyed: bool,
    kind: &'static str,
    source: &'static str,
    #[serde(flatten)]
    links: Option<ReceiptLinks>,
}

/// §9's additions to R: where the secret stands, and its paths and URLs.
#[derive(Serialize)]
struct ReceiptLinks {
    secret_state: Option<&'static str>,
    natural_expiration: String,
    expiration: Option<u64>,
    expiration_in_seconds: u64,
    share_path: Option<String>,
    receipt_path: String,
    metadata_path: String,
    burn_path: String,
    share_url: Option<String>,
    receipt_url: String,
    metadata_url: String,
    burn_url: String,
}

/// The receipt record (R, §7).
pub fn receipt(r: &Receipt) -> ReceiptView<'_> {
    let key = r.receipt_key.expose();
    let secret_key = r.secret_key.as_ref().map(|k| k.expose());
    let anonymous = r.owner == crate::domain::ANONYMOUS;
    let previewed = r
        .previewed
        .or((r.state == State::Viewed).then_some(r.updated));
    let revealed = r.received;
    let burned = (r.state == State::Burned).then_some(r.updated);
    let destroyed = matches!(
        r.state,
        State::Received | State::Burned | State::Expired | State::Orphaned
    );
    ReceiptView {
        identifier: key,
        key,
        shortid: short(key),
        secret_shortid: secret_key.map_or("", short),
        secret_identifier: secret_key.unwrap_or(""),
        custid: &r.owner,
        owner_id: (!anonymous).then_some(r.owner.as_str()),
        state: state_name(r.state),
        secret_ttl: r.ttl,
        lifespan: r.ttl,
        receipt_ttl: r.ttl,
        metadata_ttl: r.ttl,
        share_domain: r.share_domain.as_ref().map(|d| d.as_str()),
        recipient_name: None,
        memo: r.memo.as_deref(),
        created: r.created,
        updated: r.updated,
        shared: (!r.recipients.is_empty()).then_some(r.created),
        previewed,
        revealed,
        burned,
        viewed: previewed,
        received: revealed,
        recipients: r.recipients.join(", "),
        show_recipients: !r.recipients.is_empty(),
        has_passphrase: r.passphrase_required,
        is_previewed: previewed.is_some(),
        is_viewed: previewed.is_some(),
        is_revealed: r.state == State::Received,
        is_received: r.state == State::Received,
        is_burned: r.state == State::Burned,
        is_expired: r.state == State::Expired,
        is_orphaned: r.state == State::Orphaned,
        is_destroyed: destroyed,
        kind: match r.kind {
            Kind::Conceal => "conceal",
            Kind::Generate => "generate",
        },
        source: "standard",
        links: None,
    }
}

/// R with the paths and URLs of §9 (receipt read and burn).
pub fn receipt_with_links<'a>(r: &'a Receipt, links: &Links) -> ReceiptView<'a> {
    let key = r.receipt_key.expose();
    let receipt_path = format!("receipt/{key}");
    let burn_path = format!("receipt/{key}/burn");
    let extra = ReceiptLinks {
        secret_state: match r.state {
            State::Expired | State::Orphaned => None,
            state => Some(state_name(state)),
        },
        natural_expiration: natural_duration(r.ttl),
        expiration: r.secret_ttl.map(|left| crate::clock::unix_now() + left),
        expiration_in_seconds: r.secret_ttl.unwrap_or(0),
        share_path: r
            .secret_key
            .as_ref()
            .map(|k| format!("secret/{}", k.expose())),
        share_url: links.secret_of(r),
        receipt_url: links.page(&receipt_path),
        metadata_url: links.page(&receipt_path),
        burn_url: links.page(&burn_path),
        metadata_path: receipt_path.clone(),
        receipt_path,
        burn_path,
    };
    ReceiptView {
        links: Some(extra),
        ..receipt(r)
    }
}

/// The usual answer: `success`, one `record`, and its `details`.
#[derive(Serialize)]
pub struct Answer<R, D> {
    pub success: bool,
    pub record: R,
    pub details: D,
}

/// "7 days", "1 hour", "90 seconds": a TTL in the largest whole unit.
pub fn natural_duration(seconds: u64) -> String {
    let (n, unit) = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
        .into_iter()
        .find(|(size, _)| seconds >= *size && seconds.is_multiple_of(*size))
        .map_or((seconds, "second"), |(size, unit)| (seconds / size, unit));
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::natural_duration;

    #[test]
    fn ttls_read_in_their_largest_whole_unit() {
        assert_eq!(natural_duration(604_800), "7 days");
        assert_eq!(natural_duration(3_600), "1 hour");
        assert_eq!(natural_duration(5_400), "90 minutes");
        assert_eq!(natural_duration(61), "61 seconds");
        assert_eq!(natural_duration(86_400), "1 day");
    }
}
