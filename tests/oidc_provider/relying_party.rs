//! A relying party played by hand over plain HTTP: it follows each redirect
//! itself (so each step can be asserted) and keeps the provider's cookies in a
//! small jar of its own.

use std::collections::BTreeMap;
use std::time::Duration;

use data_encoding::BASE64URL_NOPAD;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::common::oidc::{Client, Provider, User};

const REQUEST_LIMIT: Duration = Duration::from_secs(10);
/// Redirects one sign-in may take on the provider before it must come back.
const MAX_HOPS: usize = 8;
pub const SCOPE: &str = "openid email profile groups";

/// One browser's worth of state: an HTTP client that never follows redirects,
/// and the provider's cookies (sent on every request; the provider scopes some
/// to paths, which only makes it ignore the extra ones).
pub struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

/// A page the provider answered with (no redirect).
pub struct Page {
    pub url: String,
    pub status: StatusCode,
    pub body: String,
}

/// Where a sign-in ended.
pub enum Landing {
    /// Back at the client's redirect URI, with its full URL.
    Redirected(String),
    /// On a page of the provider.
    Page(Page),
}

impl Browser {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_LIMIT)
            .build()
            .expect("HTTP client");
        Self {
            http,
            cookies: BTreeMap::new(),
        }
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let header = header.to_str().expect("an ASCII Set-Cookie");
            let pair = header.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("a name=value cookie");
            let expired = header
                .to_ascii_lowercase()
                .contains("expires=thu, 01 jan 1970");
            if value.is_empty() || expired {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        let pairs: Vec<_> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let request = if self.cookies.is_empty() {
            request
        } else {
            request.header(COOKIE, self.cookie_header())
        };
        let response = request.send().await.expect("the provider answers");
        self.keep_cookies(&response);
        response
    }

    /// GETs `url` and follows the provider's redirects (at most [`MAX_HOPS`])
    /// until one leads to `redirect_uri` or a page is shown.
    pub async fn visit(&mut self, url: &str, redirect_uri: &str) -> Landing {
        let mut url = url.to_owned();
        for _ in 0..MAX_HOPS {
            let response = self.send(self.http.get(&url)).await;
            match self.next_hop(&url, response, redirect_uri).await {
                Hop::Next(next) => url = next,
                Hop::Landed(landing) => return landing,
            }
        }
        panic!("more than {MAX_HOPS} redirects on the provider, last {url}");
    }

    /// POSTs `form` to `url` and goes on as [`Browser::visit`] does.
    pub async fn submit(
        &mut self,
        url: &str,
        form: &[(&str, &str)],
        redirect_uri: &str,
    ) -> Landing {
        let response = self.send(self.http.post(url).form(form)).await;
        match self.next_hop(url, response, redirect_uri).await {
            Hop::Next(next) => Box::pin(self.visit(&next, redirect_uri)).await,
            Hop::Landed(landing) => landing,
        }
    }

    async fn next_hop(&self, url: &str, response: reqwest::Response, redirect_uri: &str) -> Hop {
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers()[LOCATION]
                .to_str()
                .expect("an ASCII Location");
            let next = reqwest::Url::parse(url)
                .and_then(|base| base.join(location))
                .expect("a Location URL")
                .to_string();
            if next.starts_with(redirect_uri) {
                return Hop::Landed(Landing::Redirected(next));
            }
            return Hop::Next(next);
        }
        Hop::Landed(Landing::Page(Page {
            url: url.to_owned(),
            status,
            body: response.text().await.expect("a page"),
        }))
    }

    pub async fn get_json(&mut self, url: &str) -> Value {
        let response = self.send(self.http.get(url)).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        response.json().await.expect("JSON")
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

enum Hop {
    Next(String),
    Landed(Landing),
}

/// What one authorization request sends that the relying party must remember.
pub struct Request {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
}

impl Request {
    pub fn new() -> Self {
        Self {
            state: random(),
            nonce: random(),
            code_verifier: random(),
        }
    }

    /// The S256 challenge of the verifier (RFC 7636, 4.2).
    pub fn code_challenge(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.code_verifier.as_bytes());
        BASE64URL_NOPAD.encode(digest.as_ref())
    }

    /// The authorization URL for `client`, with PKCE (S256), `state` and `nonce`.
    pub fn url(&self, authorization_endpoint: &str, client: &Client) -> String {
        let mut url = reqwest::Url::parse(authorization_endpoint).expect("an endpoint URL");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.id)
            .append_pair("redirect_uri", &client.redirect_uri)
            .append_pair("scope", SCOPE)
            .append_pair("state", &self.state)
            .append_pair("nonce", &self.nonce)
            .append_pair("code_challenge", &self.code_challenge())
            .append_pair("code_challenge_method", "S256");
        url.to_string()
    }
}

/// 32 random bytes, base64url: enough for a state, a nonce or a PKCE verifier
/// (43 characters, the least RFC 7636 allows).
fn random() -> String {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).expect("random");
    BASE64URL_NOPAD.encode(&bytes)
}

/// The query parameters of `url`.
pub fn query(url: &str) -> BTreeMap<String, String> {
    reqwest::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The claims of a JWT (its middle part), not verified.
pub fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT of three parts");
    let json = BASE64URL_NOPAD
        .decode(payload.as_bytes())
        .expect("a base64url payload");
    serde_json::from_slice(&json).expect("JSON claims")
}

/// The form's action on a login page.
pub fn form_action(page: &Page) -> String {
    let at = page.body.find("action=\"").expect("a form with an action") + "action=\"".len();
    let path = &page.body[at..][..page.body[at..].find('"').expect("a closing quote")];
    reqwest::Url::parse(&page.url)
        .and_then(|base| base.join(path))
        .expect("an action URL")
        .to_string()
}

/// A whole sign-in of `user` through `client`: discovery, the authorization
/// request, the login form, the code at the token endpoint. Returns what the
/// token endpoint answered and the request it answered.
pub async fn sign_in(provider: &Provider, client: &Client, user: &User) -> (Value, Request) {
    let mut browser = Browser::new();
    let discovery = browser
        .get_json(&format!(
            "{}/.well-known/openid-configuration",
            provider.issuer()
        ))
        .await;
    let request = Request::new();
    let authorize = request.url(
        discovery["authorization_endpoint"]
            .as_str()
            .expect("an endpoint"),
        client,
    );
    let Landing::Page(login) = browser.visit(&authorize, &client.redirect_uri).await else {
        panic!("the authorization request went back to the client before any login")
    };
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let form = [
        ("username", user.email.as_str()),
        ("password", user.password.as_str()),
    ];
    let Landing::Redirected(back) = browser
        .submit(&form_action(&login), &form, &client.redirect_uri)
        .await
    else {
        panic!(
            "the login did not lead back to the client; log:\n{}",
            provider.log()
        )
    };
    let answer = query(&back);
    assert_eq!(answer.get("state"), Some(&request.state), "{back}");
    let code = answer
        .get("code")
        .unwrap_or_else(|| panic!("a code in {back}"));
    let token = exchange(
        browser.http(),
        discovery["token_endpoint"].as_str().expect("an endpoint"),
        client,
        code,
        &request.code_verifier,
    )
    .await;
    assert_eq!(token.0, StatusCode::OK, "{}", token.1);
    (token.1, request)
}

/// The code exchange at the token endpoint, HTTP Basic: status and JSON body.
pub async fn exchange(
    http: &reqwest::Client,
    token_endpoint: &str,
    client: &Client,
    code: &str,
    code_verifier: &str,
) -> (StatusCode, Value) {
    let response = http
        .post(token_endpoint)
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", code_verifier),
        ])
        .send()
        .await
        .expect("the token endpoint answers");
    let status = response.status();
    (
        status,
        response.json().await.expect("JSON from the token endpoint"),
    )
}

/// Whether `jwt` is signed (RS256) by a key the provider publishes at its
/// `jwks_uri` under the token's `kid`.
pub async fn signed_by_provider(provider: &Provider, jwt: &str) -> bool {
    let jwks = Browser::new()
        .get_json(&format!("{}/jwks", provider.issuer()))
        .await;
    let (signed, signature) = jwt.rsplit_once('.').expect("a JWT");
    let header = signed.split('.').next().expect("a header");
    let header: Value = serde_json::from_slice(
        &BASE64URL_NOPAD
            .decode(header.as_bytes())
            .expect("a base64url header"),
    )
    .expect("a JSON header");
    assert_eq!(header["alg"], "RS256", "{header}");
    let keys = jwks["keys"].as_array().expect("keys");
    let key = keys
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap_or_else(|| panic!("no key {} in {jwks}", header["kid"]));
    let part = |name: &str| {
        BASE64URL_NOPAD
            .decode(key[name].as_str().expect("an RSA key part").as_bytes())
            .expect("base64url")
    };
    let public = ring::signature::RsaPublicKeyComponents {
        n: part("n"),
        e: part("e"),
    };
    let signature = BASE64URL_NOPAD
        .decode(signature.as_bytes())
        .expect("a base64url signature");
    public
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &signature,
        )
        .is_ok()
}
