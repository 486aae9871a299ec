//! What the email tests share: a server wired to an SMTP relay, accounts made
//! through its admin socket, and requests as an account or with forged host
//! headers.

use otsd::Settings;
use otsd::admin::{Request, Response, send};
use reqwest::RequestBuilder;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_with};

pub const SHARE: &str = "/api/v1/share";
pub const GENERATE: &str = "/api/v1/generate";
pub const RECENT: &str = "/api/v1/private/recent";
/// The sender every test server is configured with.
pub const FROM: &str = "otsd tests <otsd@example.test>";
pub const FROM_ADDRESS: &str = "otsd@example.test";
/// `FROM` as the mailer writes it in the `From` header.
pub const FROM_HEADER: &str = "\"otsd tests\" <otsd@example.test>";
/// What the server says when the relay did not take the message.
pub const EMAIL_FAILED: &str =
    "The email to the recipient could not be sent, so nothing was stored. Please try again later.";
pub const RATE_LIMITED: &str = "Rate limit exceeded. Please try again later.";
/// A host no link may ever name: the tests put it in every host header they forge.
pub const EVIL_HOST: &str = "evil.example.net";
/// A rate-limit window no test run can straddle (windows are aligned to the clock).
pub const WINDOW: u64 = 1 << 40;

/// Held while this test process starts a child process or opens a new database.
///
/// A child holds copies of all the parent's file descriptors from `fork` until
/// `exec`, and with them sled's lock on any database file open at that moment. A
/// new database is created under a staging name, closed, renamed and opened again:
/// a child forked in between keeps the first lock alive for a moment, and the
/// second open fails as `Locked`. Never doing both at once avoids that.
pub static SPAWNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `spawn_app_with`, never while a child process is being started.
pub async fn spawn(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let _guard = SPAWNING.lock().await;
    spawn_app_with(configure).await
}

/// Starts the server with email through the plain-text relay on `127.0.0.1:port`
/// (then `configure` may change anything).
pub async fn spawn_with_relay(port: u16, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(|s| {
        s.smtp.host = "127.0.0.1".into();
        s.smtp.port = port;
        s.smtp.security = otsd::mail::SmtpSecurity::Plaintext;
        s.smtp.from = FROM.into();
        s.smtp.timeout_secs = 5;
        configure(s);
    })
    .await
}

/// An account and its API token.
pub struct Account {
    pub name: String,
    pub token: String,
}

/// Creates an account through the running server's admin socket (what `otsd user
/// add` does while the server runs: sled allows one open database per process).
pub fn add_account(app: &TestApp, name: &str) -> Account {
    let response = send(app.data_dir.path(), &Request::Add { name: name.into() })
        .expect("admin socket")
        .expect("the running server answers on its admin socket");
    match response {
        Response::Token { name, token } => Account { name, token },
        Response::Error { message } => panic!("account {name}: {message}"),
        _ => panic!("account {name}: the answer carries no token"),
    }
}

/// `POST path` with a form body, as `account` (anonymous when `None`).
pub fn post(
    app: &TestApp,
    path: &str,
    account: Option<&Account>,
    form: &[(&str, &str)],
) -> RequestBuilder {
    let request = app.client.post(app.url(path)).form(form);
    match account {
        Some(a) => request.basic_auth(&a.name, Some(&a.token)),
        None => request,
    }
}

/// `GET path` as `account`.
pub fn get(app: &TestApp, path: &str, account: &Account) -> RequestBuilder {
    app.client
        .get(app.url(path))
        .basic_auth(&account.name, Some(&account.token))
}

/// Every header a proxy or a client could use to name another host.
pub fn forged(request: RequestBuilder) -> RequestBuilder {
    request
        .header("host", EVIL_HOST)
        .header("x-forwarded-host", EVIL_HOST)
        .header("x-forwarded-proto", "gopher")
        .header("x-forwarded-server", EVIL_HOST)
        .header("x-original-host", EVIL_HOST)
        .header("forwarded", format!("host={EVIL_HOST};proto=gopher"))
}

/// Sends; panics only if there is no HTTP response at all.
pub async fn go(request: RequestBuilder) -> reqwest::Response {
    request.send().await.expect("an HTTP response")
}

/// The `/secret/<key>` link a receipt's secret should have under `origin_and_path`
/// (the base URL, or `https://<share domain>`).
pub fn link(base: &str, receipt: &Value) -> String {
    format!(
        "{base}/secret/{}",
        crate::helpers::text(receipt, "secret_key")
    )
}

/// The share link on the web receipt page `/private/<metadata key>` (the value of
/// its `#link` field), fetched with every host header forged.
pub async fn receipt_page_link(app: &TestApp, receipt: &Value) -> String {
    let key = crate::helpers::text(receipt, "metadata_key");
    let resp = go(forged(app.client.get(app.url(&format!("/private/{key}"))))).await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.expect("page");
    link_field(&page)
}

/// The value of the `#link` field of a receipt page, which must not name the
/// forged host anywhere.
pub fn link_field(page: &str) -> String {
    assert!(!page.contains(EVIL_HOST), "the page names the forged host");
    let field = page
        .split("id=\"link\"")
        .nth(1)
        .unwrap_or_else(|| panic!("a #link field in\n{page}"));
    let value = field
        .split("value=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap_or_else(|| panic!("a value on the #link field in\n{page}"));
    value.to_owned()
}
