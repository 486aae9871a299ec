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
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

use crate::crypto::MasterKey;
use crate::domain::{CallerLimits, PassphrasePolicy, TtlPolicy};
use crate::ratelimit::{IpNet, Limits, RateLimiter};

const ENV_PREFIX: &str = "OTSD";

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
    /// Emails sent per account.
    pub email: u32,
    /// Accounts are not limited for create, reveal and metadata.
    pub exempt_accounts: bool,
    /// Counters per action and window (each exact, about 265 bytes). A full
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StorageSettings {
    /// sled's page cache, in MiB. The main lever on memory use.
    pub cache_mib: u64,
    /// At start-up, compact a database of at least this many MiB that holds
    /// less than a quarter of that in records (left so by churn) when a copy
    /// would free at least half of it; 0 never does.
    pub compact_above_mib: u64,
}

/// `GET /metrics` (Prometheus text format): off unless enabled, then readable
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
                email: 50,
                exempt_accounts: false,
                max_tracked: 100_000,
                ipv6_prefix: 64,
                trusted_proxies: Vec::new(),
            },
            web: WebSettings {
                ttl_choices: vec![300, 1800, 3600, 4 * 3600, 12 * 3600, DAY, 3 * DAY, 7 * DAY],
                instance_name: String::new(),
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

    /// How request bodies are read.
    pub fn body_limits(&self) -> crate::request::BodyLimits {
        crate::request::BodyLimits::new(
            self.limits.max_body_bytes,
            std::time::Duration::from_secs(self.limits.body_timeout_secs),
            self.limits.max_body_bytes_in_flight,
        )
    }

    /// The rate limits as the limiter takes them.
    pub fn rate_limiter(&self) -> RateLimiter {
        let r = &self.rate_limits;
        let on = |n: u32| (r.enabled && n > 0).then_some(n);
        RateLimiter::new(
            Limits {
                create: on(r.create),
                reveal: on(r.reveal),
                metadata: on(r.metadata),
                failed_passphrase: on(r.failed_passphrase),
                email: on(r.email),
            },
            r.window_secs,
            r.max_tracked,
            r.ipv6_prefix,
        )
    }

    /// The database's directory inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("db")
    }

    /// How the server opens its database.
    pub fn store_options(&self) -> crate::store::Options {
        crate::store::Options {
            cache_bytes: self.storage.cache_mib << 20,
            accept_data_loss: self.accept_data_loss,
            compact_above_bytes: match self.storage.compact_above_mib {
                0 => u64::MAX,
                mib => mib << 20,
            },
            count_records: self.metrics.enabled,
        }
    }

    /// Where the generated master key lives unless configured otherwise.
    pub fn master_key_path(&self) -> PathBuf {
        if self.master_key_file.as_os_str().is_empty() {
            self.data_dir.join("master.key")
        } else {
            self.master_key_file.clone()
        }
    }

    /// Checks what the types alone do not: rules between keys, numbers that must
    /// be at least 1, and the scheme of `base_url`. Every other string was parsed
    /// into its type when the settings were deserialized; each error names its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Every rule [`Settings::validate`] finds broken, in key order.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut invalid = |key: &str, rule: &str| problems.push(Problem::new(key, rule));
        let url = &self.base_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            invalid("base_url", "must start with http:// or https://");
        }
        if self.limits.min_ttl == 0 {
            invalid("limits.min_ttl", "must be at least 1");
        }
        for (name, c) in [
            ("anonymous", &self.limits.anonymous),
            ("authenticated", &self.limits.authenticated),
        ] {
            if c.max_ttl < self.limits.min_ttl {
                invalid(
                    &format!("limits.{name}.max_ttl"),
                    "must not be below limits.min_ttl",
                );
            }
            if c.max_secret_bytes == 0 {
                invalid(
                    &format!("limits.{name}.max_secret_bytes"),
                    "must be at least 1",
                );
            }
            if c.passphrase_max_length < c.passphrase_min_length {
                invalid(
                    &format!("limits.{name}.passphrase_max_length"),
                    "must not be below passphrase_min_length",
                );
            }
        }
        if self.crypto.pbkdf2_iterations == 0 {
            invalid("crypto.pbkdf2_iterations", "must be at least 1");
        }
        if self.storage.cache_mib == 0 {
            invalid("storage.cache_mib", "must be at least 1");
        }
        if self.reaper.interval_secs == 0 {
            invalid("reaper.interval_secs", "must be at least 1");
        }
        if self.web.ttl_choices.is_empty() {
            invalid("web.ttl_choices", "must offer at least one choice");
        }
        if self.web.instance_name.chars().count() > MAX_INSTANCE_NAME
            || self.web.instance_name.chars().any(char::is_control)
        {
            invalid(
                "web.instance_name",
                "must be at most 60 characters, without control characters",
            );
        }
        if self.rate_limits.window_secs == 0 {
            invalid("rate_limits.window_secs", "must be at least 1");
        }
        if self.limits.max_body_bytes == 0 {
            invalid("limits.max_body_bytes", "must be at least 1");
        }
        if self.limits.body_timeout_secs == 0 {
            invalid("limits.body_timeout_secs", "must be at least 1");
        }
        if self.limits.max_body_bytes_in_flight < self.limits.max_body_bytes {
            invalid(
                "limits.max_body_bytes_in_flight",
                "must not be below limits.max_body_bytes",
            );
        }
        if !(1..=128).contains(&self.rate_limits.ipv6_prefix) {
            invalid("rate_limits.ipv6_prefix", "must be from 1 to 128");
        }
        if let Err(why) = check_log_filter(&self.log_level) {
            invalid("log_level", &why);
        }
        problems
    }
}

impl Settings {
    /// `web.ttl_choices` as written: a choice outside the TTL limits is never
    /// offered to anyone. (The defaults' choices above a lowered `max_ttl` are
    /// only left out of the form, so this is checked only when the choices were
    /// written.)
    fn ttl_choice_problem(&self) -> Option<Problem> {
        let longest = self
            .limits
            .anonymous
            .max_ttl
            .max(self.limits.authenticated.max_ttl);
        let bad = self
            .web
            .ttl_choices
            .iter()
            .find(|ttl| !(self.limits.min_ttl..=longest).contains(ttl))?;
        Some(Problem::new(
            "web.ttl_choices",
            &format!(
                "holds {bad}, outside the TTL limits (limits.min_ttl {} to the largest \
                 max_ttl, {longest})",
                self.limits.min_ttl
            ),
        ))
    }
}

/// One broken rule: the key and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub rule: String,
}

impl Problem {
    fn new(key: &str, rule: &str) -> Self {
        Self {
            key: key.to_owned(),
            rule: rule.to_owned(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.rule)
        } else {
            write!(f, "`{}` {}", self.key, self.rule)
        }
    }
}

/// The problems, one per line after the first when there are several.
fn list(problems: &[Problem]) -> String {
    match problems {
        [one] => format!(" {one}"),
        many => many
            .iter()
            .map(|p| format!("\n  - {p}"))
            .collect::<String>(),
    }
}

/// `log_level`: a level (`off`, `error`, `warn`, `info`, `debug`, `trace`) or
/// an env_logger filter: comma-separated `level` or `module=level`, optionally
/// followed by `/regex`. env_logger itself only prints a warning for what it
/// cannot parse, and reads a bare word as a module name ("everything from module
/// `loud`, nothing else"), so a misspelt level would silence the log: a module
/// needs its `=level` here.
fn check_log_filter(filter: &str) -> Result<(), String> {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let is_level = |text: &str| LEVELS.iter().any(|l| l.eq_ignore_ascii_case(text));
    let is_module = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '-')
    };
    let directives = filter.split_once('/').map_or(filter, |(d, _)| d);
    if directives.trim().is_empty() {
        return Err("is empty: give a level such as `info`".into());
    }
    for directive in directives.split(',').map(str::trim) {
        let fine = match directive.split_once('=') {
            Some((module, level)) => is_module(module.trim()) && is_level(level.trim()),
            None => is_level(directive),
        };
        if !fine {
            return Err(format!(
                "has `{directive}`, which is neither a level ({}) nor `module=level`",
                LEVELS.join(", ")
            ));
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// What [`Settings::validate`] (or a strict check of unknown keys, or the
    /// values' types) found: every problem, each naming its key.
    #[error("invalid configuration:{}", list(.0))]
    Invalid(Vec<Problem>),
    /// A value that does not deserialize into its type (the cause names the key).
    #[error("invalid configuration")]
    Value(#[source] Box<config::ConfigError>),
    #[error("cannot read the configuration file {path}: no such file")]
    Missing { path: PathBuf },
    #[error("cannot read the configuration file {path}")]
    File {
        path: PathBuf,
        #[source]
        source: Box<config::ConfigError>,
    },
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

/// Settings plus what the loader noticed but did not refuse.
#[derive(Debug)]
pub struct Loaded {
    pub settings: Settings,
    pub warnings: Vec<String>,
}

/// Values given on the command line; they override every other layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    /// `--strict`: unknown keys are errors even with `strict = false`.
    pub strict: bool,
}

/// Loads the layered configuration. `env` replaces the process environment when
/// given (tests), so nothing needs `set_var`.
pub fn load(
    file: Option<&Path>,
    overrides: &Overrides,
    env: Option<HashMap<String, String>>,
) -> Result<Loaded, ConfigError> {
    if let Some(path) = file.filter(|p| !p.is_file()) {
        return Err(ConfigError::Missing { path: path.into() });
    }
    let file_source: Layer = match file {
        Some(p) => vec![Box::new(
            config::File::from(p)
                .format(config::FileFormat::Toml)
                .required(true),
        )],
        None => Vec::new(),
    };
    load_layers(file_source, file, overrides, env)
}

/// Loads the layered configuration with `toml` as the file's text: what
/// [`load`] does with a file, without one on disk (the fuzz target's way in).
pub fn load_toml(
    toml: &str,
    overrides: &Overrides,
    env: Option<HashMap<String, String>>,
) -> Result<Loaded, ConfigError> {
    let file_source: Layer = vec![Box::new(config::File::from_str(
        toml,
        config::FileFormat::Toml,
    ))];
    load_layers(file_source, None, overrides, env)
}

/// The file layer: one source, or none.
type Layer = Vec<Box<dyn config::Source + Send + Sync>>;

fn load_layers(
    file_source: Layer,
    file: Option<&Path>,
    overrides: &Overrides,
    env: Option<HashMap<String, String>>,
) -> Result<Loaded, ConfigError> {
    let to_err = |e| ConfigError::Value(Box::new(e));
    let env_source = config::Environment::with_prefix(ENV_PREFIX)
        .prefix_separator("_")
        .separator("__")
        .list_separator(",")
        .with_list_parse_key("share_domains")
        .with_list_parse_key("rate_limits.trusted_proxies")
        .with_list_parse_key("metrics.allow")
        .with_list_parse_key("web.ttl_choices")
        .try_parsing(true)
        .source(env);

    // What the user wrote, layer by layer, to spot unknown keys and say where
    // each came from.
    let file_error = |e| match file {
        Some(path) => ConfigError::File {
            path: path.into(),
            source: Box::new(e),
        },
        None => to_err(e),
    };
    let written = |source: Layer| -> Result<serde_json::Value, ConfigError> {
        config::Config::builder()
            .add_source(source)
            .build()
            .map_err(file_error)?
            .try_deserialize()
            .map_err(to_err)
    };
    let defaults = serde_json::to_value(Settings::default())
        .map_err(|e| ConfigError::Value(Box::new(config::ConfigError::Foreign(Box::new(e)))))?;
    let mut unknown = Vec::new();
    let file_origin = file.map_or_else(
        || "the configuration".to_owned(),
        |p| p.display().to_string(),
    );
    let in_file = written(file_source.clone())?;
    unknown_keys(
        &in_file,
        &defaults,
        &Origin::File(&file_origin),
        &mut unknown,
    );
    let in_env = written(vec![Box::new(env_source.clone())])?;
    unknown_keys(&in_env, &defaults, &Origin::Environment, &mut unknown);
    let wrote_ttl_choices = [&in_file, &in_env]
        .iter()
        .any(|w| w.pointer("/web/ttl_choices").is_some());

    let mut layered = config::Config::builder()
        .add_source(config::Config::try_from(&Settings::default()).map_err(to_err)?);
    layered = layered.add_source(file_source);
    layered = layered.add_source(env_source);
    if let Some(listen) = &overrides.listen {
        layered = layered
            .set_override("listen", listen.as_str())
            .map_err(to_err)?;
    }
    if let Some(dir) = &overrides.data_dir {
        layered = layered
            .set_override("data_dir", dir.to_string_lossy().into_owned())
            .map_err(to_err)?;
    }
    let (settings, mut problems) = deserialize_reporting_every_bad_value(layered, &defaults)?;
    problems.extend(settings.problems());
    if wrote_ttl_choices {
        problems.extend(settings.ttl_choice_problem());
    }
    let warnings = if settings.strict || overrides.strict {
        problems.extend(unknown.into_iter().map(|text| Problem::new("", &text)));
        Vec::new()
    } else {
        unknown
            .into_iter()
            .map(|text| format!("{text}; it is ignored"))
            .collect()
    };
    if !problems.is_empty() {
        return Err(ConfigError::Invalid(problems));
    }
    Ok(Loaded { settings, warnings })
}

/// Deserializes the layers into [`Settings`]. The config crate (serde) stops
/// at the first value of the wrong type; to list every one, each bad value is
/// reported and replaced by its default, and the rest deserialized again (at
/// most once per key). The settings that come back are for checking the rules
/// only when any problem was found.
fn deserialize_reporting_every_bad_value(
    layered: config::ConfigBuilder<config::builder::DefaultState>,
    defaults: &serde_json::Value,
) -> Result<(Settings, Vec<Problem>), ConfigError> {
    let mut problems = Vec::new();
    let mut builder = layered;
    let mut replaced: Vec<String> = Vec::new();
    loop {
        let error = match builder.clone().build().and_then(|c| c.try_deserialize()) {
            Ok(settings) => return Ok((settings, problems)),
            Err(error) => error,
        };
        let written_key = match &error {
            config::ConfigError::Type { key: Some(key), .. }
            | config::ConfigError::At { key: Some(key), .. } => key.clone(),
            _ => return Err(ConfigError::Value(Box::new(error))),
        };
        // An item of a list (`web.ttl_choices[0]`) is replaced with its list.
        let key = written_key
            .split_once('[')
            .map_or(written_key.as_str(), |(list, _)| list)
            .to_owned();
        let default = key
            .split('.')
            .try_fold(defaults, |value, part| value.get(part))
            .cloned();
        let Some(default) = default else {
            return Err(ConfigError::Value(Box::new(error)));
        };
        if replaced.contains(&key) {
            // The default did not take the bad value's place (the config
            // crate merges an empty list into nothing): what was found so far
            // is the answer, this key's problem included.
            return Err(ConfigError::Invalid(problems));
        }
        problems.push(
            in_words(&error, &key, key != written_key, defaults)
                .unwrap_or_else(|| Problem::new("", &error.to_string())),
        );
        let mut patch = serde_json::Value::Null;
        for part in key.split('.').rev() {
            let inner = std::mem::take(&mut patch);
            patch =
                serde_json::json!({ part: if inner.is_null() { default.clone() } else { inner } });
        }
        let patch =
            config::Config::try_from(&patch).map_err(|e| ConfigError::Value(Box::new(e)))?;
        builder = builder.add_source(patch);
        replaced.push(key);
    }
}

/// A value the config crate could not turn into its setting's type, said in
/// words: the key, what it accepts, what was written and where. What a key
/// accepts is found by trying values of each kind against the defaults (see
/// [`accepted`]), so a new setting needs no entry in a table. The crate's own
/// text speaks Rust ("enum SmtpSecurity does not have variant constructor
/// ssl", "invalid type: 64-bit integer `-5`, expected an unsigned 64 bit or
/// less integer"); none of it is kept. `None`: the error is a setting's own
/// message (its parser's), which already says what is wrong.
fn in_words(
    error: &config::ConfigError,
    key: &str,
    item: bool,
    defaults: &serde_json::Value,
) -> Option<Problem> {
    const NO_VARIANT: &str = "does not have variant constructor ";
    let (written, origin) = match error {
        config::ConfigError::Type {
            unexpected, origin, ..
        } => (plain_value(&unexpected.to_string()), origin.clone()),
        config::ConfigError::At { error, origin, .. } => match &**error {
            // serde's and the crate's messages ("invalid type: integer `5`,
            // expected struct …", "enum … does not have variant constructor
            // ssl"); a setting's own parser, whose message is kept, is on a
            // string or a list of strings, of which `accepted` says nothing.
            config::ConfigError::Message(text) => (
                match text.split_once(NO_VARIANT) {
                    Some((_, variant)) => Some(format!("`{variant}`")),
                    None => text
                        .strip_prefix("invalid type: ")
                        .and_then(|found| plain_value(found.split(", expected").next()?)),
                },
                origin.clone(),
            ),
            config::ConfigError::Type { unexpected, .. } => {
                (plain_value(&unexpected.to_string()), origin.clone())
            }
            _ => return None,
        },
        _ => return None,
    };
    let accepted = accepted(key, defaults)?;
    if item && accepted == Accepts::One("a list".into()) {
        // An item's own parser said what is wrong with it.
        return None;
    }
    let mut rule = match (item, accepted) {
        (false, Accepts::One(what)) => format!("must be {what}"),
        (_, Accepts::List(what)) => format!("must be a list, each item {what}"),
        (true, Accepts::One(what)) => format!("must be {what}"),
    };
    if let Some(written) = written {
        rule.push_str(&format!("; it is {written}"));
    }
    if let Some(origin) = origin {
        rule.push_str(&format!(" (in {origin})"));
    }
    Some(Problem::new(key, &rule))
}

/// The value in the config crate's description of what it found
/// (``64-bit integer `-5` `` is `` `-5` ``, `string "maybe"` is `"maybe"`), or
/// `None` for a kind without one (a table, a list).
fn plain_value(found: &str) -> Option<String> {
    if let (Some(first), Some(last)) = (found.find('`'), found.rfind('`')) {
        return (first < last).then(|| found[first..=last].to_owned());
    }
    found
        .find('"')
        .map(|at| found[at..].to_owned())
        .filter(|quoted| quoted.len() > 1)
}

/// What a setting accepts, in words.
#[derive(Debug, PartialEq, Eq)]
enum Accepts {
    /// "true or false", "a whole number from 0 to 65535", …
    One(String),
    /// A list whose items are each as said.
    List(String),
}

/// What the setting at `key` accepts, found by deserializing the defaults
/// with a probe value there: a bool is `true or false`; a number is a whole
/// number up to the largest of 255, 65535, 4294967295 that its type takes (or
/// without a bound worth saying); a string of a fixed set lists the set from
/// serde's own refusal of a value outside it. `None` for anything else (a
/// setting parsed by its own function says what it wants itself).
fn accepted(key: &str, defaults: &serde_json::Value) -> Option<Accepts> {
    let pointer = format!("/{}", key.replace('.', "/"));
    let default = defaults.pointer(&pointer)?;
    let takes = |value: serde_json::Value| -> Result<(), String> {
        let mut probe = defaults.clone();
        *probe.pointer_mut(&pointer).ok_or_else(String::new)? = value;
        serde_json::from_value::<Settings>(probe)
            .map(drop)
            .map_err(|e| e.to_string())
    };
    match default {
        // A list of items of no kind said here (of strings, each read by the
        // setting's own parser, or empty by default) is just "a list".
        serde_json::Value::Array(items) => Some(
            match items.first().and_then(|item| {
                describe(item, &|value| takes(serde_json::Value::Array(vec![value])))
            }) {
                Some(one) => Accepts::List(one),
                None => Accepts::One("a list".into()),
            },
        ),
        one => describe(one, &takes).map(Accepts::One),
    }
}

/// [`accepted`] for one value of `default`'s kind; `takes` says whether the
/// setting takes a probe.
fn describe(
    default: &serde_json::Value,
    takes: &dyn Fn(serde_json::Value) -> Result<(), String>,
) -> Option<String> {
    use serde_json::Value;
    match default {
        Value::Bool(_) => Some("true or false".into()),
        Value::Number(_) => {
            let largest = [u64::MAX, u32::MAX.into(), u16::MAX.into(), u8::MAX.into()]
                .into_iter()
                .find(|max| takes(Value::from(*max)).is_ok())?;
            Some(if largest == u64::MAX {
                "a whole number, 0 or more".into()
            } else {
                format!("a whole number from 0 to {largest}")
            })
        }
        Value::Object(_) => Some("a section of settings".into()),
        Value::String(_) => {
            let refusal = takes(Value::from("\u{1}")).err()?;
            let (_, choices) = refusal.split_once("expected one of ")?;
            Some(format!("one of: {}", choices.replace('`', "")))
        }
        _ => None,
    }
}

/// Where a setting was written.
enum Origin<'a> {
    File(&'a str),
    Environment,
}

fn unknown_keys(
    written: &serde_json::Value,
    known: &serde_json::Value,
    origin: &Origin<'_>,
    out: &mut Vec<String>,
) {
    fn walk(
        written: &serde_json::Value,
        known: &serde_json::Value,
        path: &str,
        origin: &Origin<'_>,
        out: &mut Vec<String>,
    ) {
        let (Some(written), Some(known)) = (written.as_object(), known.as_object()) else {
            return;
        };
        for (key, value) in written {
            let full = join(path, key);
            match known.get(key) {
                Some(inner) => walk(value, inner, &full, origin, out),
                None => {
                    let nearest = known
                        .keys()
                        .map(|k| (strsim::damerau_levenshtein(k, key), k))
                        .filter(|(distance, k)| *distance <= 2.max(k.len() / 4))
                        .min()
                        .map(|(_, k)| join(path, k));
                    out.push(describe_unknown(&full, nearest.as_deref(), origin));
                }
            }
        }
    }
    walk(written, known, "", origin, out);
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}_{}", key.replace('.', "__").to_uppercase())
}

fn describe_unknown(key: &str, nearest: Option<&str>, origin: &Origin<'_>) -> String {
    match (origin, nearest) {
        (Origin::File(file), Some(near)) => {
            format!("unknown configuration key `{key}` in {file} (did you mean `{near}`?)")
        }
        (Origin::File(file), None) => format!("unknown configuration key `{key}` in {file}"),
        (Origin::Environment, Some(near)) => format!(
            "unknown configuration key `{key}` from the environment ({}) (did you mean \
             `{near}`, {}?)",
            env_name(key),
            env_name(near)
        ),
        (Origin::Environment, None) => format!(
            "unknown configuration key `{key}` from the environment ({})",
            env_name(key)
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_load_with_no_file_and_no_env() {
        let loaded = load(None, &Overrides::default(), env(&[])).unwrap();
        assert_eq!(loaded.settings.listen.to_string(), "127.0.0.1:7143");
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn env_overrides_nested_keys_and_with_strict_false_warns_about_unknown_ones() {
        let vars = [
            ("OTSD_LIMITS__ANONYMOUS__MAX_TTL", "3600"),
            ("OTSD_DATA_DIR", "/tmp/x"),
            ("OTSD_SHARE_DOMAINS", "a.example,b.example"),
            ("OTSD_LIMITZ__X", "1"),
        ];
        let refused = load(None, &Overrides::default(), env(&vars)).unwrap_err();
        assert!(
            crate::error::report(&refused).contains("`limitz` from the environment"),
            "{refused}"
        );
        let relaxed = [&vars[..], &[("OTSD_STRICT", "false")]].concat();
        let loaded = load(None, &Overrides::default(), env(&relaxed)).unwrap();
        assert_eq!(loaded.settings.limits.anonymous.max_ttl, 3600);
        assert_eq!(
            loaded.settings.limits.authenticated.max_ttl,
            30 * DAY,
            "untouched sibling"
        );
        assert_eq!(loaded.settings.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(loaded.settings.share_domains, ["a.example", "b.example"]);
        assert_eq!(loaded.warnings.len(), 1);
        assert!(
            loaded.warnings[0].contains("limitz"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn invalid_values_name_the_key() {
        let err = load(
            None,
            &Overrides::default(),
            env(&[("OTSD_LIMITS__MIN_TTL", "soon")]),
        )
        .unwrap_err();
        let text = crate::error::report(&err);
        assert!(text.contains("limits.min_ttl"), "{text}");
        let err = load(
            None,
            &Overrides::default(),
            env(&[("OTSD_LISTEN", "nowhere")]),
        )
        .unwrap_err();
        let text = crate::error::report(&err);
        assert!(text.contains("listen"), "{text}");
    }

    #[test]
    fn what_a_key_accepts_is_found_from_its_type() {
        // The probes deserialize the defaults with one value changed: the
        // defaults themselves must come back whole.
        let defaults = serde_json::to_value(Settings::default()).unwrap();
        serde_json::from_value::<Settings>(defaults.clone()).unwrap();
        let one = |key: &str| match accepted(key, &defaults) {
            Some(Accepts::One(what)) => what,
            other => panic!("{key}: {other:?}"),
        };
        assert_eq!(one("smtp.security"), "one of: starttls, tls, none");
        assert_eq!(one("smtp.port"), "a whole number from 0 to 65535");
        assert_eq!(
            one("rate_limits.ipv6_prefix"),
            "a whole number from 0 to 255"
        );
        assert_eq!(
            one("rate_limits.create"),
            "a whole number from 0 to 4294967295"
        );
        assert_eq!(one("limits.min_ttl"), "a whole number, 0 or more");
        assert_eq!(one("strict"), "true or false");
        assert_eq!(one("share_domains"), "a list");
        assert_eq!(
            accepted("web.ttl_choices", &defaults),
            Some(Accepts::List("a whole number, 0 or more".into()))
        );
        // Settings with their own parsers say what they want themselves.
        assert_eq!(accepted("listen", &defaults), None);
        assert_eq!(accepted("master_key", &defaults), None);
    }

    #[test]
    fn debug_redacts_the_master_key() {
        let s = Settings {
            master_key: Some(MasterKey::from_hex(&"00ff".repeat(16)).unwrap()),
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("00ff"));
        let written = serde_json::to_string(&s).unwrap();
        assert!(!written.contains("00ff"), "{written}");
    }
}
