//! API v2 (`api-v2.md`) as the tests speak it: the routes, JSON posts, the
//! success and error assertions (every v2 answer is JSON with
//! `Cache-Control: no-store`), and the JSON types its records must have.

use reqwest::Response;
use serde_json::{Value, json};

use super::client::{Call, Client};

/// Where API v2 lives.
pub const V2: &str = "/api/v2";
pub const V2_CONCEAL: &str = "/api/v2/secret/conceal";
pub const V2_GENERATE: &str = "/api/v2/secret/generate";
/// The content type of every v2 answer that has a body.
pub const V2_JSON: &str = "application/json; charset=utf-8";
pub const INCORRECT_PASSPHRASE: &str = "Incorrect passphrase";

/// `/api/v2` + `path`.
pub fn v2(path: &str) -> String {
    format!("{V2}{path}")
}

impl Client {
    /// `POST /api/v2{path}` with `body` as JSON.
    pub fn v2_post(&self, path: &str, body: &Value) -> Call {
        self.post_json(&v2(path), body)
    }

    /// `GET /api/v2{path}`.
    pub fn v2_get(&self, path: &str) -> Call {
        self.get(&v2(path))
    }

    /// `POST /secret/conceal` of `{"secret": secret}`; the answer, checked as a
    /// v2 success.
    pub async fn conceal_v2(&self, secret: Value) -> Value {
        v2_ok(
            self.v2_post("/secret/conceal", &json!({ "secret": secret }))
                .await,
        )
        .await
    }

    /// `POST /secret/generate` of `{"secret": secret}`; the answer, checked.
    pub async fn generate_v2(&self, secret: Value) -> Value {
        v2_ok(
            self.v2_post("/secret/generate", &json!({ "secret": secret }))
                .await,
        )
        .await
    }

    /// `POST /secret/{key}/reveal` `{"continue": true}` plus `passphrase`.
    pub fn reveal_v2(&self, key: &str, passphrase: Option<&str>) -> Call {
        let mut body = json!({ "continue": true });
        if let Some(p) = passphrase {
            body["passphrase"] = json!(p);
        }
        self.v2_post(&format!("/secret/{key}/reveal"), &body)
    }

    /// `GET /receipt/{rkey}`.
    pub fn receipt_v2(&self, receipt_key: &str) -> Call {
        self.v2_get(&format!("/receipt/{receipt_key}"))
    }

    /// `POST /receipt/{rkey}/burn` `{"continue": true}` plus `passphrase`.
    pub fn burn_v2(&self, receipt_key: &str, passphrase: Option<&str>) -> Call {
        let mut body = json!({ "continue": true });
        if let Some(p) = passphrase {
            body["passphrase"] = json!(p);
        }
        self.v2_post(&format!("/receipt/{receipt_key}/burn"), &body)
    }
}

/// (secret key, receipt key) of a v2 create answer.
pub fn v2_keys(created: &Value) -> (String, String) {
    let secret = created["record"]["secret"]["identifier"].as_str();
    let receipt = created["record"]["receipt"]["identifier"].as_str();
    match (secret, receipt) {
        (Some(s), Some(r)) => (s.to_owned(), r.to_owned()),
        _ => panic!("a create answer with both keys: {created}"),
    }
}

/// Status and body of any v2 answer, after asserting what every one carries:
/// the JSON content type, `Cache-Control: no-store`, and a JSON object.
pub async fn v2_answer(resp: Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("<not text>").to_owned())
    };
    let (content_type, cache) = (header("content-type"), header("cache-control"));
    let text = resp.text().await.expect("response body");
    assert_eq!(content_type.as_deref(), Some(V2_JSON), "{status} {text}");
    assert_eq!(cache.as_deref(), Some("no-store"), "{status} {text}");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON body ({e}): {text}"));
    assert!(body.is_object(), "always an object: {text}");
    (status, body)
}

/// Asserts a v2 success: 200, the headers of [`v2_answer`], `success: true`.
pub async fn v2_ok(resp: Response) -> Value {
    let (status, body) = v2_answer(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true, "{body}");
    body
}

/// Asserts a v2 error: `status`, the headers of [`v2_answer`], and exactly
/// `error`, `error_type` and `field` (absent when `None`). Returns the body.
pub async fn v2_error(
    resp: Response,
    status: u16,
    error_type: &str,
    error: &str,
    field: Option<&str>,
) -> Value {
    let (got, body) = v2_answer(resp).await;
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_type"], error_type, "{body}");
    match field {
        Some(field) => assert_eq!(body["field"], field, "{body}"),
        None => assert!(body.get("field").is_none(), "no field: {body}"),
    }
    assert!(body.get("success").is_none_or(|s| s == false), "{body}");
    body
}

/// v2's `404 {"error":"Unknown secret","error_type":"RecordNotFound"}`.
pub async fn v2_unknown(resp: Response) {
    v2_error(resp, 404, "RecordNotFound", "Unknown secret", None).await;
}

/// The JSON type a field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum J {
    Str,
    /// An integer (not a float, not a digit string).
    Int,
    Bool,
    /// A string or `null`.
    StrOrNull,
    /// An integer or `null`.
    IntOrNull,
    Array,
    Object,
}

impl J {
    fn admits(self, v: &Value) -> bool {
        match self {
            J::Str => v.is_string(),
            J::Int => v.is_u64() || v.is_i64(),
            J::Bool => v.is_boolean(),
            J::StrOrNull => v.is_string() || v.is_null(),
            J::IntOrNull => v.is_u64() || v.is_i64() || v.is_null(),
            J::Array => v.is_array(),
            J::Object => v.is_object(),
        }
    }
}

/// Asserts that `object` has every field of `fields`, each of its type.
pub fn assert_types(object: &Value, fields: &[(&str, J)], what: &str) {
    for (name, kind) in fields {
        let value = object
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no `{name}` in {object}"));
        assert!(
            kind.admits(value),
            "{what}: `{name}` is {kind:?}, got {value} in {object}"
        );
    }
}

/// The secret record (S, §6), without `secret_value`.
pub const SECRET_FIELDS: &[(&str, J)] = &[
    ("identifier", J::Str),
    ("key", J::Str),
    ("shortid", J::Str),
    ("state", J::Str),
    ("lifespan", J::Int),
    ("secret_ttl", J::Int),
    ("has_passphrase", J::Bool),
    ("verification", J::Bool),
    ("created", J::Int),
    ("updated", J::Int),
    ("is_previewed", J::Bool),
    ("is_revealed", J::Bool),
    ("is_viewed", J::Bool),
    ("is_received", J::Bool),
];

/// The receipt record (R, §7).
pub const RECEIPT_FIELDS: &[(&str, J)] = &[
    ("identifier", J::Str),
    ("key", J::Str),
    ("shortid", J::Str),
    ("secret_shortid", J::Str),
    ("secret_identifier", J::Str),
    ("custid", J::Str),
    ("owner_id", J::StrOrNull),
    ("state", J::Str),
    ("secret_ttl", J::Int),
    ("lifespan", J::Int),
    ("receipt_ttl", J::Int),
    ("metadata_ttl", J::Int),
    ("share_domain", J::StrOrNull),
    ("recipient_name", J::StrOrNull),
    ("memo", J::StrOrNull),
    ("created", J::Int),
    ("updated", J::Int),
    ("shared", J::IntOrNull),
    ("previewed", J::IntOrNull),
    ("revealed", J::IntOrNull),
    ("burned", J::IntOrNull),
    ("viewed", J::IntOrNull),
    ("received", J::IntOrNull),
    ("recipients", J::Str),
    ("show_recipients", J::Bool),
    ("has_passphrase", J::Bool),
    ("is_previewed", J::Bool),
    ("is_viewed", J::Bool),
    ("is_revealed", J::Bool),
    ("is_received", J::Bool),
    ("is_burned", J::Bool),
    ("is_expired", J::Bool),
    ("is_orphaned", J::Bool),
    ("is_destroyed", J::Bool),
    ("kind", J::Str),
    ("source", J::Str),
];

/// What a receipt read and a burn add to R (§9).
pub const RECEIPT_LINK_FIELDS: &[(&str, J)] = &[
    ("secret_state", J::StrOrNull),
    ("natural_expiration", J::Str),
    ("expiration", J::IntOrNull),
    ("expiration_in_seconds", J::Int),
    ("share_path", J::StrOrNull),
    ("receipt_path", J::Str),
    ("metadata_path", J::Str),
    ("burn_path", J::Str),
    ("share_url", J::StrOrNull),
    ("receipt_url", J::Str),
    ("metadata_url", J::Str),
    ("burn_url", J::Str),
];

impl Client {
    /// `PATCH /receipt/{rkey}` `{"memo": memo}`.
    pub fn memo_v2(&self, receipt_key: &str, memo: &Value) -> Call {
        self.request(
            reqwest::Method::PATCH,
            &v2(&format!("/receipt/{receipt_key}")),
        )
        .json(&serde_json::json!({ "memo": memo }))
    }
}
