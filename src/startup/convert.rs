//! The settings turned into the objects that run: the one place plain
//! configuration data becomes a body reader's limits, a rate limiter or the
//! store's options.

use crate::config::Settings;
use crate::http::extract::BodyLimits;
use crate::ratelimit::{Limits, RateLimiter};

/// How request bodies are read.
pub fn body_limits(settings: &Settings) -> BodyLimits {
    BodyLimits::new(
        settings.limits.max_body_bytes,
        std::time::Duration::from_secs(settings.limits.body_timeout_secs),
        settings.limits.max_body_bytes_in_flight,
    )
}

/// The rate limits as the limiter takes them.
pub fn rate_limiter(settings: &Settings) -> RateLimiter {
    let r = &settings.rate_limits;
    let on = |n: u32| (r.enabled && n > 0).then_some(n);
    RateLimiter::new(
        Limits {
            create: on(r.create),
            reveal: on(r.reveal),
            metadata: on(r.metadata),
            failed_passphrase: on(r.failed_passphrase),
            email: on(r.email),
            failed_sign_in: on(r.failed_sign_in),
        },
        r.window_secs,
        r.max_tracked,
        r.ipv6_prefix,
    )
}

/// How the server (or a backup, a restore, `otsd user`) opens its database.
pub fn store_options(settings: &Settings) -> crate::store::Options {
    crate::store::Options {
        cache_bytes: settings.storage.cache_mib << 20,
        accept_data_loss: settings.accept_data_loss,
        compact_above_bytes: match settings.storage.compact_above_mib {
            0 => u64::MAX,
            mib => mib << 20,
        },
        count_records: settings.metrics.enabled,
    }
}

/// How a node reaches PostgreSQL: the URL, and the password from
/// `database_password_file` when one is named (its last line break dropped).
pub fn postgres_options(settings: &Settings) -> std::io::Result<crate::store::PostgresOptions> {
    let file = &settings.database_password_file;
    let password = if file.as_os_str().is_empty() {
        None
    } else {
        let mut text = zeroize::Zeroizing::new(std::fs::read_to_string(file)?);
        let kept = text.trim_end_matches(['\n', '\r']).len();
        text.truncate(kept);
        Some(text)
    };
    Ok(crate::store::PostgresOptions {
        url: settings.database_url.as_str().trim().to_owned(),
        password,
        pool_size: settings.database_pool_size,
        connect_wait: std::time::Duration::from_secs(30),
    })
}

/// The OpenID client, when `[oidc]` names an issuer: its secret read from its
/// file (trimmed of the line end an editor adds), the redirect URL under the
/// base URL.
pub fn oidc(
    settings: &Settings,
    base_url: &str,
) -> Result<Option<crate::oidc::Oidc>, super::StartupError> {
    let o = &settings.oidc;
    if o.issuer.is_empty() {
        return Ok(None);
    }
    let path = &o.client_secret_file;
    let secret =
        std::fs::read_to_string(path).map_err(|source| super::StartupError::OidcSecret {
            path: path.clone(),
            source,
        })?;
    let secret = zeroize::Zeroizing::new(secret);
    let config = crate::oidc::OidcConfig {
        issuer: o.issuer.clone(),
        client_id: o.client_id.clone(),
        client_secret: zeroize::Zeroizing::new(secret.trim_end_matches(['\n', '\r']).to_owned()),
        redirect_url: format!("{base_url}/auth/oidc/callback"),
        scopes: o.scopes.clone(),
        username_claim: o.username_claim.clone(),
        allowed_domains: o
            .allowed_domains
            .iter()
            .map(|d| d.trim().to_ascii_lowercase())
            .collect(),
        groups_claim: o.groups_claim.clone(),
        allowed_groups: o.allowed_groups.clone(),
        provision: o.provision,
    };
    crate::oidc::Oidc::new(config)
        .map(Some)
        .map_err(super::StartupError::Oidc)
}
