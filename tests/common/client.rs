//! One HTTP client for every server a test talks to, in-process or the real
//! binary: the v1 calls (share, reveal, metadata, burn), posts of every body shape
//! the API takes, and ways to dress every request up as a particular caller.
//!
//! A request method returns a [`Call`]: awaiting it sends the request and gives
//! the response (panicking only when there is no HTTP response at all); before
//! that it can still take a header or a timeout, or be kept in a list.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::multipart::Form;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;

use super::accounts::Account;
use super::api::{REQUESTS, SHARE};
use super::assert::{ok_json, text};

/// How long one request may take before the test gives up on it (debug build,
/// busy machine).
pub const REQUEST_LIMIT: Duration = Duration::from_secs(20);

/// An HTTP client for one server, and who it says it is.
#[derive(Clone)]
pub struct Client {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    /// The bare client, for what the kit has no call for.
    pub http: reqwest::Client,
    /// What every request carries, in order.
    dress: Vec<Dress>,
}

#[derive(Clone)]
enum Dress {
    Account(Account),
    Header(HeaderName, HeaderValue),
}

fn http_client(redirects: reqwest::redirect::Policy) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(redirects)
        .timeout(REQUEST_LIMIT)
        .build()
        .expect("HTTP client")
}

impl Client {
    /// A client for the server at `address` (`http://127.0.0.1:<port>`): no
    /// proxy, follows redirects, anonymous.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            http: http_client(reqwest::redirect::Policy::default()),
            dress: Vec::new(),
        }
    }

    /// The same, showing redirects instead of following them.
    pub fn not_following_redirects(&self) -> Self {
        Self {
            http: http_client(reqwest::redirect::Policy::none()),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The server's socket address, for raw HTTP.
    pub fn socket_addr(&self) -> SocketAddr {
        self.address
            .trim_start_matches("http://")
            .parse()
            .expect("an address")
    }

    // Who is calling. Each returns a new client; what it already carries stays.

    /// HTTP Basic with the account's name and token on every request.
    pub fn as_account(&self, account: &Account) -> Self {
        self.dressed(Dress::Account(account.clone()))
    }

    /// [`as_account`](Self::as_account), or anonymous when `None`.
    pub fn as_caller(&self, account: Option<&Account>) -> Self {
        match account {
            Some(account) => self.as_account(account),
            None => self.clone(),
        }
    }

    /// `X-Forwarded-For: <ip>` on every request (believed only from a trusted
    /// proxy). A second call adds a second header line.
    pub fn forwarded_for(&self, ip: &str) -> Self {
        self.header("x-forwarded-for", ip)
    }

    /// [`forwarded_for`](Self::forwarded_for), or no such header when `None`.
    pub fn maybe_forwarded_for(&self, ip: Option<&str>) -> Self {
        match ip {
            Some(ip) => self.forwarded_for(ip),
            None => self.clone(),
        }
    }

    /// An `Authorization` header with exactly these bytes.
    pub fn authorization(&self, raw: &[u8]) -> Self {
        self.dressed(Dress::Header(
            AUTHORIZATION,
            HeaderValue::from_bytes(raw).expect("a header value"),
        ))
    }

    /// Any header on every request (added after those the client already sends).
    pub fn header(&self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.dressed(Dress::Header(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_bytes(value.as_ref()).expect("a header value"),
        ))
    }

    fn dressed(&self, dress: Dress) -> Self {
        let mut client = self.clone();
        client.dress.push(dress);
        client
    }

    // Requests.

    /// `method path` with no body.
    pub fn request(&self, method: Method, path: &str) -> Call {
        let mut request = self.http.request(method.clone(), self.url(path));
        for dress in &self.dress {
            request = match dress {
                Dress::Account(a) => request.basic_auth(&a.name, Some(&a.token)),
                Dress::Header(name, value) => request.header(name, value),
            };
        }
        Call {
            what: format!("{method} {path}"),
            request,
        }
    }

    pub fn get(&self, path: &str) -> Call {
        self.request(Method::GET, path)
    }

    /// `POST path` with no body and no `Content-Type`.
    pub fn post(&self, path: &str) -> Call {
        self.request(Method::POST, path)
    }

    /// `POST path?params` with no body: the parameters in the query string only.
    pub fn post_query(&self, path: &str, params: &[(&str, &str)]) -> Call {
        self.post(&super::api::with_query(path, params))
    }

    /// POST with an urlencoded form body.
    pub fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Call {
        self.post(path).map(|r| r.form(form))
    }

    /// POST with a JSON body (`Content-Type: application/json`).
    pub fn post_json(&self, path: &str, body: &Value) -> Call {
        self.post(path).map(|r| r.json(body))
    }

    /// POST with a multipart body.
    pub fn post_multipart(&self, path: &str, form: Form) -> Call {
        self.post(path).map(|r| r.multipart(form))
    }

    /// POST of `body`, as it is, as `content_type`.
    pub fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Call {
        self.post(path)
            .header("content-type", content_type)
            .map(|r| r.body(body))
    }

    // The v1 calls.

    /// Shares a secret and returns the metadata object; panics unless 200.
    pub async fn share(&self, form: &[(&str, &str)]) -> Value {
        ok_json(self.post_form(SHARE, form).await).await
    }

    /// Reveals a secret (optionally with a passphrase).
    pub fn reveal(&self, secret_key: &str, passphrase: Option<&str>) -> Call {
        let form: Vec<(&str, &str)> = passphrase.map(|p| ("passphrase", p)).into_iter().collect();
        self.post_form(&format!("/api/v1/secret/{secret_key}"), &form)
    }

    /// Reveals and returns the value; panics unless 200.
    pub async fn reveal_value(&self, secret_key: &str, passphrase: Option<&str>) -> String {
        let body = ok_json(self.reveal(secret_key, passphrase).await).await;
        text(&body, "value").to_owned()
    }

    /// Reads a receipt (`GET /api/v1/private/{key}`).
    pub fn metadata(&self, metadata_key: &str) -> Call {
        self.get(&format!("/api/v1/private/{metadata_key}"))
    }

    /// Burns a secret through its receipt (optionally with the passphrase).
    pub fn burn(&self, metadata_key: &str, passphrase: Option<&str>) -> Call {
        let form: Vec<(&str, &str)> = passphrase.map(|p| ("passphrase", p)).into_iter().collect();
        self.post_form(&format!("/api/v1/private/{metadata_key}/burn"), &form)
    }
}

impl Client {
    // The requests API (`/api/requests`).

    /// Asks for a secret and returns the requester's view; panics unless 200.
    pub async fn ask(&self, form: &[(&str, &str)]) -> Value {
        ok_json(self.post_form(REQUESTS, form).await).await
    }

    /// What a request link shows (`GET /api/requests/{key}`).
    pub fn open_request(&self, request_key: &str) -> Call {
        self.get(&format!("{REQUESTS}/{request_key}"))
    }

    /// Answers a request.
    pub fn answer(&self, request_key: &str, secret: &str) -> Call {
        self.post_form(
            &format!("{REQUESTS}/{request_key}/answer"),
            &[("secret", secret)],
        )
    }

    /// The requester's view (`GET /api/requests/private/{key}`).
    pub fn private_view(&self, private_key: &str) -> Call {
        self.get(&format!("{REQUESTS}/private/{private_key}"))
    }

    /// Reveals a request's answer.
    pub fn reveal_answer(&self, private_key: &str) -> Call {
        self.post_form(&format!("{REQUESTS}/private/{private_key}/reveal"), &[])
    }

    /// Cancels a request.
    pub fn cancel_request(&self, private_key: &str) -> Call {
        self.post_form(&format!("{REQUESTS}/private/{private_key}/cancel"), &[])
    }
}

/// A request ready to go: await it for the response.
pub struct Call {
    /// `METHOD path`, for the panic when no response comes.
    what: String,
    request: RequestBuilder,
}

impl Call {
    fn map(self, f: impl FnOnce(RequestBuilder) -> RequestBuilder) -> Self {
        Self {
            what: self.what,
            request: f(self.request),
        }
    }

    /// Adds a header to this request.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.map(|r| r.header(name, value))
    }

    /// Sends `body` as JSON (`Content-Type: application/json`).
    pub fn json(self, body: &Value) -> Self {
        self.map(|r| r.json(body))
    }

    /// Gives up on the answer after `limit`.
    pub fn timeout(self, limit: Duration) -> Self {
        self.map(|r| r.timeout(limit))
    }

    /// Sends, and returns the transport error instead of panicking on one.
    pub async fn try_send(self) -> reqwest::Result<Response> {
        self.request.send().await
    }

    /// Sends; panics only if there is no HTTP response at all.
    pub async fn send(self) -> Response {
        let what = self.what;
        self.request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    }
}

impl IntoFuture for Call {
    type Output = Response;
    type IntoFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
