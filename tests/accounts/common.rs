//! What the account tests share: accounts made through the running server's admin
//! socket, and requests that carry credentials, a raw `Authorization` header or a
//! forwarded client address.

use otsd::admin::{Request, Response, send};
use reqwest::RequestBuilder;
use serde_json::Value;

use crate::helpers::{TestApp, assert_error, ok_json, text};

pub const SHARE: &str = "/api/v1/share";
pub const GENERATE: &str = "/api/v1/generate";
pub const AUTHCHECK: &str = "/api/v1/authcheck";
pub const STATUS: &str = "/api/v1/status";
pub const RECENT: [&str; 2] = ["/api/v1/private/recent", "/api/v1/metadata/recent"];
pub const RATE_LIMITED: &str = "Rate limit exceeded. Please try again later.";

/// A rate-limit window no test run can straddle (windows are aligned to the clock;
/// this one is about 35,000 years long).
pub const WINDOW: u64 = 1 << 40;

/// An account and its API token.
#[derive(Clone)]
pub struct Account {
    pub name: String,
    pub token: String,
}

/// Creates an account through the running server's admin socket (what `otsd user
/// add` does while the server runs).
pub fn add_account(app: &TestApp, name: &str) -> Account {
    token_from(admin(app, Request::Add { name: name.into() }), name)
}

/// Replaces an account's token through the admin socket; returns the new one.
pub fn replace_token(app: &TestApp, account: &Account) -> Account {
    token_from(
        admin(
            app,
            Request::Token {
                name: account.name.clone(),
            },
        ),
        &account.name,
    )
}

/// Removes an account through the admin socket.
pub fn remove_account(app: &TestApp, account: &Account) {
    match admin(
        app,
        Request::Remove {
            name: account.name.clone(),
        },
    ) {
        Response::Removed { .. } => {}
        _ => panic!("removing account {} failed", account.name),
    }
}

fn admin(app: &TestApp, request: Request) -> Response {
    send(app.data_dir.path(), &request)
        .expect("admin socket")
        .expect("the running server answers on its admin socket")
}

fn token_from(response: Response, name: &str) -> Account {
    match response {
        Response::Token { name, token } => Account { name, token },
        Response::Error { message } => panic!("account {name}: {message}"),
        _ => panic!("account {name}: the answer carries no token"),
    }
}

/// Ways to dress a request up as a particular caller.
pub trait As: Sized {
    /// HTTP Basic with the account's name and token.
    fn account(self, account: &Account) -> Self;
    /// An `Authorization` header with exactly these bytes.
    fn authorization(self, raw: &[u8]) -> Self;
    /// `X-Forwarded-For: <ip>` (believed only from a trusted proxy).
    fn forwarded_for(self, ip: &str) -> Self;
    /// Anonymous when `None`.
    fn caller(self, account: Option<&Account>) -> Self {
        match account {
            Some(a) => self.account(a),
            None => self,
        }
    }
    /// Sends; panics only if there is no HTTP response at all.
    fn go(self) -> impl Future<Output = reqwest::Response>;
}

impl As for RequestBuilder {
    fn account(self, account: &Account) -> Self {
        self.basic_auth(&account.name, Some(&account.token))
    }

    fn authorization(self, raw: &[u8]) -> Self {
        let value = reqwest::header::HeaderValue::from_bytes(raw).expect("a header value");
        self.header(reqwest::header::AUTHORIZATION, value)
    }

    fn forwarded_for(self, ip: &str) -> Self {
        self.header("x-forwarded-for", ip)
    }

    async fn go(self) -> reqwest::Response {
        self.send().await.expect("an HTTP response")
    }
}

/// `POST path` with a form body.
pub fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> RequestBuilder {
    app.client.post(app.url(path)).form(form)
}

/// `GET path`.
pub fn get(app: &TestApp, path: &str) -> RequestBuilder {
    app.client.get(app.url(path))
}

/// `POST /api/v1/secret/{key}` with the passphrase if given.
pub fn reveal(app: &TestApp, secret_key: &str, passphrase: Option<&str>) -> RequestBuilder {
    let form: Vec<(&str, &str)> = passphrase.map(|p| ("passphrase", p)).into_iter().collect();
    post(app, &format!("/api/v1/secret/{secret_key}"), &form)
}

/// `POST /api/v1/private/{key}/burn` with the passphrase if given.
pub fn burn(app: &TestApp, metadata_key: &str, passphrase: Option<&str>) -> RequestBuilder {
    let form: Vec<(&str, &str)> = passphrase.map(|p| ("passphrase", p)).into_iter().collect();
    post(app, &format!("/api/v1/private/{metadata_key}/burn"), &form)
}

/// `GET /api/v1/private/{key}`.
pub fn metadata(app: &TestApp, metadata_key: &str) -> RequestBuilder {
    get(app, &format!("/api/v1/private/{metadata_key}"))
}

/// Shares `secret` as `caller` and returns the metadata object; panics unless 200.
pub async fn share_as(app: &TestApp, caller: Option<&Account>, form: &[(&str, &str)]) -> Value {
    ok_json(post(app, SHARE, form).caller(caller).go().await).await
}

/// Reveals and returns the value; panics unless 200.
pub async fn revealed_value(resp: reqwest::Response) -> String {
    text(&ok_json(resp).await, "value").to_owned()
}

/// Asserts the v1 `Not authorized` error (intended 401).
pub async fn assert_not_authorized(resp: reqwest::Response) {
    assert_error(resp, 401, "Not authorized").await;
}

/// Asserts the v1 rate-limit error (intended 429).
pub async fn assert_rate_limited(resp: reqwest::Response) {
    assert_error(resp, 429, RATE_LIMITED).await;
}

/// Standard base64 with padding (RFC 4648), for hand-made `Authorization` headers.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Settings helper: every rate limit generous, the window as long as [`WINDOW`],
/// and the test (127.0.0.1) a trusted proxy, so `X-Forwarded-For` names the client.
pub fn behind_trusted_proxy(s: &mut otsd::Settings) {
    s.rate_limits.window_secs = WINDOW;
    s.rate_limits.trusted_proxies = vec![otsd::ratelimit::IpNet::parse("127.0.0.1").unwrap()];
}

#[test]
fn base64_matches_rfc_4648_examples() {
    assert_eq!(base64(b":"), "Og==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b""), "");
}
