//! The rules between settings that their types alone cannot say, and the
//! error that names every broken one.

use std::path::PathBuf;

use super::{MAX_INSTANCE_NAME, Settings};

impl Settings {
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
        if self.database_url.is_set()
            && let Err(why) = crate::store::check_database_url(self.database_url.as_str())
        {
            invalid("database_url", &why);
        }
        if !self.database_url.is_set() && !self.database_password_file.as_os_str().is_empty() {
            invalid(
                "database_password_file",
                "is for PostgreSQL: set database_url too",
            );
        }
        if self.database_pool_size == 0 {
            invalid("database_pool_size", "must be at least 1");
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
        if self.web.session_idle_secs == 0 {
            invalid("web.session_idle_secs", "must be at least 1");
        }
        if self.web.session_max_secs < self.web.session_idle_secs {
            invalid(
                "web.session_max_secs",
                "must not be below web.session_idle_secs",
            );
        }
        let oidc = &self.oidc;
        if !oidc.issuer.is_empty() {
            if !(oidc.issuer.starts_with("https://") || oidc.issuer.starts_with("http://")) {
                invalid(
                    "oidc.issuer",
                    "must start with https:// (or http:// on loopback)",
                );
            }
            if oidc.client_id.is_empty() {
                invalid("oidc.client_id", "is needed when oidc.issuer is set");
            }
            if oidc.client_secret_file.as_os_str().is_empty() {
                invalid(
                    "oidc.client_secret_file",
                    "is needed when oidc.issuer is set",
                );
            }
            if self.base_url.is_empty() {
                invalid(
                    "base_url",
                    "is needed for single sign-on: the provider sends people back to \
                     <base_url>/auth/oidc/callback",
                );
            }
            if oidc.username_claim.is_empty() {
                invalid("oidc.username_claim", "must name a claim");
            }
            if !oidc.allowed_groups.is_empty() && oidc.groups_claim.is_empty() {
                invalid(
                    "oidc.groups_claim",
                    "must name a claim when oidc.allowed_groups is set",
                );
            }
        }
        problems
    }
}

impl Settings {
    /// `web.ttl_choices` as written: a choice outside the TTL limits is never
    /// offered to anyone. (The defaults' choices above a lowered `max_ttl` are
    /// only left out of the form, so this is checked only when the choices were
    /// written.)
    pub(super) fn ttl_choice_problem(&self) -> Option<Problem> {
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
    pub(super) fn new(key: &str, rule: &str) -> Self {
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
