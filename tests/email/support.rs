//! What the email tests share beyond the kit: a server wired to an SMTP relay,
//! requests with forged host headers, and the links the server builds.

use otsd::Settings;
use serde_json::Value;

use crate::common::*;

/// The sender every test server is configured with.
pub const FROM: &str = "otsd tests <otsd@example.test>";
pub const FROM_ADDRESS: &str = "otsd@example.test";
/// `FROM` as the mailer writes it in the `From` header.
pub const FROM_HEADER: &str = "\"otsd tests\" <otsd@example.test>";
/// What the server says when the relay did not take the message.
pub const EMAIL_FAILED: &str =
    "The email to the recipient could not be sent, so nothing was stored. Please try again later.";
/// A host no link may ever name: the tests put it in every host header they forge.
pub const EVIL_HOST: &str = "evil.example.net";

/// Settings helper: email through the plain-text relay on `127.0.0.1:port`.
pub fn with_relay(s: &mut Settings, port: u16) {
    s.smtp.host = "127.0.0.1".into();
    s.smtp.port = port;
    s.smtp.security = otsd::mail::SmtpSecurity::Plaintext;
    s.smtp.from = FROM.into();
    s.smtp.timeout_secs = 5;
}

/// Starts the server with email through the plain-text relay on `127.0.0.1:port`
/// (then `configure` may change anything).
pub async fn spawn_with_relay(port: u16, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(|s| {
        with_relay(s, port);
        configure(s);
    })
    .await
}

/// `client` with every header a proxy or a client could use to name another host.
pub fn forged(client: &Client) -> Client {
    client
        .header("host", EVIL_HOST)
        .header("x-forwarded-host", EVIL_HOST)
        .header("x-forwarded-proto", "gopher")
        .header("x-forwarded-server", EVIL_HOST)
        .header("x-original-host", EVIL_HOST)
        .header("forwarded", format!("host={EVIL_HOST};proto=gopher"))
}

/// The `/secret/<key>` link a receipt's secret should have under `origin_and_path`
/// (the base URL, or `https://<share domain>`).
pub fn link(base: &str, receipt: &Value) -> String {
    format!("{base}/secret/{}", text(receipt, "secret_key"))
}

/// The share link on the web receipt page `/private/<metadata key>` (the value of
/// its `#link` field), fetched with every host header forged.
pub async fn receipt_page_link(app: &TestApp, receipt: &Value) -> String {
    let key = text(receipt, "metadata_key");
    let resp = forged(app).get(&format!("/private/{key}")).await;
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
