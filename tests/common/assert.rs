//! What the answers must be: a v1 success (`ok_json`), the v1 errors (HTTP 404
//! with the intended status in `X-OTS-Intended-Status` and a `message`), and the
//! shape of keys.

use reqwest::Response;
use serde_json::Value;

use super::api::{KEY_ALPHABET, KEY_CHARS, NOT_AUTHORIZED, RATE_LIMITED, UNKNOWN_SECRET};

/// Asserts a 200 JSON response with the v1 content type and returns the body.
pub async fn ok_json(resp: Response) -> Value {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("<not text>").to_owned());
    let text = resp.text().await.expect("response body");
    assert_eq!(status, 200, "body: {text}");
    assert_eq!(
        content_type.as_deref(),
        Some("application/json; charset=utf-8"),
        "body: {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON body ({e}): {text}"))
}

/// Takes a v1 error apart: asserts HTTP 404 and a JSON body, and returns the
/// `X-OTS-Intended-Status` code with the body.
async fn v1_error(resp: Response) -> (u16, Value) {
    assert_eq!(resp.status(), 404, "v1 errors are always 404");
    let intended: u16 = resp
        .headers()
        .get("x-ots-intended-status")
        .expect("X-OTS-Intended-Status header")
        .to_str()
        .unwrap()
        .parse()
        .expect("a status code");
    let body: Value = resp.json().await.expect("JSON error body");
    (intended, body)
}

/// Asserts a v1 error: HTTP 404, `X-OTS-Intended-Status: intended`, the exact
/// `message`. Returns the body for further checks.
pub async fn assert_error(resp: Response, intended: u16, message: &str) -> Value {
    let (status, body) = v1_error(resp).await;
    assert_eq!(status, intended, "body: {body}");
    assert_eq!(body["message"], message, "body: {body}");
    body
}

/// Asserts a v1 error with `X-OTS-Intended-Status: intended` and some non-empty
/// `message`, whatever its text. Returns the body.
pub async fn assert_error_status(resp: Response, intended: u16) -> Value {
    let (status, body) = v1_error(resp).await;
    assert_eq!(status, intended, "body: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message in {body}"
    );
    body
}

/// Asserts a v1 error with the exact `message` whose intended status is one of
/// `intended` (for errors the spec does not pin to a single status). Returns the body.
pub async fn assert_error_in(resp: Response, intended: &[u16], message: &str) -> Value {
    let (status, body) = v1_error(resp).await;
    assert!(
        intended.contains(&status),
        "intended {status}; body: {body}"
    );
    assert_eq!(body["message"], message, "body: {body}");
    body
}

/// Asserts the v1 error for an unknown secret: intended 404,
/// `{"message":"Unknown secret","secret_key":<key>}`.
pub async fn assert_unknown_secret(resp: Response, key: &str) {
    let body = assert_error(resp, 404, UNKNOWN_SECRET).await;
    assert_eq!(body["secret_key"], key, "body: {body}");
}

/// Asserts the v1 `Not authorized` error (intended 401).
pub async fn assert_not_authorized(resp: Response) {
    assert_error(resp, 401, NOT_AUTHORIZED).await;
}

/// Asserts an error of the requests API, which answers with the real status:
/// `status`, the same in `X-OTS-Intended-Status`, a JSON body with the exact
/// `message`. Returns the body.
pub async fn assert_real_error(resp: Response, status: u16, message: &str) -> Value {
    assert_eq!(resp.status(), status);
    let intended = resp
        .headers()
        .get("x-ots-intended-status")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(intended.as_deref(), Some(status.to_string().as_str()));
    let body: Value = resp.json().await.expect("JSON error body");
    assert_eq!(body["message"], message, "body: {body}");
    body
}

/// Asserts the v1 rate-limit error (intended 429), with a `Retry-After` of
/// whole seconds no longer than the test window.
pub async fn assert_rate_limited(resp: Response) {
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_error(resp, 429, RATE_LIMITED).await;
    let seconds: u64 = retry_after
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After in whole seconds, got {retry_after:?}"));
    assert!(
        (1..=super::api::WINDOW).contains(&seconds),
        "Retry-After {seconds} lies within the window"
    );
}

/// Asserts the shape of a secret or metadata key: [`KEY_CHARS`] characters of
/// [`KEY_ALPHABET`]; `what` names it in the failure.
pub fn assert_key(key: &str, what: &str) {
    assert_eq!(key.len(), KEY_CHARS, "{what}: {key:?}");
    assert!(
        key.bytes().all(|b| KEY_ALPHABET.contains(&b)),
        "{what}: {key:?} is not of the key alphabet"
    );
}

/// [`assert_key`] for a key in a JSON object, which must be a string.
pub fn assert_key_shape(key: &Value) {
    let key = key
        .as_str()
        .unwrap_or_else(|| panic!("key is a string: {key}"));
    assert_key(key, "key");
}

/// The string field `name` of a JSON object; panics when absent or not a string.
pub fn text<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("`{name}` is a string in {body}"))
}
