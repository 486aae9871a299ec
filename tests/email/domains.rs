//! `base_url` and `share_domain` decide every link — in the email, on the web
//! receipt page and in the reveal response — and the request's `Host`,
//! `X-Forwarded-Host` or `Forwarded` headers never do.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;
use crate::email::smtp::SmtpServer;
use crate::email::support::*;

const ALLOWED: &str = "secrets.example.net";

/// Settings helper: links under `https://secrets.example.test`, and [`ALLOWED`]
/// the one share domain an account may pick.
fn allow_one_share_domain(s: &mut otsd::Settings) {
    s.base_url = "https://secrets.example.test".into();
    s.share_domains = vec![ALLOWED.into()];
}

/// Reveals `receipt`'s secret with every host header forged; returns the response.
async fn reveal_forged(app: &TestApp, receipt: &Value, passphrase: Option<&str>) -> Value {
    let key = text(receipt, "secret_key");
    ok_json(forged(app).reveal(key, passphrase).await).await
}

/// Shares as `account` with a recipient, every host header forged.
async fn share_forged(app: &TestApp, account: &Account, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![
        ("secret", "where does the link point"),
        ("recipient", "friend@example.com"),
    ];
    form.extend_from_slice(extra);
    ok_json(
        forged(&app.as_account(account))
            .post_form(SHARE, &form)
            .await,
    )
    .await
}

#[tokio::test]
async fn the_forged_host_headers_really_reach_the_server() {
    // The other tests trust the HTTP client to send a `Host` header we set instead
    // of its own; check that against a bare socket.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the request ended early");
            head.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        String::from_utf8(head).unwrap().to_ascii_lowercase()
    });

    let resp = forged(&Client::new(address)).get("/private/x").await;
    assert_eq!(resp.status(), 204);

    let head = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .expect("the request arrives")
        .unwrap();
    let hosts: Vec<&str> = head.lines().filter(|l| l.starts_with("host:")).collect();
    assert_eq!(hosts, [format!("host: {EVIL_HOST}")], "request:\n{head}");
    assert!(head.contains(&format!("x-forwarded-host: {EVIL_HOST}")));
    assert!(head.contains(&format!("forwarded: host={EVIL_HOST};proto=gopher")));
}

/// With `base_url` set to `setting`, the email link, the receipt page link and the
/// reveal response use `expected_base` (links) and `expected_origin` (reveal's
/// `share_domain`), whatever host the requests name.
async fn assert_links_follow_base_url(
    setting: &str,
    expected: impl Fn(&TestApp) -> (String, String),
) {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, |s| s.base_url = setting.into()).await;
    let (base, origin) = expected(&app);
    let alice = add_account(&app, "alice");

    let receipt = share_forged(&app, &alice, &[]).await;

    assert_eq!(receipt["share_domain"], "");
    let expected_link = link(&base, &receipt);
    let mail = smtp.only_message().await;
    assert!(
        mail.body.contains(&expected_link),
        "the email holds {expected_link}:\n{}",
        mail.body
    );
    mail.assert_conceals(EVIL_HOST, "forged host");
    assert_eq!(receipt_page_link(&app, &receipt).await, expected_link);
    let revealed = reveal_forged(&app, &receipt, None).await;
    assert_eq!(
        revealed,
        json!({
            "value": "where does the link point",
            "secret_key": receipt["secret_key"],
            "share_domain": origin,
        })
    );
}

#[tokio::test]
async fn by_default_every_link_starts_with_http_and_the_listen_address() {
    assert_links_follow_base_url("", |app| (app.address.clone(), app.address.clone())).await;
}

#[tokio::test]
async fn a_configured_base_url_decides_every_link() {
    assert_links_follow_base_url("https://secrets.example.test/ots/", |_| {
        (
            "https://secrets.example.test/ots".into(),
            "https://secrets.example.test".into(),
        )
    })
    .await;
}

#[tokio::test]
async fn an_allowed_share_domain_decides_every_link() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, |s| {
        s.base_url = "https://secrets.example.test".into();
        s.share_domains = vec![ALLOWED.into(), "Other.Example.ORG".into()];
    })
    .await;
    let alice = add_account(&app, "alice");

    // Domains compare without regard to case; the receipt keeps the lower case.
    let receipt = share_forged(
        &app,
        &alice,
        &[
            ("share_domain", " Secrets.Example.NET "),
            ("passphrase", "pw"),
        ],
    )
    .await;

    assert_eq!(receipt["share_domain"], ALLOWED);
    let shown = ok_json(app.metadata(text(&receipt, "metadata_key")).await).await;
    assert_eq!(shown["share_domain"], ALLOWED);
    let expected_link = link(&format!("https://{ALLOWED}"), &receipt);
    let mail = smtp.only_message().await;
    assert!(
        mail.body.contains(&expected_link),
        "the email holds {expected_link}:\n{}",
        mail.body
    );
    mail.assert_conceals("secrets.example.test", "base URL");
    assert_eq!(receipt_page_link(&app, &receipt).await, expected_link);
    let revealed = reveal_forged(&app, &receipt, Some("pw")).await;
    assert_eq!(revealed["share_domain"], format!("https://{ALLOWED}"));
    assert_eq!(revealed["value"], "where does the link point");

    // generate takes it too, and the allow-list's own case does not matter.
    let form = [
        ("share_domain", "other.example.org"),
        ("recipient", "friend@example.com"),
    ];
    let generated = ok_json(app.as_account(&alice).post_form(GENERATE, &form).await).await;
    assert_eq!(generated["share_domain"], "other.example.org");
    let messages = smtp.wait_for(2).await;
    let expected_link = link("https://other.example.org", &generated);
    assert!(messages[1].body.contains(&expected_link));
    messages[1].assert_conceals(text(&generated, "value"), "generated password");
    assert_eq!(receipt_page_link(&app, &generated).await, expected_link);
    let revealed = reveal_forged(&app, &generated, None).await;
    assert_eq!(revealed["share_domain"], "https://other.example.org");
}

#[tokio::test]
async fn a_share_domain_not_on_the_list_is_unknown_and_nothing_is_stored_or_sent() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, allow_one_share_domain).await;
    let alice = add_account(&app, "alice");
    let unknown = [
        EVIL_HOST,
        "secrets.example.net.evil.example",
        "sub.secrets.example.net",
        "example.net",
        "https://secrets.example.net",
        "secrets.example.net/path",
        "secrets.example.test:8443",
    ];

    for path in [SHARE, GENERATE] {
        for domain in unknown {
            let form = [
                ("secret", "kept back"),
                ("share_domain", domain),
                ("recipient", "friend@example.com"),
            ];
            let resp = forged(&app.as_account(&alice)).post_form(path, &form).await;
            assert_error(resp, 400, &format!("Unknown domain: {domain}")).await;
        }
    }

    assert_eq!(smtp.count(), 0, "nothing was sent");
    assert_eq!(app.stop_and_count_records().await, (0, 0), "nothing stored");
}

#[tokio::test]
async fn anonymous_callers_may_not_name_a_share_domain() {
    let app = spawn_app_with(allow_one_share_domain).await;

    for path in [SHARE, GENERATE] {
        for domain in [ALLOWED, EVIL_HOST] {
            let form = [("secret", "kept back"), ("share_domain", domain)];
            let resp = app.post_form(path, &form).await;
            assert_error(resp, 400, &format!("Unknown domain: {domain}")).await;
        }
    }

    assert_eq!(app.stop_and_count_records().await, (0, 0), "nothing stored");
}

#[tokio::test]
async fn the_servers_own_host_as_share_domain_means_none() {
    for base_url in ["", "https://secrets.example.test/ots"] {
        let smtp = SmtpServer::start().await;
        let app = spawn_with_relay(smtp.port, |s| {
            s.base_url = base_url.into();
            s.share_domains = vec![ALLOWED.into()];
        })
        .await;
        let (base, origin) = if base_url.is_empty() {
            (app.address.clone(), app.address.clone())
        } else {
            (
                base_url.to_owned(),
                "https://secrets.example.test".to_owned(),
            )
        };
        let own_host = origin.split_once("://").unwrap().1.to_owned();
        let alice = add_account(&app, "alice");

        // Anonymous callers may name it too: it is no custom domain.
        for account in [None, Some(&alice)] {
            for domain in [own_host.clone(), own_host.to_ascii_uppercase()] {
                let form = [("secret", "own host"), ("share_domain", domain.as_str())];
                let resp = app.as_caller(account).post_form(SHARE, &form).await;
                let receipt = ok_json(resp).await;
                assert_eq!(receipt["share_domain"], "", "{domain}");
                assert_eq!(
                    receipt_page_link(&app, &receipt).await,
                    link(&base, &receipt)
                );
                let revealed = reveal_forged(&app, &receipt, None).await;
                assert_eq!(revealed["share_domain"], origin.as_str());
            }
        }

        // And the email link is the base URL's.
        let receipt = share_forged(&app, &alice, &[("share_domain", &own_host)]).await;
        assert_eq!(receipt["share_domain"], "");
        let mail = smtp.only_message().await;
        assert!(mail.body.contains(&link(&base, &receipt)), "{}", mail.body);
    }
}

#[tokio::test]
async fn the_web_forms_links_follow_base_url_and_share_domain_whatever_the_host_header() {
    let smtp = SmtpServer::start().await;
    let app = spawn_with_relay(smtp.port, allow_one_share_domain).await;
    let alice = add_account(&app, "alice");
    let client = forged(&app.not_following_redirects());
    let form_post = |form: &[(&str, &str)]| client.post_form("/share", form);

    // Sharing from the form redirects to the receipt on the same server: a path,
    // never a URL built from the request's host.
    let resp = form_post(&[("secret", "from the form"), ("action", "share")]).await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/private/"), "{location}");
    let page = forged(&app).get(&location).await;
    let link = link_field(&page.text().await.unwrap());
    assert!(
        link.starts_with("https://secrets.example.test/secret/"),
        "{link}"
    );

    // Generating redirects the same way, the password following in a cookie; an
    // account may pick its share domain and a recipient there too.
    let resp = form_post(&[
        ("action", "generate"),
        ("account", &alice.name),
        ("token", &alice.token),
        ("share_domain", ALLOWED),
        ("recipient", "friend@example.com"),
    ])
    .await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/private/"), "{location}");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let page = client.get(&location).header("cookie", &cookie).await;
    let page = page.text().await.unwrap();
    let link = link_field(&page);
    assert!(
        link.starts_with(&format!("https://{ALLOWED}/secret/")),
        "{link}"
    );
    let mail = smtp.only_message().await;
    assert!(mail.body.contains(&link), "{}", mail.body);
    let generated = page
        .split("id=\"generated\"")
        .nth(1)
        .and_then(|f| f.split("value=\"").nth(1))
        .and_then(|v| v.split('"').next())
        .expect("the generated password on the page");
    // maud escapes these four in attribute values; `&` last, so `&amp;lt;` stays `&lt;`.
    let generated = generated
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    assert_eq!(generated.chars().count(), 12, "{generated}");
    mail.assert_conceals(&generated, "generated password");
}
