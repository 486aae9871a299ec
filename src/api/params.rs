//! Request parameters in every shape real Onetime Secret clients send (spec §1):
//! urlencoded or multipart bodies, a flat JSON object, the query string of a POST,
//! empty bodies, and GETs that carry a form `Content-Type`.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use zeroize::Zeroize;

use super::ApiError;

/// The largest request body accepted, as app data. Set explicitly: actix's own
/// defaults differ per extractor.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

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

    fn extend(&mut self, pairs: Vec<(String, String)>) {
        self.pairs.extend(pairs);
    }
}

impl Drop for Params {
    fn drop(&mut self) {
        for (_, v) in &mut self.pairs {
            v.zeroize();
        }
    }
}

impl FromRequest for Params {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move { parse(&req, payload).await })
    }
}

async fn parse(req: &HttpRequest, payload: Payload) -> Result<Params, ApiError> {
    let limit = req.app_data::<BodyLimit>().map_or(1 << 20, |l| l.0);
    let body = read_body(req, payload, limit).await?;
    let mut params = Params::default();
    if !body.is_empty() {
        let mime = req.content_type().to_ascii_lowercase();
        let pairs = match mime.as_str() {
            "application/json" => json_pairs(&body)?,
            "multipart/form-data" => multipart_pairs(req, body).await?,
            // urlencoded, and clients that send a form without saying so.
            _ => serde_urlencoded::from_bytes(&body).unwrap_or_default(),
        };
        params.extend(pairs);
    }
    params.extend(serde_urlencoded::from_str(req.query_string()).unwrap_or_default());
    Ok(params)
}

/// Reads the body, refusing it as soon as it is known to exceed `limit`.
async fn read_body(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::BodyTooLarge(limit));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::BadRequest("The request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::BodyTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A flat JSON object; numbers and booleans become their text, arrays give one pair
/// per element (`"recipient": ["a@b.c"]`), nulls and nested objects are ignored.
fn json_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    use serde_json::Value;
    let invalid = || ApiError::BadRequest("The request body is not a JSON object");
    let Value::Object(map) = serde_json::from_slice::<Value>(body).map_err(|_| invalid())? else {
        return Err(invalid());
    };
    fn scalar(v: Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    let mut pairs = Vec::new();
    for (key, value) in map {
        match value {
            Value::Array(items) => pairs.extend(
                items
                    .into_iter()
                    .filter_map(scalar)
                    .map(|v| (key.clone(), v)),
            ),
            other => pairs.extend(scalar(other).map(|v| (key, v))),
        }
    }
    Ok(pairs)
}

/// Text fields and file parts (curl `-F secret=@file`) alike become parameters.
async fn multipart_pairs(
    req: &HttpRequest,
    body: web::Bytes,
) -> Result<Vec<(String, String)>, ApiError> {
    let invalid = || ApiError::BadRequest("The multipart body is malformed");
    let stream = futures_util::stream::once(async move { Ok(body) });
    let mut form = actix_multipart::Multipart::new(req.headers(), stream);
    let mut pairs = Vec::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| invalid())?;
        let name = field.name().map(str::to_owned).ok_or_else(invalid)?;
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            value.extend_from_slice(&chunk.map_err(|_| invalid())?);
        }
        let value = String::from_utf8(value).map_err(|e| {
            e.into_bytes().zeroize();
            ApiError::BadRequest("Parameters must be UTF-8 text")
        })?;
        pairs.push((name, value));
    }
    Ok(pairs)
}
