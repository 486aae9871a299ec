//! The JSON shapes of spec §3. Field presence matters: `None` fields are absent,
//! `Some(None)` is `null`.

use serde::Serialize;

use crate::vault::Receipt;

/// The metadata object.
#[derive(Serialize)]
pub struct MetadataJson<'a> {
    custid: &'a str,
    metadata_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key: Option<&'a str>,
    ttl: u64,
    metadata_ttl: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_ttl: Option<Option<u64>>,
    state: &'static str,
    created: u64,
    updated: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    received: Option<u64>,
    recipient: &'a [String],
    share_domain: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    passphrase_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
}

/// Which optional fields a response carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// share, generate and metadata: with `passphrase_required`.
    Full,
    /// burn: without `passphrase_required`.
    Brief,
    /// recent: also without `secret_key`, and `secret_ttl` always null.
    Listing,
}

impl<'a> MetadataJson<'a> {
    pub fn new(r: &'a Receipt, shape: Shape) -> Self {
        let received = r.state == crate::vault::State::Received;
        Self {
            custid: &r.owner,
            metadata_key: r.receipt_key.expose(),
            // Absent once received; "" once burned, expired or orphaned.
            secret_key: match (&r.secret_key, received) {
                _ if shape == Shape::Listing => None,
                (Some(k), _) => Some(k.expose()),
                (None, true) => None,
                (None, false) => Some(""),
            },
            ttl: r.ttl,
            metadata_ttl: r.receipt_ttl,
            // Absent once received; null once gone.
            secret_ttl: match shape {
                Shape::Listing => Some(None),
                _ if received => None,
                _ => Some(r.secret_ttl),
            },
            state: r.state.as_str(),
            created: r.created,
            updated: r.updated,
            received: r.received,
            recipient: &r.recipients,
            share_domain: r.share_domain.as_ref().map_or("", |d| d.as_str()),
            passphrase_required: (shape == Shape::Full).then_some(r.passphrase_required),
            value: None,
        }
    }

    /// Adds the generated value (generate response only).
    pub fn with_value(mut self, value: &'a str) -> Self {
        self.value = Some(value);
        self
    }
}
