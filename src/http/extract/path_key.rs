//! The key in a route's `{key}` segment, as a typed capability.

use actix_web::HttpRequest;
use std::marker::PhantomData;

use crate::domain::FromPath;

/// A route's `{key}` that cannot be a `K` at all. Each face says so in its own
/// words (the v1 API echoes `raw` in `Unknown secret`; a page shows the page
/// of the thing a `K` names), which is why this is not an
/// [`Error`](crate::Error): the kind of key decides the answer.
pub struct UnknownKey<K> {
    /// What the path held, percent-decoded.
    pub raw: String,
    kind: PhantomData<K>,
}

impl<K> std::fmt::Debug for UnknownKey<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not a key, but still what someone put in a link: not for logs.
        f.write_str("UnknownKey")
    }
}

/// The route's `{key}` as a `K`.
pub(super) fn from_path<K: FromPath>(req: &HttpRequest) -> Result<K, UnknownKey<K>> {
    let raw = req.match_info().get("key").unwrap_or_default();
    K::from_path(raw).ok_or_else(|| UnknownKey {
        raw: raw.to_owned(),
        kind: PhantomData,
    })
}
