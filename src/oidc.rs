//! Single sign-on with an OpenID provider: the authorization code flow with
//! PKCE, `state` and `nonce`, the provider found by discovery from its issuer
//! URL (the `openidconnect` crate does the protocol and the ID token's checks:
//! signature, issuer, audience, expiry, nonce). What otsd decides itself is
//! in [`admit`]: which verified person may sign in, under which name.
//!
//! Below the service, like `mail`: it talks to the provider and knows nothing
//! of HTTP faces, sessions or accounts.

use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, reqwest,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::clock::unix_now;

/// How long a sign-in may take at the provider (the pending cookie's life).
pub const PENDING_SECS: u64 = 600;
/// How long the provider's discovery document and keys are kept before they
/// are fetched again (a provider rotates its keys now and then).
const METADATA_TTL: Duration = Duration::from_secs(600);
/// The time one call to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// The `[oidc]` settings, as the sign-in uses them.
#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Zeroizing<String>,
    /// `<base_url>/auth/oidc/callback`.
    pub redirect_url: String,
    pub scopes: Vec<String>,
    pub username_claim: String,
    /// Lower case.
    pub allowed_domains: Vec<String>,
    pub groups_claim: String,
    pub allowed_groups: Vec<String>,
    pub provision: bool,
}

/// What a sign-in started with and must find again when the person comes
/// back: kept sealed in a cookie of the browser that started it.
#[derive(Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub created: u64,
}

impl Drop for Pending {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.verifier);
    }
}

/// A person the provider vouched for, and admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `issuer` and `sub`: who they are at the provider, for good.
    pub subject: String,
    /// The account name they sign in as (the username claim's value).
    pub username: String,
}

/// Why a sign-in with the provider did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the provider did not vouch for the email address")]
    Unverified,
    #[error("the email address is not of an allowed domain")]
    Domain,
    #[error("the person is in none of the allowed groups")]
    Group,
    #[error("the provider gave no usable name")]
    NoName,
    #[error("there is no account of that name here")]
    NoAccount,
    #[error("the sign-in did not come back as it left (state)")]
    State,
    #[error("the sign-in took too long")]
    Expired,
    #[error("the provider could not be used: {0}")]
    Provider(String),
}

/// The OpenID provider, found by discovery when first needed (a server starts
/// while its provider is away, and signs people in once it is back).
pub struct Oidc {
    config: OidcConfig,
    http: reqwest::Client,
    metadata: tokio::sync::Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Result<Self, String> {
        let http = reqwest::ClientBuilder::new()
            // Following redirects would let a provider's answer send otsd
            // anywhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            config,
            http,
            metadata: tokio::sync::Mutex::new(None),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// The provider's client, from its discovery document (fetched again
    /// when older than `METADATA_TTL`, or when `fresh`).
    async fn client(
        &self,
        fresh: bool,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        Refusal,
    > {
        let mut cached = self.metadata.lock().await;
        let stale = cached
            .as_ref()
            .is_none_or(|(_, at)| fresh || at.elapsed() > METADATA_TTL);
        if stale {
            let issuer = IssuerUrl::new(self.config.issuer.clone())
                .map_err(|e| Refusal::Provider(e.to_string()))?;
            let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
                .await
                .map_err(|e| Refusal::Provider(crate::telemetry::report(&e)))?;
            *cached = Some((metadata, Instant::now()));
        }
        let (metadata, _) = cached
            .as_ref()
            .ok_or_else(|| Refusal::Provider("no discovery document".into()))?;
        let redirect = RedirectUrl::new(self.config.redirect_url.clone())
            .map_err(|e| Refusal::Provider(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.to_string())),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in: where to send the person, and what to keep until
    /// they come back.
    pub async fn begin(&self) -> Result<(String, Pending), Refusal> {
        let client = self.client(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url.to_string(),
            Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                created: unix_now(),
            },
        ))
    }

    /// Finishes a sign-in: the `state` that came back must be the one that
    /// left (and `iss`, when the provider sends it, its issuer); the code is
    /// exchanged with the PKCE verifier; the ID token is checked (signature,
    /// issuer, audience, expiry, nonce); then [`admit`] decides.
    pub async fn finish(
        &self,
        pending: &Pending,
        code: &str,
        state: &str,
        iss: Option<&str>,
    ) -> Result<Identity, Refusal> {
        if unix_now() > pending.created.saturating_add(PENDING_SECS) {
            return Err(Refusal::Expired);
        }
        let same: bool =
            subtle::ConstantTimeEq::ct_eq(pending.state.as_bytes(), state.as_bytes()).into();
        if !same {
            return Err(Refusal::State);
        }
        if iss.is_some_and(|iss| {
            iss.trim_end_matches('/') != self.config.issuer.trim_end_matches('/')
        }) {
            return Err(Refusal::Provider("the answer names another issuer".into()));
        }
        let client = self.client(false).await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| Refusal::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| Refusal::Provider(crate::telemetry::report(&e)))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| Refusal::Provider("no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let verified: Result<&CoreIdTokenClaims, _> =
            id_token.claims(&client.id_token_verifier(), &nonce);
        let claims = match verified {
            Ok(claims) => claims,
            // The provider may have rotated its keys since discovery: once
            // more with a fresh document, then no.
            Err(_) => {
                let client = self.client(true).await?;
                id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .map_err(|e| Refusal::Provider(e.to_string()))?
            }
        };
        // The checked token's payload, for the claims the settings name.
        let payload = payload_of(&id_token.to_string())
            .ok_or_else(|| Refusal::Provider("an ID token that does not parse".into()))?;
        let subject = format!("{}|{}", claims.issuer().as_str(), claims.subject().as_str());
        admit(&self.config, &subject, &payload)
    }
}

/// The JSON payload of a compact JWS (its middle part).
fn payload_of(token: &str) -> Option<Value> {
    let middle = token.split('.').nth(1)?;
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(middle.trim_end_matches('=').as_bytes())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whom a verified ID token (its `claims`) signs in, by the settings: the
/// email must be verified by the provider whenever it counts (it names the
/// account, or domains are restricted); its domain must be allowed; the
/// person must be in an allowed group; the username claim must be a usable
/// account name.
pub fn admit(config: &OidcConfig, subject: &str, claims: &Value) -> Result<Identity, Refusal> {
    let email = claims.get("email").and_then(Value::as_str);
    let verified = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
        || matches!(claims.get("email_verified"), Some(Value::String(s)) if s == "true");
    let email_counts = config.username_claim == "email" || !config.allowed_domains.is_empty();
    if email_counts && !(email.is_some() && verified) {
        return Err(Refusal::Unverified);
    }
    if !config.allowed_domains.is_empty() {
        let domain = email
            .and_then(|e| e.rsplit_once('@'))
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default();
        if !config.allowed_domains.contains(&domain) {
            return Err(Refusal::Domain);
        }
    }
    if !config.allowed_groups.is_empty() {
        let groups: Vec<&str> = match claims.get(&config.groups_claim) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(one)) => vec![one.as_str()],
            _ => Vec::new(),
        };
        if !config
            .allowed_groups
            .iter()
            .any(|allowed| groups.contains(&allowed.as_str()))
        {
            return Err(Refusal::Group);
        }
    }
    let username = claims
        .get(&config.username_claim)
        .and_then(Value::as_str)
        .map(|name| {
            if config.username_claim == "email" {
                name.to_ascii_lowercase()
            } else {
                name.to_owned()
            }
        })
        .filter(|name| crate::accounts::AccountName::parse(name).is_ok())
        .ok_or(Refusal::NoName)?;
    Ok(Identity {
        subject: subject.to_owned(),
        username,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> OidcConfig {
        OidcConfig {
            issuer: "https://id.example.com".into(),
            client_id: "otsd".into(),
            client_secret: Zeroizing::new("s".into()),
            redirect_url: "https://otsd.example.com/auth/oidc/callback".into(),
            scopes: vec!["openid".into(), "email".into()],
            username_claim: "email".into(),
            allowed_domains: Vec::new(),
            groups_claim: "groups".into(),
            allowed_groups: Vec::new(),
            provision: true,
        }
    }

    const SUB: &str = "https://id.example.com|42";

    #[test]
    fn a_verified_email_signs_in_under_that_address_in_lower_case() {
        let claims = json!({"email": "Ada@Example.com", "email_verified": true});
        let who = admit(&config(), SUB, &claims).unwrap();
        assert_eq!(who.username, "ada@example.com");
        assert_eq!(who.subject, SUB);
        // Some providers send the flag as a string.
        let claims = json!({"email": "ada@example.com", "email_verified": "true"});
        assert!(admit(&config(), SUB, &claims).is_ok());
    }

    #[test]
    fn an_unverified_or_missing_email_is_refused() {
        for claims in [
            json!({"email": "ada@example.com", "email_verified": false}),
            json!({"email": "ada@example.com"}),
            json!({"email_verified": true}),
            json!({"email": "ada@example.com", "email_verified": "yes"}),
        ] {
            assert_eq!(
                admit(&config(), SUB, &claims),
                Err(Refusal::Unverified),
                "{claims}"
            );
        }
        // Another username claim: the email does not count, unless domains do.
        let by_login = OidcConfig {
            username_claim: "preferred_username".into(),
            ..config()
        };
        let claims = json!({"preferred_username": "ada", "email_verified": false});
        assert_eq!(admit(&by_login, SUB, &claims).unwrap().username, "ada");
        let by_login_in_domain = OidcConfig {
            allowed_domains: vec!["example.com".into()],
            ..by_login
        };
        assert_eq!(
            admit(&by_login_in_domain, SUB, &claims),
            Err(Refusal::Unverified)
        );
    }

    #[test]
    fn domains_and_groups_are_enforced_when_set() {
        let strict = OidcConfig {
            allowed_domains: vec!["example.com".into()],
            allowed_groups: vec!["staff".into(), "ops".into()],
            ..config()
        };
        let ok = json!({"email": "ada@EXAMPLE.com", "email_verified": true, "groups": ["ops"]});
        assert!(admit(&strict, SUB, &ok).is_ok());
        let other = json!({"email": "eve@example.net", "email_verified": true, "groups": ["ops"]});
        assert_eq!(admit(&strict, SUB, &other), Err(Refusal::Domain));
        let sub_domain =
            json!({"email": "eve@evil.example.com", "email_verified": true, "groups": ["ops"]});
        assert_eq!(admit(&strict, SUB, &sub_domain), Err(Refusal::Domain));
        let outsider =
            json!({"email": "bob@example.com", "email_verified": true, "groups": ["guests"]});
        assert_eq!(admit(&strict, SUB, &outsider), Err(Refusal::Group));
        let no_groups = json!({"email": "bob@example.com", "email_verified": true});
        assert_eq!(admit(&strict, SUB, &no_groups), Err(Refusal::Group));
        let one_group =
            json!({"email": "bob@example.com", "email_verified": true, "groups": "staff"});
        assert!(admit(&strict, SUB, &one_group).is_ok());
    }

    #[test]
    fn a_name_that_cannot_be_an_account_is_refused() {
        let by_name = OidcConfig {
            username_claim: "name".into(),
            ..config()
        };
        let claims =
            json!({"name": "Ada Lovelace", "email": "a@example.com", "email_verified": true});
        assert_eq!(admit(&by_name, SUB, &claims), Err(Refusal::NoName));
    }

    #[test]
    fn the_payload_of_a_token_is_read_from_its_middle_part() {
        let body = data_encoding::BASE64URL_NOPAD.encode(br#"{"email":"a@b.c"}"#);
        assert_eq!(
            payload_of(&format!("x.{body}.y")),
            Some(json!({"email": "a@b.c"}))
        );
        assert_eq!(payload_of("nonsense"), None);
    }
}
