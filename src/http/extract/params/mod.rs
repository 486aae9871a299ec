//! Request parameters in every shape real Onetime Secret clients send (spec §1):
//! urlencoded or multipart bodies, a flat JSON object, the query string of a POST,
//! empty bodies, and GETs that carry a form `Content-Type`. [`SecretParams`] reads
//! the same shapes with v2's nesting (`{"secret":{…}}`, `secret[ttl]=…`).

mod decode;

pub use decode::{decode_nested, decode_params};

use actix_web::dev::Payload;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use zeroize::{Zeroize, Zeroizing};

use crate::error::Error;
use crate::service::SecretOptions;

/// How request bodies are read, as app data: the largest body, the time a whole
/// body may take to arrive, and the bytes all bodies being read may hold together.
///
/// The deadline covers the whole body, not the gap between two chunks: a client
/// sending a byte every second would otherwise hold its socket and buffer for
/// ever. The shared budget is what keeps many slow or stalled uploads from
/// growing memory without bound; a request that would cross it is refused at once
/// (`503` intended) rather than queued, so no waiting request holds memory either.
#[derive(Clone)]
pub struct BodyLimits {
    max_bytes: usize,
    timeout: Duration,
    in_flight: Arc<InFlight>,
}

impl BodyLimits {
    pub fn new(max_bytes: usize, timeout: Duration, max_in_flight: usize) -> Self {
        Self {
            max_bytes,
            timeout,
            in_flight: Arc::new(InFlight {
                bytes: AtomicUsize::new(0),
                max: max_in_flight,
                trim: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }
}

struct InFlight {
    bytes: AtomicUsize,
    max: usize,
    /// Set when the bytes in flight pass [`TRIM_AFTER`]; the reservation that
    /// brings them back to zero then hands freed memory back to the system.
    trim: std::sync::atomic::AtomicBool,
}

/// Bytes in flight past which, once all are given back, the allocator is trimmed.
const TRIM_AFTER: usize = 8 << 20;

/// Bytes of one body counted against the shared budget, given back when dropped
/// (when the body is decoded, refused, or its client leaves).
struct Reservation<'a> {
    in_flight: &'a InFlight,
    bytes: usize,
}

impl Reservation<'_> {
    fn grow(&mut self, bytes: usize) -> Result<(), Error> {
        let before = self.in_flight.bytes.fetch_add(bytes, Ordering::AcqRel);
        if before.saturating_add(bytes) > self.in_flight.max {
            self.in_flight.bytes.fetch_sub(bytes, Ordering::AcqRel);
            return Err(Error::Busy);
        }
        self.bytes += bytes;
        if before + bytes > TRIM_AFTER {
            self.in_flight.trim.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let before = self.in_flight.bytes.fetch_sub(self.bytes, Ordering::AcqRel);
        if before == self.bytes
            && self.bytes > 0
            && self.in_flight.trim.swap(false, Ordering::AcqRel)
        {
            crate::memory::trim_heap();
        }
    }
}

/// All parameters of a request, body first then query string, so a body value wins
/// over a query value of the same name. Values are wiped when dropped: they may hold
/// a secret or a passphrase.
#[derive(Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Moves the first value of `name` out (no copy left behind to wipe). Keeps
    /// the order of the rest, which is what makes a body value win over a query
    /// value for every later lookup.
    pub fn take(&mut self, name: &str) -> Option<String> {
        let index = self.pairs.iter().position(|(k, _)| k == name)?;
        Some(self.pairs.remove(index).1)
    }

    /// Every value of any of `names`, in order (for `recipient` / `recipient[]`).
    pub fn all<'a>(&'a self, names: &'a [&str]) -> impl Iterator<Item = &'a str> {
        self.pairs
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
    }

    /// The `secret` parameter, moved out.
    pub fn secret(&mut self) -> Option<Zeroizing<String>> {
        self.take("secret").map(Zeroizing::new)
    }

    /// The options `share` and `generate` have in common, moved out of the
    /// parameters: `ttl`, `passphrase`, `share_domain`, and the first non-blank
    /// `recipient` (or `recipient[]`).
    pub fn secret_options(&mut self) -> SecretOptions {
        SecretOptions {
            ttl: self.take("ttl"),
            passphrase: self.take("passphrase").map(Zeroizing::new),
            share_domain: self.take("share_domain"),
            recipient: self
                .all(&["recipient", "recipient[]"])
                .find(|r| !r.trim().is_empty())
                .map(str::to_owned),
        }
    }

    /// Whether `name` says yes: `true` (a JSON boolean or text), or `1`. v2's
    /// `continue`; anything else, or nothing, is no.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1"))
    }

    /// The items of a list parameter sent as `name` or `name[]`, in order: each
    /// value (a JSON array gives one per item) split at commas, trimmed, blanks
    /// dropped. v2's `identifiers` (`"k1,k2"` or `["k1","k2"]`).
    pub fn list(&self, name: &str) -> Vec<String> {
        let bracketed = format!("{name}[]");
        self.all(&[name, &bracketed])
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Every pair, in order (for tests and fuzzing).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn push(&mut self, name: String, value: String) {
        self.pairs.push((name, value));
    }
}

impl Drop for Params {
    fn drop(&mut self) {
        for (_, v) in &mut self.pairs {
            v.zeroize();
        }
    }
}

impl super::Extract for Params {
    type Rejection = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn extract(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move { parse(&req, payload, decode_params).await })
    }
}

/// The parameters of a v2 create, read from under `secret` (`{"secret":{…}}`,
/// `secret[ttl]=…`) and named as [`Params`] names them (`ttl`, `recipient[]`,
/// `character_sets[symbols]`). Read with the same limits, deadline and budget,
/// and wiped the same way; a v1-style body (a bare `secret`) is refused as
/// [`ParamError::IncorrectPayload`](crate::domain::ParamError::IncorrectPayload).
pub struct SecretParams(pub Params);

impl super::Extract for SecretParams {
    type Rejection = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn extract(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            parse(&req, payload, |content_type, body, query| {
                decode_nested(content_type, body, query, "secret")
            })
            .await
            .map(SecretParams)
        })
    }
}

/// Turns a complete body (its `Content-Type`, its bytes) and the query string
/// into parameters: [`decode_params`] or [`decode_nested`].
type Decoder = fn(&str, &[u8], &str) -> Result<Params, Error>;

/// Reads the body within the limits and decodes it with `decode`.
async fn parse(req: &HttpRequest, payload: Payload, decode: Decoder) -> Result<Params, Error> {
    let limits = req.app_data::<BodyLimits>().ok_or_else(|| {
        log::error!("BodyLimits missing from the app data");
        Error::Internal
    })?;
    let body = actix_web::rt::time::timeout(limits.timeout, read_body(req, payload, limits))
        .await
        .map_err(|_| Error::BodyTimeout)??;
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    decode(content_type, &body.0, req.query_string())
}

/// A body being read: it may hold a secret, so it is wiped when dropped, on every
/// path (decoded, refused, or abandoned by a client that left). Its bytes are
/// freed before its reservation is given back (fields drop in order).
struct Body<'a>(web::BytesMut, Reservation<'a>);

impl Drop for Body<'_> {
    fn drop(&mut self) {
        self.0.as_mut().zeroize();
    }
}

/// Reads the body, refusing it as soon as it is known to exceed the limit or
/// would take the shared budget past its bound.
async fn read_body<'a>(
    req: &HttpRequest,
    mut payload: Payload,
    limits: &'a BodyLimits,
) -> Result<Body<'a>, Error> {
    let limit = limits.max_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Error::BodyTooLarge(limit));
    }
    // The whole declared length at once: growing by doubling would copy the body
    // and leave freed blocks of every size behind. A mapping's pages count only
    // once written, so a client that declares much and sends little costs little.
    let capacity = declared.map_or(0, |n| n as usize);
    let reservation = Reservation {
        in_flight: &limits.in_flight,
        bytes: 0,
    };
    let mut body = Body(web::BytesMut::with_capacity(capacity), reservation);
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| Error::BadBody("The request body could not be read"))?;
        if body.0.len() + chunk.len() > limit {
            return Err(Error::BodyTooLarge(limit));
        }
        body.1.grow(chunk.len())?;
        body.0.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::api::Real;
    use actix_web::http::StatusCode;
    use actix_web::{App, test};

    /// `SecretParams` over actix: read with the same limits as `Params`, decoded
    /// from under `secret`, body before query.
    #[actix_web::test]
    async fn secret_params_read_a_nested_body_within_the_body_limits() {
        let limits = BodyLimits::new(96, Duration::from_secs(5), 1 << 20);
        let app = test::init_service(App::new().app_data(limits).route(
            "/",
            web::post().to(|Real(SecretParams(params))| async move {
                format!("{:?}", params.iter().collect::<Vec<_>>())
            }),
        ))
        .await;
        let post = |content_type: &str, body: &str| {
            test::TestRequest::post()
                .uri("/?secret[ttl]=61&ttl=1")
                .insert_header((CONTENT_TYPE, content_type))
                .set_payload(body.to_owned())
                .to_request()
        };
        for (content_type, body) in [
            ("application/json", r#"{"secret":{"ttl":60}}"#),
            ("application/x-www-form-urlencoded", "secret[ttl]=60"),
        ] {
            let resp = test::call_service(&app, post(content_type, body)).await;
            assert_eq!(resp.status(), StatusCode::OK, "{body}");
            let text = test::read_body(resp).await;
            assert_eq!(text, r#"[("ttl", "60"), ("ttl", "61")]"#, "{body}");
        }
        for (content_type, body, status) in [
            ("", "secret=v1", StatusCode::BAD_REQUEST),
            ("application/json", "{", StatusCode::BAD_REQUEST),
            (
                "",
                &"secret[secret]=x".repeat(7),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ] {
            let resp = test::call_service(&app, post(content_type, body)).await;
            assert_eq!(resp.status(), status, "{body}");
        }
    }
}
