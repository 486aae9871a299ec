//! README "Sign-in and single sign-on", recipe **LemonLDAP::NG**, run: the
//! recipe's otsd settings, read from the README itself (only `base_url`, the
//! issuer and the secret file's path put in for this machine), against a real
//! LemonLDAP::NG portal configured as the recipe says
//! (`tests/common/lemonldap.rs`), signed in through the portal's own login
//! form in Chromium.

use std::collections::HashMap;

use crate::browser::support::*;
use crate::browser::webdriver::Browser;
use crate::common::lemonldap::{DWHO, DemoUser, Portal, RTYLER, RelyingParty};
use crate::common::*;

const CLIENT_SECRET: &str = "otsd-lemonldap-client-secret";

/// The README's LemonLDAP::NG recipe (its TOML block), loaded as otsd loads a
/// configuration file, with this test's `base_url`, issuer and secret file in
/// place of the example's.
fn recipe(base_url: &str, issuer: &str, secret_file: &str) -> otsd::Settings {
    let readme = include_str!("../../README.md");
    let toml = readme
        .split_once("**LemonLDAP::NG**")
        .and_then(|(_, recipe)| recipe.split_once("```toml\n"))
        .and_then(|(_, block)| block.split_once("```"))
        .map(|(toml, _)| toml)
        .expect("README has a LemonLDAP::NG recipe with a TOML block");
    for example in [
        "https://secrets.example.com",
        "https://auth.example.com",
        "/etc/otsd/oidc-secret",
    ] {
        assert!(toml.contains(example), "the recipe names {example}");
    }
    let toml = toml
        .replace("https://secrets.example.com", base_url)
        .replace("https://auth.example.com", issuer)
        .replace("/etc/otsd/oidc-secret", secret_file);
    otsd::config::load_toml(&toml, &Default::default(), Some(HashMap::new()))
        .unwrap_or_else(|e| panic!("the recipe loads: {e}\n{toml}"))
        .settings
}

/// From our sign-in page through the portal's login form as `user`; returns
/// where the browser landed back on our server.
async fn single_sign_on(lab: &Lab, portal: &Portal, browser: &Browser, user: &DemoUser) -> String {
    browser.goto(&lab.url("/signin")).await;
    browser.find("#sso").await.click().await;
    let login = format!("{}/oauth2/authorize", portal.issuer());
    browser
        .wait_url("LemonLDAP::NG's login form", |u| u.starts_with(&login))
        .await;
    browser.find("#userfield").await.send_keys(user.login).await;
    browser
        .find("#passwordfield")
        .await
        .send_keys(user.password)
        .await;
    browser.screenshot("portal-login").await;
    browser
        .find("#lform button[type='submit']")
        .await
        .click()
        .await;
    let ours = lab.url("/");
    browser
        .wait_url("back on otsd", |u| u.starts_with(&ours))
        .await
}

/// The header's signed-in name, if someone is.
async fn who(browser: &Browser) -> Option<String> {
    match browser.try_find("header .account .who").await {
        Some(name) => Some(name.text().await),
        None => None,
    }
}

#[tokio::test]
async fn the_lemonldap_ng_recipe_signs_in() {
    let port = free_port();
    let base_url = format!("http://127.0.0.1:{port}");
    let portal = Portal::start(&RelyingParty {
        client_id: "otsd".into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: format!("{base_url}/auth/oidc/callback"),
    });
    let secret_dir = tempfile::tempdir().expect("temp dir");
    let secret_file = secret_dir.path().join("oidc-secret");
    std::fs::write(&secret_file, CLIENT_SECRET).expect("write the client secret");
    let recipe = recipe(
        &base_url,
        portal.issuer(),
        secret_file.to_str().expect("a UTF-8 path"),
    );
    // Both are of an allowed domain; only Doctor Who is in an allowed group:
    // Rose Tyler is refused by the group rule alone.
    let (domains, groups) = (&recipe.oidc.allowed_domains, &recipe.oidc.allowed_groups);
    let domain_ok = |u: &DemoUser| domains.iter().any(|d| u.email.ends_with(&format!("@{d}")));
    let group_ok = |u: &DemoUser| u.groups.iter().any(|g| groups.iter().any(|a| a == g));
    assert!(domain_ok(&DWHO) && domain_ok(&RTYLER), "{domains:?}");
    assert!(group_ok(&DWHO) && !group_ok(&RTYLER), "{groups:?}");
    let lab = Lab::with("signin-lemonldap", |s| {
        s.listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        s.base_url = recipe.base_url;
        s.oidc = recipe.oidc;
    })
    .await;

    // Doctor Who is a time lord: signed in under his verified address.
    let browser = lab.browser("dwho").await;
    let landed = single_sign_on(&lab, &portal, &browser, &DWHO).await;
    assert_eq!(
        landed,
        lab.url("/"),
        "after sign-in, the start page; the portal said:\n{}",
        portal.log()
    );
    assert_eq!(who(&browser).await.as_deref(), Some(DWHO.email));
    browser.screenshot("signed-in").await;
    let created = create_secret(
        &lab,
        &browser,
        &Form {
            secret: "made after signing in at LemonLDAP::NG",
            ..Form::default()
        },
    )
    .await;
    let receipt = lab.api_receipt(&created.metadata_key).await;
    assert_eq!(receipt["custid"], DWHO.email, "created as the account");
    browser.goto(&lab.url("/account")).await;
    let item = format!("li[data-receipt='{}']", created.metadata_key);
    let state = browser.find(&format!("{item} span.state")).await;
    assert_eq!(state.attribute("data-state").await.as_deref(), Some("new"));
    browser.screenshot("my-secrets").await;

    // Rose Tyler has the same mail domain but is no time lord: refused.
    let browser = lab.browser("rtyler").await;
    single_sign_on(&lab, &portal, &browser, &RTYLER).await;
    assert_eq!(browser.find("h1").await.text().await, "Sign in");
    assert_eq!(
        browser.find("p.error").await.text().await,
        "You are not in a group that may sign in here."
    );
    assert_eq!(who(&browser).await, None);
    assert!(browser.cookie("otsd_session").await.is_none());
    browser.screenshot("refused").await;
}
