//! Discovery, a sign-in with code and PKCE, and the ID token's claims.

use reqwest::StatusCode;
use serde_json::json;

use super::relying_party::{
    Browser, Landing, Request, claims_of, exchange, form_action, query, sign_in, signed_by_provider,
};
use crate::common::oidc::{Client, Provider, Tamper, User};

const REDIRECT_URI: &str = "http://127.0.0.1:9/auth/callback";

fn otsd_client() -> Client {
    Client::new("otsd", "a-client-secret", REDIRECT_URI)
}

fn ann() -> User {
    User {
        sub: "ann-0001".into(),
        email: "ann@example.test".into(),
        email_verified: true,
        name: "Ann Admin".into(),
        groups: vec!["otsd-admins".into(), "staff".into()],
        password: "correct horse".into(),
    }
}

fn bob() -> User {
    User {
        sub: "bob-0002".into(),
        email: "bob@example.test".into(),
        email_verified: false,
        name: "Bob Unverified".into(),
        groups: vec![],
        password: "battery staple".into(),
    }
}

#[tokio::test]
async fn discovery_names_the_issuer_and_its_endpoints_on_loopback() {
    let provider = Provider::start(&[otsd_client()], &[ann()]);
    let issuer = provider.issuer();
    assert_eq!(issuer, format!("http://127.0.0.1:{}", provider.port()));

    let discovery = Browser::new()
        .get_json(&format!("{issuer}/.well-known/openid-configuration"))
        .await;

    assert_eq!(discovery["issuer"], issuer);
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
    ] {
        let url = discovery[endpoint].as_str().unwrap_or_default();
        assert!(url.starts_with(issuer), "{endpoint}: {discovery}");
    }
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );
    for scope in ["openid", "email", "profile", "groups"] {
        let scopes = discovery["scopes_supported"]
            .as_array()
            .expect("scopes_supported");
        assert!(scopes.contains(&json!(scope)), "{scope}: {discovery}");
    }
}

#[tokio::test]
async fn a_sign_in_with_code_and_pkce_gives_an_id_token_with_the_users_claims() {
    let (client, user) = (otsd_client(), ann());
    let provider = Provider::start(&[otsd_client()], &[ann(), bob()]);

    let (token, request) = sign_in(&provider, &client, &user).await;

    let claims = claims_of(token["id_token"].as_str().expect("an id_token"));
    assert_eq!(claims["iss"], provider.issuer());
    assert_eq!(claims["aud"], client.id);
    assert_eq!(claims["sub"], user.sub);
    assert_eq!(claims["nonce"], request.nonce);
    assert_eq!(claims["email"], user.email);
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], user.name);
    assert_eq!(claims["preferred_username"], user.email);
    assert_eq!(claims["groups"], json!(user.groups));
    let id_token = token["id_token"].as_str().expect("an id_token");
    assert!(signed_by_provider(&provider, id_token).await);

    // The same claims from userinfo, for the access token.
    let userinfo = Browser::new()
        .http()
        .get(format!("{}/me", provider.issuer()))
        .bearer_auth(token["access_token"].as_str().expect("an access_token"))
        .send()
        .await
        .expect("userinfo answers");
    assert_eq!(userinfo.status(), StatusCode::OK);
    let userinfo: serde_json::Value = userinfo.json().await.expect("JSON");
    assert_eq!(userinfo["email"], user.email);
    assert_eq!(userinfo["groups"], json!(user.groups));
}

#[tokio::test]
async fn an_unverified_email_is_said_to_be_unverified() {
    let (client, user) = (otsd_client(), bob());
    let provider = Provider::start(&[otsd_client()], &[ann(), bob()]);

    let (token, _) = sign_in(&provider, &client, &user).await;

    let claims = claims_of(token["id_token"].as_str().expect("an id_token"));
    assert_eq!(claims["sub"], user.sub);
    assert_eq!(claims["email"], user.email);
    assert_eq!(claims["email_verified"], false);
    assert_eq!(claims["groups"], json!([]));
}

#[tokio::test]
async fn a_wrong_password_shows_the_login_form_again_with_an_error() {
    let (client, user) = (otsd_client(), ann());
    let provider = Provider::start(&[otsd_client()], &[ann()]);
    let mut browser = Browser::new();
    let authorize = Request::new().url(&format!("{}/auth", provider.issuer()), &client);
    let Landing::Page(login) = browser.visit(&authorize, REDIRECT_URI).await else {
        panic!("no login page")
    };

    let form = [
        ("username", user.email.as_str()),
        ("password", "not the password"),
    ];
    let landing = browser
        .submit(&form_action(&login), &form, REDIRECT_URI)
        .await;

    let Landing::Page(again) = landing else {
        panic!("a wrong password led back to the client")
    };
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.body.contains("id=\"error\""), "{}", again.body);
    assert!(again.body.contains("id=\"password\""), "{}", again.body);
    // And the right one still works on the same form.
    let form = [
        ("username", user.email.as_str()),
        ("password", user.password.as_str()),
    ];
    let landing = browser
        .submit(&form_action(&again), &form, REDIRECT_URI)
        .await;
    assert!(matches!(landing, Landing::Redirected(url) if query(&url).contains_key("code")));
}

#[tokio::test]
async fn an_authorization_request_without_pkce_is_refused() {
    let client = otsd_client();
    let provider = Provider::start(&[otsd_client()], &[ann()]);
    let mut url = reqwest::Url::parse(&format!("{}/auth", provider.issuer())).expect("URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", &client.redirect_uri)
        .append_pair("scope", "openid")
        .append_pair("state", "s")
        .append_pair("nonce", "n");

    let landing = Browser::new().visit(url.as_str(), REDIRECT_URI).await;

    let Landing::Redirected(back) = landing else {
        panic!("no error sent back to the client")
    };
    let answer = query(&back);
    assert_eq!(
        answer.get("error").map(String::as_str),
        Some("invalid_request"),
        "{back}"
    );
    assert!(!answer.contains_key("code"), "{back}");
}

#[tokio::test]
async fn a_code_is_not_exchanged_without_its_verifier() {
    let (client, user) = (otsd_client(), ann());
    let provider = Provider::start(&[otsd_client()], &[ann()]);
    let mut browser = Browser::new();
    let request = Request::new();
    let authorize = request.url(&format!("{}/auth", provider.issuer()), &client);
    let Landing::Page(login) = browser.visit(&authorize, REDIRECT_URI).await else {
        panic!("no login page")
    };
    let form = [
        ("username", user.email.as_str()),
        ("password", user.password.as_str()),
    ];
    let Landing::Redirected(back) = browser
        .submit(&form_action(&login), &form, REDIRECT_URI)
        .await
    else {
        panic!("the login did not lead back to the client")
    };
    let code = query(&back)["code"].clone();
    let token_endpoint = format!("{}/token", provider.issuer());

    let wrong = exchange(
        browser.http(),
        &token_endpoint,
        &client,
        &code,
        &Request::new().code_verifier,
    )
    .await;

    assert_eq!(wrong.0, StatusCode::BAD_REQUEST, "{}", wrong.1);
    assert_eq!(wrong.1["error"], "invalid_grant");
}

/// Each way of spoiling changes what it says and nothing else a relying party
/// could trip on first: the token stays signed by the provider (but for
/// `Signature`), and the other claims stay right.
#[tokio::test]
async fn a_tampering_provider_spoils_exactly_what_it_is_told_to() {
    let (client, user) = (otsd_client(), ann());
    for tamper in [
        Tamper::None,
        Tamper::Nonce,
        Tamper::Issuer,
        Tamper::Audience,
        Tamper::Expired,
        Tamper::Signature,
    ] {
        let provider = Provider::start_tampering(&[otsd_client()], &[ann()], tamper);

        let (token, request) = sign_in(&provider, &client, &user).await;

        let id_token = token["id_token"].as_str().expect("an id_token");
        let claims = claims_of(id_token);
        let now = crate::common::unix_now();
        assert_eq!(claims["email"], user.email, "{tamper:?}");
        assert_eq!(
            claims["nonce"] == request.nonce.as_str(),
            tamper != Tamper::Nonce,
            "{tamper:?}: {claims}"
        );
        assert_eq!(
            claims["iss"] == provider.issuer(),
            tamper != Tamper::Issuer,
            "{tamper:?}: {claims}"
        );
        assert_eq!(
            claims["aud"] == client.id.as_str(),
            tamper != Tamper::Audience,
            "{tamper:?}: {claims}"
        );
        let exp = claims["exp"].as_u64().expect("an exp");
        assert_eq!(exp > now, tamper != Tamper::Expired, "{tamper:?}: {claims}");
        assert_eq!(
            signed_by_provider(&provider, id_token).await,
            tamper != Tamper::Signature,
            "{tamper:?}"
        );
    }
}
