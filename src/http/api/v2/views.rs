//! v2's JSON records (`api-v2.md` §6, §7, §9): the secret record (S) and the
//! receipt record (R), with native JSON types. Every field is always there;
//! `null` where the spec allows it and there is nothing to say.

use serde_json::{Map, Value, json};

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

/// The secret record (S, §6), without its value.
pub fn secret(facts: &SecretFacts) -> Map<String, Value> {
    let key = facts.secret_key.expose();
    let previewed = facts.previewed.is_some() || facts.state == State::Viewed;
    let revealed = facts.state == State::Received;
    let record = json!({
        "identifier": key,
        "key": key,
        "shortid": short(key),
        "state": state_name(facts.state),
        "lifespan": facts.ttl,
        "secret_ttl": facts.ttl,
        "has_passphrase": facts.passphrase_required,
        "verification": false,
        "created": facts.created,
        "updated": facts.updated,
        "is_previewed": previewed,
        "is_viewed": previewed,
        "is_revealed": revealed,
        "is_received": revealed,
    });
    into_map(record)
}

/// The receipt record (R, §7).
pub fn receipt(r: &Receipt) -> Map<String, Value> {
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
    let record = json!({
        "identifier": key,
        "key": key,
        "shortid": short(key),
        "secret_shortid": secret_key.map_or("", short),
        "secret_identifier": secret_key.unwrap_or(""),
        "custid": r.owner,
        "owner_id": (!anonymous).then_some(r.owner.as_str()),
        "state": state_name(r.state),
        "secret_ttl": r.ttl,
        "lifespan": r.ttl,
        "receipt_ttl": r.ttl,
        "metadata_ttl": r.ttl,
        "share_domain": r.share_domain.as_ref().map(|d| d.as_str()),
        "recipient_name": Value::Null,
        "memo": r.memo,
        "created": r.created,
        "updated": r.updated,
        "shared": (!r.recipients.is_empty()).then_some(r.created),
        "previewed": previewed,
        "revealed": revealed,
        "burned": burned,
        "viewed": previewed,
        "received": revealed,
        "recipients": r.recipients.join(", "),
        "show_recipients": !r.recipients.is_empty(),
        "has_passphrase": r.passphrase_required,
        "is_previewed": previewed.is_some(),
        "is_viewed": previewed.is_some(),
        "is_revealed": r.state == State::Received,
        "is_received": r.state == State::Received,
        "is_burned": r.state == State::Burned,
        "is_expired": r.state == State::Expired,
        "is_orphaned": r.state == State::Orphaned,
        "is_destroyed": destroyed,
        "kind": match r.kind {
            Kind::Conceal => "conceal",
            Kind::Generate => "generate",
        },
        "source": "standard",
    });
    into_map(record)
}

/// R with the paths and URLs of §9 (receipt read and burn).
pub fn receipt_with_links(r: &Receipt, links: &Links) -> Map<String, Value> {
    let mut record = receipt(r);
    let key = r.receipt_key.expose();
    let receipt_path = format!("receipt/{key}");
    let burn_path = format!("receipt/{key}/burn");
    let share_path = r
        .secret_key
        .as_ref()
        .map(|k| format!("secret/{}", k.expose()));
    let share_url = links.secret_of(r);
    let extra = json!({
        "secret_state": match r.state {
            State::Expired | State::Orphaned => None,
            state => Some(state_name(state)),
        },
        "natural_expiration": natural_duration(r.ttl),
        "expiration": r.secret_ttl.map(|left| crate::clock::unix_now() + left),
        "expiration_in_seconds": r.secret_ttl.unwrap_or(0),
        "share_path": share_path,
        "receipt_path": receipt_path,
        "metadata_path": receipt_path,
        "burn_path": burn_path,
        "share_url": share_url,
        "receipt_url": links.page(&receipt_path),
        "metadata_url": links.page(&receipt_path),
        "burn_url": links.page(&burn_path),
    });
    record.extend(into_map(extra));
    record
}

/// "7 days", "1 hour", "90 seconds": a TTL in the largest whole unit.
pub fn natural_duration(seconds: u64) -> String {
    let (n, unit) = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
        .into_iter()
        .find(|(size, _)| seconds >= *size && seconds.is_multiple_of(*size))
        .map_or((seconds, "second"), |(size, unit)| (seconds / size, unit));
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
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
