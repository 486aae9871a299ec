//! What every fuzz target checks, shared by the targets in `fuzz/` (which include
//! this file) and by the regression test beside it, which replays the kept inputs:
//! no input may panic the parser, and what it accepts must survive a round trip.

#![allow(dead_code)]

use otsd::http::extract::{decode_nested, decode_params};
use std::collections::HashMap;

/// A check: returns when the input is handled as it must be, panics otherwise.
pub type Check = fn(&[u8]);

/// Each target: its name (the folder of its seeds and kept inputs) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("params_urlencoded", urlencoded_body),
    ("params_query", query_string),
    ("params_multipart", multipart_body),
    ("params_json", json_body),
    ("params_nested", nested_body),
    ("config_toml", config_toml),
    ("key_locate", key_locate),
    ("record_decode", record_decode),
    ("key_path", key_path),
];

fn pairs(params: &otsd::http::extract::Params) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Percent-encodes every byte but the unreserved ones.
fn form_encode(pairs: &[(String, String)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An urlencoded body: anything decodes or is refused; what decodes encodes back
/// to the same pairs.
pub fn urlencoded_body(data: &[u8]) {
    let Ok(params) = decode_params("application/x-www-form-urlencoded", data, "") else {
        return;
    };
    let decoded = pairs(&params);
    let again = decode_params("", form_encode(&decoded).as_bytes(), "").expect("re-encoded");
    assert_eq!(pairs(&again), decoded);
}

/// The query string of a POST with an empty body (a URI's query is text).
pub fn query_string(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(params) = decode_params("", b"", query) else {
        return;
    };
    let decoded = pairs(&params);
    let again = decode_params("", b"", &form_encode(&decoded)).expect("re-encoded");
    assert_eq!(pairs(&again), decoded);
}

/// A multipart body: the first line is the rest of the `Content-Type` after
/// `multipart/form-data; ` (so the boundary is fuzzed too), the rest the body.
/// What parses, framed again with a fresh boundary, parses to the same fields.
pub fn multipart_body(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let Ok(params_text) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let body = data.get(split + 1..).unwrap_or_default();
    let content_type = format!("multipart/form-data; {params_text}");
    let Ok(params) = decode_params(&content_type, body, "") else {
        return;
    };
    let decoded = pairs(&params);
    let boundary = "otsd-fuzz-boundary-0123456789abcdef";
    let mut framed = Vec::new();
    for (name, value) in &decoded {
        if value.contains(boundary) {
            return;
        }
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        framed.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{quoted}\"\r\n\r\n")
                .as_bytes(),
        );
        framed.extend_from_slice(value.as_bytes());
        framed.extend_from_slice(b"\r\n");
    }
    framed.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let again = decode_params(
        &format!("multipart/form-data; boundary={boundary}"),
        &framed,
        "",
    )
    .expect("re-framed");
    assert_eq!(pairs(&again), decoded);
}

/// A JSON body: decodes or is refused; what decodes, written again as an object
/// of strings (a repeated name as an array), decodes to the same pairs.
pub fn json_body(data: &[u8]) {
    let Ok(params) = decode_params("application/json", data, "") else {
        return;
    };
    let decoded = pairs(&params);
    let mut object = serde_json::Map::new();
    for (name, value) in &decoded {
        let value = serde_json::Value::String(value.clone());
        match object.get_mut(name) {
            Some(serde_json::Value::Array(items)) => items.push(value),
            Some(first) => *first = serde_json::Value::Array(vec![first.clone(), value]),
            None => {
                object.insert(name.clone(), value);
            }
        }
    }
    let text = serde_json::Value::Object(object).to_string();
    let again = decode_params("application/json", text.as_bytes(), "").expect("re-written");
    assert_eq!(pairs(&again), decoded);
}

/// A v2 create body, parameters nested under `secret`. The first byte picks
/// the shape by its value modulo 4 (the seeds use the digits): `0` JSON, `1`
/// urlencoded, `2` multipart (boundary `XX`), `3` the query string of an empty
/// body; the rest is the body or query. Decodes or is refused, never a panic;
/// what decodes has nothing left named `secret[…]` (nesting is unwrapped
/// once, never taken for the scope again); and what a form gave, nested again
/// under `secret`, decodes to the same pairs.
pub fn nested_body(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let decoded = match selector % 4 {
        0 => decode_nested("application/json", rest, "", "secret"),
        1 => decode_nested("application/x-www-form-urlencoded", rest, "", "secret"),
        2 => decode_nested("multipart/form-data; boundary=XX", rest, "", "secret"),
        _ => match std::str::from_utf8(rest) {
            Ok(query) => decode_nested("", b"", query, "secret"),
            Err(_) => return,
        },
    };
    let Ok(params) = decoded else {
        return;
    };
    let decoded = pairs(&params);
    for (name, _) in &decoded {
        assert!(!name.starts_with("secret["), "{name:?} is still nested");
    }
    if selector % 4 == 0 {
        return; // JSON's names come from its own nesting, not brackets
    }
    let nested: Vec<(String, String)> = decoded
        .iter()
        .map(|(name, value)| {
            let split = name.find('[').unwrap_or(name.len());
            let (field, rest) = name.split_at(split);
            (format!("secret[{field}]{rest}"), value.clone())
        })
        .collect();
    let again =
        decode_nested("", form_encode(&nested).as_bytes(), "", "secret").expect("nested again");
    assert_eq!(pairs(&again), decoded);
}

/// The configuration loader with the input as the TOML file: loads (and then
/// validates) or says why not, never panics.
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = Some(HashMap::new());
    if let Ok(loaded) = otsd::config::load_toml(text, &Default::default(), env) {
        loaded.settings.validate().expect("what loads is valid");
    }
}

/// One keyring for every run of [`key_locate`] (a fixed master key).
fn keyring() -> &'static otsd::crypto::Keyring {
    static KEYRING: std::sync::OnceLock<otsd::crypto::Keyring> = std::sync::OnceLock::new();
    KEYRING.get_or_init(|| {
        let master = otsd::crypto::MasterKey::from_hex(&"5e".repeat(32)).expect("a key");
        otsd::crypto::Keyring::new(&master, std::num::NonZeroU32::MIN)
    })
}

/// The key decoder: the first byte picks the kind, the rest is the key as a
/// client sent it. Any text is refused or located, never a panic; and the keys
/// issued for the record id in the first eight bytes locate that record, each
/// as its own kind only, and match its checks.
pub fn key_locate(data: &[u8]) {
    use otsd::crypto::{KeyKind, RecordId};
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let keyring = keyring();
    let kind = if selector & 1 == 0 {
        KeyKind::Secret
    } else {
        KeyKind::Receipt
    };
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = keyring.locate(kind, text);
    }
    let mut id = [0u8; 8];
    for (slot, byte) in id.iter_mut().zip(rest) {
        *slot = *byte;
    }
    let id = RecordId::new(u64::from_be_bytes(id));
    let keys = keyring.issue_keys(id);
    let (secret, receipt) = (keys.secret.expose(), keys.receipt.expose());
    assert_eq!(keyring.locate(KeyKind::Secret, secret), Some(id));
    assert_eq!(keyring.locate(KeyKind::Receipt, receipt), Some(id));
    assert_eq!(keyring.locate(KeyKind::Receipt, secret), None);
    assert_eq!(keyring.locate(KeyKind::Secret, receipt), None);
    assert!(keyring.verify(KeyKind::Secret, secret, &keys.secret_check));
    assert!(keyring.verify(KeyKind::Receipt, receipt, &keys.receipt_check));
    assert!(!keyring.verify(KeyKind::Secret, receipt, &keys.secret_check));
}

/// The record decoder, on bytes as the store reads them: a secret, request
/// or account record decodes or is refused, never a panic; what decodes
/// encodes and decodes again to the same record.
pub fn record_decode(data: &[u8]) {
    use otsd::store::{AccountRecord, RequestRecord, SecretRecord};
    round_trips::<SecretRecord>(data);
    round_trips::<RequestRecord>(data);
    round_trips::<AccountRecord>(data);
}

fn round_trips<R: otsd::store::Record + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(record) = R::from_stored_bytes(data) {
        let bytes = record.to_stored_bytes().expect("encodes");
        assert_eq!(R::from_stored_bytes(&bytes).expect("decodes"), record);
    }
}

/// Every route pattern that takes a key, the pages' and the APIs' (see
/// `web::configure`, `api::configure`, `api::requests::configure`).
const KEY_ROUTES: &[&str] = &[
    "/secret/{key}",
    "/private/{key}",
    "/private/{key}/burn",
    "/request/{key}",
    "/request/{key}/reveal",
    "/request/{key}/cancel",
    "/ask/{key}",
    "/ask/{key}/sent",
    "/api/v1/secret/{key}",
    "/api/v1/private/{key}",
    "/api/v1/receipt/{key}",
    "/api/v1/private/{key}/burn",
    "/api/v1/receipt/{key}/burn",
    "/api/requests/{key}",
    "/api/requests/{key}/answer",
    "/api/requests/private/{key}",
    "/api/requests/private/{key}/reveal",
    "/api/requests/private/{key}/cancel",
];

/// A request path (the input, as it would stand in the request line): what
/// the HTTP layer takes as a URI is matched against every key route the way
/// the server matches it (percent-decoding included), and the `{key}` it
/// captures is parsed as each kind of key. A key that parses is written only
/// in the key alphabet, and every redirect the pages build from it is a
/// header value without a control byte. Never a panic.
pub fn key_path(data: &[u8]) {
    use actix_web::dev::{Path, ResourceDef, Url};
    use actix_web::http::{Uri, header::HeaderValue};
    use otsd::domain::{KEY_ALPHABET, PrivateKey, ReceiptKey, RequestKey, SecretKey};
    use otsd::http::web::Redirect;

    let Ok(uri) = Uri::try_from(data) else {
        return;
    };
    let url = Url::new(uri);
    for pattern in KEY_ROUTES {
        let mut path = Path::new(url.clone());
        if !ResourceDef::new(*pattern).capture_match_info(&mut path) {
            continue;
        }
        let raw = path.get("key").expect("a key route captures its key");
        let parsed = [
            SecretKey::from_path(raw).map(|k| k.expose().to_owned()),
            PrivateKey::from_path(raw).map(|k| k.expose().to_owned()),
            ReceiptKey::from_path(raw).map(|k| k.expose().to_owned()),
            RequestKey::from_path(raw).map(|k| k.expose().to_owned()),
        ];
        for key in parsed.iter().flatten() {
            assert_eq!(key, raw, "a key is taken as it was sent");
            assert!(key.bytes().all(|b| KEY_ALPHABET.contains(&b)), "{key:?}");
        }
        let (Some(receipt), Some(private), Some(request)) = (
            ReceiptKey::from_path(raw),
            PrivateKey::from_path(raw),
            RequestKey::from_path(raw),
        ) else {
            continue;
        };
        for to in [
            Redirect::Receipt(&receipt),
            Redirect::Private(&private),
            Redirect::Ask(&request),
            Redirect::AnswerSent(&request),
        ] {
            let location = to.location();
            assert!(HeaderValue::from_str(&location).is_ok(), "{location:?}");
            assert!(
                !location.bytes().any(|b| b < 0x20 || b == 0x7f),
                "{location:?}"
            );
        }
    }
}
