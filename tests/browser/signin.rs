//! Signing in on the pages (issue 28) in a real browser, against a real
//! OpenID provider on loopback (Node's `oidc-provider`, see
//! `tests/common/oidc.rs`): single sign-on through the provider's own login
//! form, "My secrets", the burn's confirm step, sign-out for good; the
//! people the `[oidc]` rules refuse; a tampered `state`; and what a closed
//! instance shows a visitor.
//!
//! The server listens on a port chosen before it starts, so that `base_url`
//! (and the redirect URL registered at the provider) is its own address.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::browser::support::*;
use crate::browser::webdriver::Browser;
use crate::common::oidc::{Client, Provider, Tamper, User};
use crate::common::*;

const CLIENT_SECRET: &str = "otsd-test-client-secret";

fn person(sub: &str, email: &str, verified: bool) -> User {
    User {
        sub: sub.to_owned(),
        email: email.to_owned(),
        email_verified: verified,
        name: sub.to_owned(),
        groups: vec!["staff".to_owned()],
        password: format!("{sub}-password"),
    }
}

/// A provider for `users`, and a server whose `[oidc]` points at it (the
/// client secret in a file), configured further by `configure`.
struct SsoLab {
    lab: Lab,
    provider: Provider,
    _secret_dir: tempfile::TempDir,
}

impl SsoLab {
    async fn new(
        test: &'static str,
        users: &[User],
        configure: impl FnOnce(&mut otsd::Settings),
    ) -> Self {
        Self::tampering(test, users, Tamper::None, configure).await
    }

    /// [`SsoLab::new`] with a provider that spoils its ID tokens as `tamper`
    /// says.
    async fn tampering(
        test: &'static str,
        users: &[User],
        tamper: Tamper,
        configure: impl FnOnce(&mut otsd::Settings),
    ) -> Self {
        let port = free_port();
        let base_url = format!("http://127.0.0.1:{port}");
        let client = Client::new(
            "otsd",
            CLIENT_SECRET,
            &format!("{base_url}/auth/oidc/callback"),
        );
        let provider = Provider::start_tampering(&[client], users, tamper);
        let secret_dir = tempfile::tempdir().expect("temp dir");
        let secret_file = secret_dir.path().join("client_secret");
        std::fs::write(&secret_file, CLIENT_SECRET).expect("write the client secret");
        let issuer = provider.issuer().to_owned();
        let lab = Lab::with(test, |s| {
            s.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            s.base_url = base_url;
            s.oidc.issuer = issuer;
            s.oidc.client_id = "otsd".into();
            s.oidc.client_secret_file = secret_file;
            s.oidc.scopes = vec!["openid".into(), "email".into(), "profile".into()];
            configure(s);
        })
        .await;
        Self {
            lab,
            provider,
            _secret_dir: secret_dir,
        }
    }

    /// From our sign-in page, through the provider's login form, as `user`;
    /// returns where the browser landed back on our server.
    async fn single_sign_on(&self, browser: &Browser, user: &User) -> String {
        browser.goto(&self.lab.url("/signin")).await;
        browser.find("#sso").await.click().await;
        let login = format!("{}/interaction/", self.provider.issuer());
        browser
            .wait_url("the provider's login form", |u| u.starts_with(&login))
            .await;
        browser.screenshot("provider-login").await;
        browser.find("#username").await.send_keys(&user.email).await;
        browser
            .find("#password")
            .await
            .send_keys(&user.password)
            .await;
        browser.find("#sign-in").await.click().await;
        let ours = self.lab.url("/");
        browser
            .wait_url("back on otsd", |u| u.starts_with(&ours))
            .await
    }
}

/// The header's signed-in name, if someone is.
async fn who(browser: &Browser) -> Option<String> {
    match browser.try_find("header .account .who").await {
        Some(name) => Some(name.text().await),
        None => None,
    }
}

#[tokio::test]
async fn single_sign_on_then_create_see_in_my_secrets_burn_and_sign_out_for_good() {
    let ann = person("ann", "ann@example.test", true);
    let sso = SsoLab::new("signin-sso", std::slice::from_ref(&ann), |s| {
        s.anonymous_create = false;
        s.web.password_sign_in = false;
    })
    .await;
    let lab = &sso.lab;
    let browser = lab.browser("ann").await;

    // A visitor of a closed instance gets the sign-in page at `/`.
    browser.goto(&lab.url("/")).await;
    assert_eq!(browser.find("h1").await.text().await, "Sign in");
    assert!(browser.try_find("#secret").await.is_none());
    assert!(
        browser.try_find("#password").await.is_none(),
        "password sign-in is off"
    );
    browser.screenshot("visitor").await;

    let landed = sso.single_sign_on(&browser, &ann).await;
    assert_eq!(landed, lab.url("/"), "after sign-in, the start page");
    assert_eq!(who(&browser).await.as_deref(), Some("ann@example.test"));
    assert!(
        browser.try_find("#account").await.is_none(),
        "no account fields"
    );
    assert!(browser.try_find("#token").await.is_none());
    browser.screenshot("signed-in").await;

    let created = create_secret(
        lab,
        &browser,
        &Form {
            secret: "made after single sign-on",
            ..Form::default()
        },
    )
    .await;
    let receipt = lab.api_receipt(&created.metadata_key).await;
    assert_eq!(
        receipt["custid"], "ann@example.test",
        "created as the account"
    );

    // My secrets lists it; its burn button leads to the confirm step.
    browser
        .find("header .account a[href='/account']")
        .await
        .click()
        .await;
    browser
        .wait_url("My secrets", |u| u == lab.url("/account"))
        .await;
    let item = format!("li[data-receipt='{}']", created.metadata_key);
    let state = browser.find(&format!("{item} span.state")).await;
    assert_eq!(state.attribute("data-state").await.as_deref(), Some("new"));
    assert!(browser.find("#extid").await.text().await.len() > 4);
    browser.screenshot("my-secrets").await;
    browser.find(&format!("{item} a.burn")).await.click().await;
    browser
        .wait_url("the confirm step", |u| u.ends_with("/burn"))
        .await;
    button(&browser, "Yes, burn this secret")
        .await
        .click()
        .await;
    wait_receipt_state(&browser, &created.receipt_url, "burned").await;
    browser.goto(&lab.url("/account")).await;
    let state = browser.find(&format!("{item} span.state")).await;
    assert_eq!(
        state.attribute("data-state").await.as_deref(),
        Some("burned")
    );
    browser.screenshot("burned").await;

    // Sign out: the old cookie no longer signs anyone in.
    let session = browser
        .cookie("otsd_session")
        .await
        .expect("a session cookie");
    browser.find("#sign-out").await.click().await;
    browser
        .wait_url("the start page", |u| u == lab.url("/"))
        .await;
    assert_eq!(who(&browser).await, None);
    assert_eq!(browser.find("h1").await.text().await, "Sign in");
    assert!(
        browser.cookie("otsd_session").await.is_none(),
        "the cookie is gone"
    );
    let replayed = lab
        .app
        .not_following_redirects()
        .get("/account")
        .header("cookie", &format!("otsd_session={session}"))
        .await;
    assert_eq!(replayed.status(), 303, "the ended session opens nothing");
    assert_eq!(replayed.headers()[LOCATION], "/signin");
}

#[tokio::test]
async fn people_the_oidc_rules_do_not_admit_are_refused() {
    let outsider = person("eve", "eve@elsewhere.test", true);
    let unverified = person("uma", "uma@example.test", false);
    let sso = SsoLab::new(
        "signin-refused",
        &[outsider.clone(), unverified.clone()],
        |s| s.oidc.allowed_domains = vec!["example.test".into()],
    )
    .await;
    for (user, reason) in [
        (
            &outsider,
            "Accounts of your email domain cannot sign in here.",
        ),
        (
            &unverified,
            "Your sign-in provider has not confirmed your email address, so you cannot sign in here with it.",
        ),
    ] {
        let browser = sso.lab.browser(&user.sub).await;
        sso.single_sign_on(&browser, user).await;
        assert_eq!(
            browser.find("h1").await.text().await,
            "Sign in",
            "{}",
            user.email
        );
        assert_eq!(browser.find("p.error").await.text().await, reason);
        assert_eq!(who(&browser).await, None, "{} is not signed in", user.email);
        assert!(browser.cookie("otsd_session").await.is_none());
        assert!(
            browser.cookie("otsd_oidc").await.is_none(),
            "the pending sign-in is gone"
        );
        browser.screenshot("refused").await;
        browser.goto(&sso.lab.url("/account")).await;
        browser
            .wait_url("the sign-in page", |u| u == sso.lab.url("/signin"))
            .await;
    }
}

/// The provider's answer with its `state` changed is refused: the sign-in
/// page with "did not complete" (403), no session, the pending cookie
/// removed. Driven over plain HTTP, redirect by redirect, since a browser
/// cannot be stopped between the provider and the callback.
#[tokio::test]
async fn a_callback_with_a_tampered_state_is_refused() {
    let ann = person("ann", "ann@example.test", true);
    let sso = SsoLab::new("signin-state", std::slice::from_ref(&ann), |_| {}).await;
    let mut hand = Hand::new();
    let back = sso.to_the_callback(&mut hand, &ann).await;
    let (path, query) = back.split_once('?').expect("a query");
    let tampered: Vec<String> = query
        .split('&')
        .map(|pair| match pair.strip_prefix("state=") {
            Some(state) => format!("state=x{state}"),
            None => pair.to_owned(),
        })
        .collect();
    assert!(query.contains("state="), "{back}");
    let answer = hand.get(&format!("{path}?{}", tampered.join("&"))).await;
    assert_refused_without_a_session(answer).await;
}

/// An ID token whose nonce, issuer, audience, expiry or signature is not
/// what it must be is refused at the callback, whatever else in it is right;
/// the same provider's untouched tokens sign in (the control).
#[tokio::test]
async fn an_id_token_with_a_wrong_nonce_issuer_audience_expiry_or_signature_is_refused() {
    let ann = person("ann", "ann@example.test", true);
    for tamper in [
        Tamper::None,
        Tamper::Nonce,
        Tamper::Issuer,
        Tamper::Audience,
        Tamper::Expired,
        Tamper::Signature,
    ] {
        let sso =
            SsoLab::tampering("signin-token", std::slice::from_ref(&ann), tamper, |_| {}).await;
        let mut hand = Hand::new();
        let back = sso.to_the_callback(&mut hand, &ann).await;
        let answer = hand.get(&back).await;
        if tamper == Tamper::None {
            assert_eq!(answer.status(), 303, "untouched tokens sign in");
            assert!(hand.jar.contains_key("otsd_session"), "a session began");
        } else {
            assert_refused_without_a_session(answer).await;
        }
    }
}

/// A callback refused: 403, the pending cookie removed, no session cookie,
/// and the page saying the sign-in did not complete.
async fn assert_refused_without_a_session(answer: reqwest::Response) {
    assert_eq!(answer.status(), 403);
    let cookies: Vec<String> = answer
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("otsd_oidc=;") && c.contains("Max-Age=0")),
        "the pending cookie is removed: {cookies:?}"
    );
    assert!(
        !cookies.iter().any(|c| c.starts_with("otsd_session=")),
        "{cookies:?}"
    );
    let body = answer.text().await.expect("a page");
    assert!(
        body.contains("The sign-in with your provider did not complete."),
        "{body}"
    );
}

impl SsoLab {
    /// From `/auth/oidc/start` through the provider's login form as `user`,
    /// over plain HTTP, redirect by redirect: the callback URL the provider
    /// sends the person back to (not yet followed).
    async fn to_the_callback(&self, hand: &mut Hand, user: &User) -> String {
        let sso = self;
        let ann = user;
        let callback = sso.lab.url("/auth/oidc/callback");

        let mut resp = hand.get(&sso.lab.url("/auth/oidc/start")).await;
        assert_eq!(resp.status(), 303);
        assert!(
            hand.jar.contains_key("otsd_oidc"),
            "the pending cookie is set"
        );
        let mut back = None;
        for _ in 0..12 {
            if resp.status().is_redirection() {
                let to = absolute(&resp);
                if to.starts_with(&callback) {
                    back = Some(to);
                    break;
                }
                resp = hand.get(&to).await;
            } else {
                let url = resp.url().to_string();
                let body = resp.text().await.expect("a page");
                assert!(
                    body.contains("id=\"login\""),
                    "the login form at {url}: {body}"
                );
                let action = url
                    .split("/interaction/")
                    .nth(1)
                    .and_then(|rest| rest.split(['/', '?']).next())
                    .map(|uid| format!("{}/interaction/{uid}/login", sso.provider.issuer()))
                    .expect("an interaction id");
                let form = [
                    ("username", ann.email.as_str()),
                    ("password", &ann.password),
                ];
                resp = hand.post_form(&action, &form).await;
            }
        }
        back.expect("the provider sent us back to the callback")
    }
}

/// A closed instance with password sign-in: a visitor gets the sign-in page
/// instead of the create form, and a secret's link still opens for them;
/// signed in, the same person gets the form without account fields.
#[tokio::test]
async fn a_closed_instance_shows_visitors_the_sign_in_page_and_links_still_open() {
    let lab = Lab::with("signin-closed", |s| s.anonymous_create = false).await;
    let alice = add_account(&lab.app, "alice");
    set_password(&lab.app, "alice", "alice's long password");
    let shared = lab
        .app
        .as_account(&alice)
        .share(&[("secret", "for whoever holds the link")])
        .await;
    let secret_key = shared["secret_key"].as_str().expect("a key").to_owned();

    let visitor = lab.browser("visitor").await;
    visitor.goto(&lab.url("/")).await;
    assert_eq!(visitor.find("h1").await.text().await, "Sign in");
    assert!(
        visitor.try_find("#secret").await.is_none(),
        "no create form"
    );
    visitor.find("#sign-in-link").await;
    visitor.screenshot("visitor").await;
    visitor.goto(&lab.url("/request")).await;
    assert_eq!(visitor.find("h1").await.text().await, "Sign in");

    visitor
        .goto(&lab.url(&format!("/secret/{secret_key}")))
        .await;
    visitor.find("#reveal").await.click().await;
    assert_eq!(
        visitor.find("#value").await.value().await,
        "for whoever holds the link"
    );

    visitor.goto(&lab.url("/signin")).await;
    visitor.find("#name").await.send_keys("alice").await;
    visitor
        .find("#password")
        .await
        .send_keys("alice's long password")
        .await;
    visitor.find("#sign-in").await.click().await;
    visitor
        .wait_url("the start page", |u| u == lab.url("/"))
        .await;
    assert_eq!(who(&visitor).await.as_deref(), Some("alice"));
    visitor.find("#secret").await;
    assert!(visitor.try_find("#account").await.is_none());
    visitor.screenshot("signed-in").await;
}

/// An HTTP client that follows nothing by itself and keeps one jar of
/// cookies for both servers (both are 127.0.0.1; their names differ).
struct Hand {
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
}

impl Hand {
    fn new() -> Self {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_LIMIT)
            .build()
            .expect("HTTP client");
        Self {
            http,
            jar: BTreeMap::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> reqwest::Response {
        let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let request = if cookies.is_empty() {
            request
        } else {
            request.header(COOKIE, cookies.join("; "))
        };
        let resp = request.send().await.expect("an answer");
        for header in resp.headers().get_all(SET_COOKIE) {
            let pair = header.to_str().unwrap_or_default().split(';').next();
            if let Some((name, value)) = pair.and_then(|p| p.split_once('=')) {
                if value.is_empty() {
                    self.jar.remove(name.trim());
                } else {
                    self.jar.insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        resp
    }

    async fn get(&mut self, url: &str) -> reqwest::Response {
        let request = self.http.get(url);
        self.send(request).await
    }

    async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let request = self.http.post(url).form(form);
        self.send(request).await
    }
}

/// A redirect's `Location`, made absolute against the answering server's
/// origin when it is a path.
fn absolute(resp: &reqwest::Response) -> String {
    let to = resp.headers()[LOCATION].to_str().expect("a Location");
    if to.starts_with('/') {
        let here = resp.url();
        let origin = format!(
            "{}://{}:{}",
            here.scheme(),
            here.host_str().unwrap_or("127.0.0.1"),
            here.port_or_known_default().unwrap_or(80)
        );
        format!("{origin}{to}")
    } else {
        to.to_owned()
    }
}
