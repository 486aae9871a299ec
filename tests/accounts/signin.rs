//! Signing in on the pages with a password (issue 28), over HTTP against the
//! real server: the session cookie and its attributes, one answer for a wrong
//! password and an unknown name, the lockout after repeated failures, and
//! every way a session ends (sign-out, idle time, `otsd user password`,
//! `otsd user token`, `otsd user remove`, the last three with the real
//! binary talking to the running server's admin socket).

use std::time::Duration;

use reqwest::Response;
use reqwest::header::{LOCATION, RETRY_AFTER, SET_COOKIE};

use crate::common::*;

const PASSWORD: &str = "correct horse battery";

/// A server with password sign-in on (the default) and an account `ann`
/// with a web password.
async fn server(configure: impl FnOnce(&mut otsd::Settings)) -> TestApp {
    let app = spawn_app_with(|s| {
        s.rate_limits.window_secs = WINDOW;
        configure(s);
    })
    .await;
    add_account(&app, "ann");
    set_password(&app, "ann", PASSWORD);
    app
}

/// `POST /signin`, not following the redirect.
async fn sign_in(app: &TestApp, name: &str, password: &str) -> Response {
    app.not_following_redirects()
        .post_form("/signin", &[("name", name), ("password", password)])
        .await
}

/// The `Set-Cookie` header that sets `name`, whole.
fn set_cookie(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value a `Set-Cookie` header gives.
fn value_of(header: &str) -> String {
    let (_, rest) = header.split_once('=').expect("name=value");
    rest.split(';').next().unwrap_or_default().to_owned()
}

/// Signs in and returns the session cookie's value.
async fn session_of(app: &TestApp, name: &str, password: &str) -> String {
    let resp = sign_in(app, name, password).await;
    assert_eq!(resp.status(), 303, "signed in");
    assert_eq!(resp.headers()[LOCATION], "/");
    value_of(&set_cookie(&resp, "otsd_session").expect("a session cookie"))
}

/// `GET /account` with the session cookie `value`.
async fn account_page(app: &TestApp, value: &str) -> Response {
    app.not_following_redirects()
        .get("/account")
        .header("cookie", &format!("otsd_session={value}"))
        .await
}

/// The session `value` works: "My secrets" of `name`.
async fn assert_signed_in(app: &TestApp, value: &str, name: &str) {
    let resp = account_page(app, value).await;
    assert_eq!(resp.status(), 200, "the session opens My secrets");
    let body = resp.text().await.expect("page");
    assert!(body.contains("My secrets") && body.contains(name), "{body}");
}

/// The session `value` has ended: `/account` sends to the sign-in page and
/// the browser is told to forget the cookie.
async fn assert_ended(app: &TestApp, value: &str, what: &str) {
    let resp = account_page(app, value).await;
    assert_eq!(resp.status(), 303, "{what}: no longer signed in");
    assert_eq!(resp.headers()[LOCATION], "/signin", "{what}");
    let cleared = set_cookie(&resp, "otsd_session")
        .unwrap_or_else(|| panic!("{what}: the ended cookie is cleared"));
    assert!(cleared.contains("Max-Age=0"), "{what}: {cleared}");
}

#[tokio::test]
async fn a_password_sign_in_opens_my_secrets_and_sign_out_ends_the_session() {
    let app = server(|_| {}).await;
    let session = session_of(&app, "ann", PASSWORD).await;
    assert_signed_in(&app, &session, "ann").await;

    // The API never takes the cookie for credentials.
    let api = app
        .get("/api/v1/private/recent")
        .header("cookie", &format!("otsd_session={session}"))
        .await;
    assert_not_authorized(api).await;

    let out = app
        .not_following_redirects()
        .post("/signout")
        .header("cookie", &format!("otsd_session={session}"))
        .await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()[LOCATION], "/");
    let cleared = set_cookie(&out, "otsd_session").expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_ended(&app, &session, "after sign-out").await;
}

#[tokio::test]
async fn signing_in_twice_gives_a_fresh_session_and_ends_the_old_one() {
    let app = server(|_| {}).await;
    let first = session_of(&app, "ann", PASSWORD).await;
    let resp = app
        .not_following_redirects()
        .post_form("/signin", &[("name", "ann"), ("password", PASSWORD)])
        .header("cookie", &format!("otsd_session={first}"))
        .await;
    assert_eq!(resp.status(), 303);
    let second = value_of(&set_cookie(&resp, "otsd_session").expect("a new cookie"));
    assert_ne!(first, second, "a session id is never reused");
    assert_signed_in(&app, &second, "ann").await;
    assert_ended(&app, &first, "the session signed in over").await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_name_get_the_same_answer() {
    let app = server(|_| {}).await;
    let wrong = sign_in(&app, "ann", "not the password at all").await;
    let unknown = sign_in(&app, "nobody", "not the password at all").await;
    let no_password = {
        add_account(&app, "bob");
        sign_in(&app, "bob", "not the password at all").await
    };
    let mut bodies = Vec::new();
    for (what, resp) in [
        ("wrong password", wrong),
        ("unknown name", unknown),
        ("account without a password", no_password),
    ] {
        assert_eq!(resp.status(), 401, "{what}");
        assert!(set_cookie(&resp, "otsd_session").is_none(), "{what}");
        let body = resp.text().await.expect("page");
        assert!(
            body.contains("The account name or password is wrong."),
            "{what}: {body}"
        );
        bodies.push(body);
    }
    assert_eq!(bodies[0], bodies[1], "the same page for both");
    assert_eq!(bodies[0], bodies[2]);
}

#[tokio::test]
async fn after_the_failed_sign_in_limit_even_the_right_password_is_refused() {
    let app = server(|s| s.rate_limits.failed_sign_in = 3).await;
    for attempt in 1..=3 {
        let resp = sign_in(&app, "ann", "a wrong password here").await;
        assert_eq!(resp.status(), 401, "failure {attempt}");
    }
    let resp = sign_in(&app, "ann", PASSWORD).await;
    assert_eq!(resp.status(), 429, "locked out");
    assert!(resp.headers().contains_key(RETRY_AFTER));
    assert!(set_cookie(&resp, "otsd_session").is_none());
    let body = resp.text().await.expect("page");
    assert!(body.contains("Too many requests"), "{body}");
    // The form is still there, to try again later.
    assert!(body.contains("action=\"/signin\""), "{body}");
}

#[tokio::test]
async fn a_session_ends_after_its_idle_time() {
    let app = server(|s| {
        s.web.session_idle_secs = 2;
        s.web.session_max_secs = 60;
    })
    .await;
    let session = session_of(&app, "ann", PASSWORD).await;
    assert_signed_in(&app, &session, "ann").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_ended(&app, &session, "idle for 3 s of 2").await;
}

/// `otsd user <args>` from the real binary, against the running server.
fn otsd_user(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Finished {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("otsd.toml");
    std::fs::write(&config, "").expect("an empty config");
    let mut cmd = Otsd::bare(dir.path())
        .data_dir(app.data_dir.path())
        .arg("--config")
        .arg(config)
        .arg("user");
    for arg in args {
        cmd = cmd.arg(*arg);
    }
    if let Some(text) = stdin {
        cmd = cmd.stdin(text);
    }
    let done = cmd.run();
    assert!(
        done.status.success(),
        "otsd user {args:?}: {}; stderr:\n{}",
        done.status,
        done.stderr
    );
    done
}

#[tokio::test]
async fn user_password_token_and_remove_each_end_the_accounts_sessions() {
    let app = server(|_| {}).await;

    let session = session_of(&app, "ann", PASSWORD).await;
    let new_password = "a brand new passphrase";
    let done = otsd_user(
        &app,
        &["password", "ann"],
        Some(&format!("{new_password}\n")),
    );
    assert!(!done.stdout.contains(new_password) && !done.stderr.contains(new_password));
    assert_ended(&app, &session, "otsd user password").await;
    let refused = sign_in(&app, "ann", PASSWORD).await;
    assert_eq!(refused.status(), 401, "the old password no longer works");

    let session = session_of(&app, "ann", new_password).await;
    otsd_user(&app, &["token", "ann"], None);
    assert_ended(&app, &session, "otsd user token").await;

    let session = session_of(&app, "ann", new_password).await;
    otsd_user(&app, &["remove", "ann"], None);
    assert_ended(&app, &session, "otsd user remove").await;
    let gone = sign_in(&app, "ann", new_password).await;
    assert_eq!(gone.status(), 401, "a removed account cannot sign in");
}

#[tokio::test]
async fn the_session_cookie_is_host_prefixed_and_secure_only_on_an_https_base_url() {
    for (base_url, name, secure) in [
        ("http://127.0.0.1:9", "otsd_session", false),
        ("https://secrets.example.test", "__Host-otsd_session", true),
    ] {
        let app = server(|s| s.base_url = base_url.to_owned()).await;
        let resp = sign_in(&app, "ann", PASSWORD).await;
        assert_eq!(resp.status(), 303, "{base_url}");
        let header = set_cookie(&resp, name)
            .unwrap_or_else(|| panic!("{base_url}: a {name} cookie: {:?}", resp.headers()));
        let parts: Vec<&str> = header.split(';').map(str::trim).collect();
        for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=43200"] {
            assert!(parts.contains(&part), "{base_url}: {part} in {header}");
        }
        assert_eq!(parts.contains(&"Secure"), secure, "{base_url}: {header}");
        assert!(
            !parts
                .iter()
                .any(|p| p.to_ascii_lowercase().starts_with("domain")),
            "{base_url}: no Domain: {header}"
        );
        // The cookie signs the browser in.
        let page = app
            .not_following_redirects()
            .get("/account")
            .header("cookie", &format!("{name}={}", value_of(&header)))
            .await;
        assert_eq!(page.status(), 200, "{base_url}");
    }
}

#[tokio::test]
async fn renewing_the_token_on_my_secrets_shows_it_once_and_goes_on_in_a_new_session() {
    let app = server(|_| {}).await;
    let session = session_of(&app, "ann", PASSWORD).await;
    let resp = app
        .not_following_redirects()
        .post("/account/token")
        .header("cookie", &format!("otsd_session={session}"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let renewed = value_of(&set_cookie(&resp, "otsd_session").expect("a new session"));
    assert_ne!(renewed, session);
    let body = resp.text().await.expect("page");
    let token = body
        .split("id=\"token\" readonly value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("the token on the page: {body}"))
        .to_owned();
    assert_eq!(token.len(), 40, "{token}");
    // The new token is the API's credential; the browser goes on in the new
    // session, the old one (like every other of the account) has ended.
    let api = app.as_account(&Account::new("ann", &token));
    assert_eq!(api.get("/api/v1/authcheck").await.status(), 200);
    assert_signed_in(&app, &renewed, "ann").await;
    assert_ended(&app, &session, "the session that renewed").await;
    // Not signed in: no token, the sign-in page.
    let anonymous = app.not_following_redirects().post("/account/token").await;
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()[LOCATION], "/signin");
}
