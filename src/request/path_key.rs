//! The key in a route's `{key}` segment, as a typed capability.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};

use crate::domain::FromPath;
use crate::error::Error;

/// `PathKey<SecretKey>` or `PathKey<MetadataKey>`: the route's `{key}`, refused as
/// `Unknown secret` (echoing what was sent) when it cannot be a key at all.
pub struct PathKey<K>(pub K);

impl<K: FromPath> FromRequest for PathKey<K> {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req.match_info().get("key").unwrap_or_default();
        ready(
            K::from_path(raw)
                .map(Self)
                .ok_or_else(|| Error::unknown(raw)),
        )
    }
}
