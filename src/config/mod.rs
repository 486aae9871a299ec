//! Configuration in layers: built-in defaults → TOML file → `OTSD_*` environment →
//! command-line flags. Each later layer overrides single keys of the earlier ones.
//!
//! Environment names: `OTSD_` then the key path in capitals with `__` between
//! sections: `listen` is `OTSD_LISTEN`, `limits.anonymous.max_ttl` is
//! `OTSD_LIMITS__ANONYMOUS__MAX_TTL`. Lists are comma-separated.
//!
//! Unknown keys (typos) stop start-up, each named with where it was written and
//! the nearest known key (`strict = false` makes them warnings); invalid values
//! stop start-up with a message naming the key and, in words, what it accepts.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use zeroize::Zeroizing;

use crate::crypto::MasterKey;
use crate::domain::{CallerLimits, PassphrasePolicy, TtlPolicy};
use crate::ratelimit::IpNet;

pub mod doc;
mod load;
mod validate;

pub use load::{Loaded, Overrides, load, load_toml};
pub use validate::{ConfigError, Problem};

/// Every setting of the server. `Settings::default()` is the embedded default that
/// runs with no config file at all. (`serde(default)` fills keys the defaults layer
/// cannot carry, such as an empty list.)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Address and port to listen on: an IP address, not a host name.
    #[serde(deserialize_with = "listen_setting")]
    pub listen: SocketAddr,
    /// Directory for the database and the generated master key.
    pub data_dir: PathBuf,
    /// Base of every link the server builds, e.g. `https://secrets.example.com`.
    /// Empty: `http://` + the listen address.
    pub base_url: String,
    /// Custom domains accounts may use as `share_domain`.
    pub share_domains: Vec<String>,
    /// The master key as 64 hex characters. Unset (or empty): read
    /// `master_key_file`. Never serialized (the defaults layer writes none).
    #[serde(
        deserialize_with = "master_key_setting",
        serialize_with = "never_written"
    )]
    pub master_key: Option<MasterKey>,
    /// File holding the master key. Empty: `<data_dir>/master.key`, created on
    /// first start.
    pub master_key_file: PathBuf,
    /// PostgreSQL, for several nodes sharing one database: a `postgres://` (or
    /// `postgresql://`) URL or a libpq key-value string. Empty: the embedded
    /// database under `data_dir` (one process on one machine). Never shown in
    /// a log or `Debug`: it may hold a password.
    pub database_url: DatabaseUrl,
    /// File holding the PostgreSQL password, when it is not in the URL (so
    /// that the URL can sit in a readable config file).
    pub database_password_file: PathBuf,
    /// Connections to PostgreSQL one node keeps at most.
    pub database_pool_size: usize,
    /// HTTP worker threads; 0 means one per available core.
    pub workers: usize,
    /// `error`, `warn`, `info`, `debug` or `trace` (or an env_logger filter).
    pub log_level: String,
    /// One log line per request (address, method, route pattern, status, size,
    /// time; never a key). Off by default: the reverse proxy in front usually
    /// keeps access logs, fewer records of who fetched what suit a secrets
    /// server, and the line costs about a third of a status request.
    pub access_log: bool,
    /// Seconds to let requests finish on SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// `false` makes a closed instance: only accounts can share or generate; anyone
    /// with a link can still reveal.
    pub anonymous_create: bool,
    pub rate_limits: RateLimitSettings,
    pub web: WebSettings,
    /// Single sign-on on the pages (OpenID Connect); off while `issuer` is
    /// empty.
    pub oidc: OidcSettings,
    /// The `[smtp]` section, defined beside the mailer that reads it.
    pub smtp: crate::mail::SmtpSettings,
    pub storage: StorageSettings,
    pub metrics: MetricsSettings,
    pub reaper: ReaperSettings,
    pub crypto: CryptoSettings,
    pub limits: LimitSettings,
    /// Unknown keys stop start-up (and fail `otsd check`). On by default: a
    /// misspelt key, such as `anonymous_creat = false`, would otherwise leave
    /// the setting it meant at its default while every check says the
    /// configuration is fine. `false` makes them warnings; `--strict` turns it
    /// back on whatever the file says.
    pub strict: bool,
    /// `--accept-data-loss`: open a database that lost acknowledged commits.
    /// Never read from a file or the environment, so it cannot stay switched on.
    #[serde(skip)]
    pub accept_data_loss: bool,
}

/// Fixed-window limits per client address (and per account for accounts). A limit
/// of 0 means unlimited; `enabled = false` switches them all off.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub window_secs: u64,
    pub create: u32,
    pub reveal: u32,
    /// Reading receipts, burning, listing recent.
    pub metadata: u32,
    /// Failed passphrase attempts per secret per address.
    pub failed_passphrase: u32,
    /// Failed web sign-ins per address, and per account.
    pub failed_sign_in: u32,
    /// Emails sent per account.
    pub email: u32,
    /// Accounts are not limited for create, reveal and metadata.
    pub exempt_accounts: bool,
    /// Counters per action and window (each exact, about 108 bytes). A full
    /// table forgets its least-used counter for a new client rather than refuse
    /// it (see `ratelimit`), so memory stays bounded.
    pub max_tracked: usize,
    /// IPv6 clients are counted per network of this prefix length (a /64 is
    /// usually one subscriber, who can use any of its 2^64 addresses).
    pub ipv6_prefix: u8,
    /// Peers whose `X-Forwarded-For` is believed (addresses or CIDR blocks).
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
}

/// The longest `web.instance_name`: it has to fit a phone's header.
const MAX_INSTANCE_NAME: usize = 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WebSettings {
    /// Expiry choices of the web form, in seconds; those above the caller's
    /// maximum TTL are not offered.
    pub ttl_choices: Vec<u64>,
    /// Shown in every page's header and title, so people recognise their
    /// organisation's instance ("Acme IT"). Empty: just "otsd".
    #[serde(default)]
    pub instance_name: String,
    /// Whether accounts with a password (`otsd user password`) may sign in
    /// with it on the pages.
    pub password_sign_in: bool,
    /// A web session ends after this many seconds without a request.
    pub session_idle_secs: u64,
    /// ... and after this many seconds however active it is.
    pub session_max_secs: u64,
}

/// Single sign-on with an OpenID provider (authorization code with PKCE).
/// The redirect URL to register at the provider is
/// `<base_url>/auth/oidc/callback`. The fields empty by default carry
/// `serde(default)`: the defaults layer cannot carry an empty string or list,
/// so without it any configuration that does not set them is refused.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcSettings {
    /// The provider's issuer URL (its discovery document is under
    /// `/.well-known/openid-configuration`); empty: single sign-on off.
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub client_id: String,
    /// A file holding the client secret (readable by otsd only).
    #[serde(default)]
    pub client_secret_file: PathBuf,
    /// Scopes asked for (`openid` is always sent).
    pub scopes: Vec<String>,
    /// The claim whose value names the account (`email`: the verified
    /// address).
    pub username_claim: String,
    /// When not empty: only verified email addresses of these domains.
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    /// The claim holding the person's groups (a list of strings).
    pub groups_claim: String,
    /// When not empty: only people in one of these groups.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// Create the account at a person's first sign-in; `false`: an operator
    /// creates accounts (`otsd user add`) and only those may sign in.
    pub provision: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StorageSettings {
    /// sled's page cache, in MiB. The main lever on memory use.
    pub cache_mib: u64,
    /// Compact a database of at least this many MiB that is mostly empty (left
    /// so by churn) when a copy would free at least half of it: when it is
    /// opened, and in the running server after the reaper's sweeps (see
    /// `store::compact`); 0 never does.
    pub compact_above_mib: u64,
}

/// `GET /metrics` (OpenMetrics text format): off unless enabled, then readable
/// from the `allow` networks, or from anywhere with the bearer `token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricsSettings {
    pub enabled: bool,
    /// Client addresses (as rate limits see them) that may read it.
    pub allow: Vec<IpNet>,
    /// A bearer token that may read it from any address; empty: none.
    pub token: crate::mail::Redacted,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReaperSettings {
    /// Seconds between sweeps for expired records.
    pub interval_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CryptoSettings {
    /// PBKDF2-HMAC-SHA256 rounds for passphrases of new secrets.
    pub pbkdf2_iterations: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitSettings {
    /// Smallest TTL in seconds; shorter TTLs are raised to it.
    pub min_ttl: u64,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Seconds a whole request body may take to arrive.
    pub body_timeout_secs: u64,
    /// Bytes all request bodies being read may hold together; a request that
    /// would cross it is refused as busy.
    pub max_body_bytes_in_flight: usize,
    pub anonymous: CallerSettings,
    pub authenticated: CallerSettings,
}

/// Limits for one kind of caller.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallerSettings {
    pub default_ttl: u64,
    pub max_ttl: u64,
    pub max_secret_bytes: usize,
    pub passphrase_min_length: usize,
    pub passphrase_max_length: usize,
    pub passphrase_required: bool,
}

const DAY: u64 = 24 * 60 * 60;

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 7143)),
            data_dir: "./otsd-data".into(),
            base_url: String::new(),
            share_domains: Vec::new(),
            master_key: None,
            master_key_file: PathBuf::new(),
            database_url: DatabaseUrl::default(),
            database_password_file: PathBuf::new(),
            database_pool_size: 16,
            workers: 0,
            log_level: "info".into(),
            access_log: false,
            shutdown_timeout_secs: 30,
            anonymous_create: true,
            rate_limits: RateLimitSettings {
                enabled: true,
                window_secs: 20 * 60,
                create: 1000,
                reveal: 1000,
                metadata: 1000,
                failed_passphrase: 5,
                failed_sign_in: 10,
                email: 50,
                exempt_accounts: false,
                max_tracked: 100_000,
                ipv6_prefix: 64,
                trusted_proxies: Vec::new(),
            },
            web: WebSettings {
                ttl_choices: vec![300, 1800, 3600, 4 * 3600, 12 * 3600, DAY, 3 * DAY, 7 * DAY],
                instance_name: String::new(),
                password_sign_in: true,
                session_idle_secs: 3600,
                session_max_secs: 12 * 3600,
            },
            oidc: OidcSettings {
                issuer: String::new(),
                client_id: String::new(),
                client_secret_file: PathBuf::new(),
                scopes: vec!["openid".into(), "email".into(), "profile".into()],
                username_claim: "email".into(),
                allowed_domains: Vec::new(),
                groups_claim: "groups".into(),
                allowed_groups: Vec::new(),
                provision: true,
            },
            smtp: crate::mail::SmtpSettings::default(),
            storage: StorageSettings {
                cache_mib: 4,
                compact_above_mib: 64,
            },
            metrics: MetricsSettings {
                enabled: false,
                allow: ["127.0.0.1/32", "::1/128"]
                    .into_iter()
                    .filter_map(IpNet::parse)
                    .collect(),
                token: crate::mail::Redacted::default(),
            },
            reaper: ReaperSettings { interval_secs: 30 },
            crypto: CryptoSettings {
                pbkdf2_iterations: 100_000,
            },
            accept_data_loss: false,
            strict: true,
            limits: LimitSettings {
                min_ttl: 60,
                max_body_bytes: 512 * 1024,
                body_timeout_secs: 10,
                max_body_bytes_in_flight: 32 * 1024 * 1024,
                anonymous: CallerSettings {
                    default_ttl: 7 * DAY,
                    max_ttl: 7 * DAY,
                    max_secret_bytes: 10_000,
                    passphrase_min_length: 0,
                    passphrase_max_length: 128,
                    passphrase_required: false,
                },
                authenticated: CallerSettings {
                    default_ttl: 7 * DAY,
                    max_ttl: 30 * DAY,
                    max_secret_bytes: 100_000,
                    passphrase_min_length: 0,
                    passphrase_max_length: 128,
                    passphrase_required: false,
                },
            },
        }
    }
}

impl Settings {
    /// A setting for each kind of caller, as domain limits.
    pub fn caller_limits(&self, authenticated: bool) -> CallerLimits {
        let c = if authenticated {
            &self.limits.authenticated
        } else {
            &self.limits.anonymous
        };
        CallerLimits {
            ttl: TtlPolicy {
                min: self.limits.min_ttl,
                max: c.max_ttl,
                default: c.default_ttl,
            },
            max_secret_bytes: c.max_secret_bytes,
            passphrase: PassphrasePolicy {
                min_length: c.passphrase_min_length,
                max_length: c.passphrase_max_length,
                required: c.passphrase_required,
            },
        }
    }

    /// The database's directory inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("db")
    }

    /// Where the generated master key lives unless configured otherwise.
    pub fn master_key_path(&self) -> PathBuf {
        if self.master_key_file.as_os_str().is_empty() {
            self.data_dir.join("master.key")
        } else {
            self.master_key_file.clone()
        }
    }
}

/// `master_key`: 64 hex characters, or empty for none. The text is wiped once
/// parsed, and an error never repeats it.
fn master_key_setting<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MasterKey>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)?.map(Zeroizing::new) else {
        return Ok(None);
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    MasterKey::from_hex(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// The master key is read, never written: the only serialization of settings is
/// the defaults layer, and nothing should ever carry the key out of memory.
fn never_written<S: Serializer>(_: &Option<MasterKey>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_none()
}

/// `database_url`: kept as written, shown nowhere (it may hold a password).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether PostgreSQL is configured (else the embedded database is used).
    pub fn is_set(&self) -> bool {
        !self.0.trim().is_empty()
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_set() {
            "DatabaseUrl(<set>)"
        } else {
            "DatabaseUrl(<unset>)"
        })
    }
}

/// `listen`: an IP address and a port. A host name is refused with a message
/// that says so (it would need a resolver, and `localhost` may mean ::1).
fn listen_setting<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(d)?;
    text.trim().parse().map_err(|_| {
        let host = text.rsplit_once(':').map_or(text.as_str(), |(h, _)| h);
        let hint = if !host.is_empty() && host.parse::<std::net::IpAddr>().is_err() {
            format!(
                "`{host}` is a host name, and an IP address is needed: \
                 127.0.0.1:7143, 0.0.0.0:7143 or [::1]:7143"
            )
        } else {
            "use an IP address and a port, like 127.0.0.1:7143 or [::1]:7143".to_owned()
        };
        serde::de::Error::custom(format!("`{text}` is not an address to listen on: {hint}"))
    })
}
