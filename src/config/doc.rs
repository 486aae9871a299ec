//! Every setting's documentation in one table: its key, its default as written
//! in TOML, and what it does in a line. `otsd man` renders its CONFIGURATION
//! section from this table (with each key's environment variable, made by the
//! loader's own rule), and tests hold it to the two other places a key is
//! described: `Settings::default()` (every key that exists, none that does not,
//! the same default) and the README's settings table (every key, the same
//! default). So the page, the code and the README cannot drift apart.

/// One setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingDoc {
    /// The dotted key path: `limits.anonymous.max_ttl`.
    pub key: &'static str,
    /// The built-in default as TOML writes it (`"info"`, `30`, `[]`), or
    /// [`UNSET`] for a setting that has none.
    pub default: &'static str,
    /// What it does, in one line.
    pub meaning: &'static str,
}

/// The default of a setting that is absent unless written (`master_key`).
pub const UNSET: &str = "(unset)";

impl SettingDoc {
    /// The environment variable that overrides it.
    pub fn env(&self) -> String {
        super::load::env_name(self.key)
    }
}

const fn s(key: &'static str, default: &'static str, meaning: &'static str) -> SettingDoc {
    SettingDoc {
        key,
        default,
        meaning,
    }
}

/// Every setting, in the README's order.
pub const SETTINGS: &[SettingDoc] = &[
    s(
        "listen",
        r#""127.0.0.1:7143""#,
        "IP address and port to listen on.",
    ),
    s(
        "data_dir",
        r#""./otsd-data""#,
        "The database (db/), the generated master key and admin.sock.",
    ),
    s(
        "base_url",
        r#""""#,
        "Public URL every link starts with (and the origin of the forms); empty: http:// + the listen address.",
    ),
    s(
        "share_domains",
        "[]",
        "Custom domains accounts may pass as share_domain.",
    ),
    s(
        "master_key",
        UNSET,
        "The master key as 64 hex characters; overrides the key file.",
    ),
    s(
        "master_key_file",
        r#""""#,
        "The master key's file; empty: <data_dir>/master.key, generated (0600) on first start.",
    ),
    s(
        "database_url",
        r#""""#,
        "PostgreSQL (postgres:// URL or libpq key-value string) for several nodes; empty: the embedded database.",
    ),
    s(
        "database_password_file",
        r#""""#,
        "A file holding the PostgreSQL password, when it is not in the URL.",
    ),
    s(
        "database_pool_size",
        "16",
        "Connections to PostgreSQL one node keeps at most.",
    ),
    s(
        "workers",
        "0",
        "HTTP worker threads; 0: one per available core.",
    ),
    s(
        "log_level",
        r#""info""#,
        "off, error, warn, info, debug, trace, or env_logger filters (RUST_LOG wins).",
    ),
    s(
        "strict",
        "true",
        "Unknown keys stop start-up and fail otsd check; false makes them warnings.",
    ),
    s(
        "access_log",
        "false",
        "One line per request: address, method, route pattern (never a key), status, size, time.",
    ),
    s(
        "shutdown_timeout_secs",
        "30",
        "Seconds SIGTERM lets requests finish.",
    ),
    s(
        "storage.cache_mib",
        "4",
        "sled's page cache in MiB, the main lever on memory.",
    ),
    s(
        "storage.compact_above_mib",
        "64",
        "Compact a mostly empty database of at least this many MiB; 0: never.",
    ),
    s(
        "metrics.enabled",
        "false",
        "Serve GET /metrics (OpenMetrics).",
    ),
    s(
        "metrics.allow",
        r#"["127.0.0.1/32", "::1/128"]"#,
        "Client addresses or networks that may read /metrics.",
    ),
    s(
        "metrics.token",
        r#""""#,
        "A bearer token that may read /metrics from any address; empty: none.",
    ),
    s(
        "reaper.interval_secs",
        "30",
        "Seconds between sweeps for expired records.",
    ),
    s(
        "crypto.pbkdf2_iterations",
        "100000",
        "PBKDF2 rounds for passphrases of new secrets.",
    ),
    s(
        "limits.min_ttl",
        "60",
        "Shortest TTL in seconds; shorter ones are raised to it.",
    ),
    s(
        "limits.max_body_bytes",
        "524288",
        "Largest request body in bytes.",
    ),
    s(
        "limits.body_timeout_secs",
        "10",
        "Seconds a whole request body may take to arrive.",
    ),
    s(
        "limits.max_body_bytes_in_flight",
        "33554432",
        "Bytes all bodies being read may hold together; past it requests are refused as busy.",
    ),
    s(
        "limits.anonymous.default_ttl",
        "604800",
        "TTL in seconds when none is given (anonymous callers).",
    ),
    s(
        "limits.anonymous.max_ttl",
        "604800",
        "Longer TTLs are lowered to it (anonymous callers).",
    ),
    s(
        "limits.anonymous.max_secret_bytes",
        "10000",
        "Larger secrets are refused, never truncated (anonymous callers).",
    ),
    s(
        "limits.anonymous.passphrase_min_length",
        "0",
        "Shortest passphrase in characters (anonymous callers).",
    ),
    s(
        "limits.anonymous.passphrase_max_length",
        "128",
        "Longest passphrase in characters (anonymous callers).",
    ),
    s(
        "limits.anonymous.passphrase_required",
        "false",
        "Refuse secrets without a passphrase (anonymous callers).",
    ),
    s(
        "limits.authenticated.default_ttl",
        "604800",
        "TTL in seconds when none is given (accounts).",
    ),
    s(
        "limits.authenticated.max_ttl",
        "2592000",
        "Longer TTLs are lowered to it (accounts).",
    ),
    s(
        "limits.authenticated.max_secret_bytes",
        "100000",
        "Larger secrets are refused, never truncated (accounts).",
    ),
    s(
        "limits.authenticated.passphrase_min_length",
        "0",
        "Shortest passphrase in characters (accounts).",
    ),
    s(
        "limits.authenticated.passphrase_max_length",
        "128",
        "Longest passphrase in characters (accounts).",
    ),
    s(
        "limits.authenticated.passphrase_required",
        "false",
        "Refuse secrets without a passphrase (accounts).",
    ),
    s(
        "anonymous_create",
        "true",
        "false: only accounts may share or generate (anyone with a link can still reveal).",
    ),
    s(
        "rate_limits.enabled",
        "true",
        "false switches every rate limit off.",
    ),
    s(
        "rate_limits.window_secs",
        "1200",
        "Length of a fixed window in seconds.",
    ),
    s(
        "rate_limits.create",
        "1000",
        "Creates per window per address (and account); 0: unlimited.",
    ),
    s(
        "rate_limits.reveal",
        "1000",
        "Reveals per window per address (and account); 0: unlimited.",
    ),
    s(
        "rate_limits.metadata",
        "1000",
        "Receipts, burns and listings per window per address (and account); 0: unlimited.",
    ),
    s(
        "rate_limits.failed_passphrase",
        "5",
        "Wrong passphrases per secret per address.",
    ),
    s(
        "rate_limits.failed_sign_in",
        "10",
        "Failed web sign-ins per window, per address and per account name.",
    ),
    s("rate_limits.email", "50", "Emails per account per window."),
    s(
        "rate_limits.exempt_accounts",
        "false",
        "Accounts skip the create, reveal and metadata limits.",
    ),
    s(
        "rate_limits.max_tracked",
        "100000",
        "Exact counters per action and window; when full, the least-used is replaced.",
    ),
    s(
        "rate_limits.ipv6_prefix",
        "64",
        "IPv6 clients are counted per network of this many bits.",
    ),
    s(
        "rate_limits.trusted_proxies",
        "[]",
        "Peers (addresses or CIDR blocks) whose X-Forwarded-For is believed.",
    ),
    s(
        "web.ttl_choices",
        "[300, 1800, 3600, 14400, 43200, 86400, 259200, 604800]",
        "The web form's expiry choices, in seconds.",
    ),
    s(
        "web.instance_name",
        r#""""#,
        "Shown in every page's header and title; at most 60 characters.",
    ),
    s(
        "web.password_sign_in",
        "true",
        "Accounts with a password (otsd user password) may sign in with it on the pages.",
    ),
    s(
        "web.session_idle_secs",
        "3600",
        "A web session ends after this many seconds without a request.",
    ),
    s(
        "web.session_max_secs",
        "43200",
        "... and this many seconds after sign-in however active.",
    ),
    s(
        "oidc.issuer",
        r#""""#,
        "The OpenID provider's issuer URL; empty: single sign-on off.",
    ),
    s(
        "oidc.client_id",
        r#""""#,
        "The client registered at the provider.",
    ),
    s(
        "oidc.client_secret_file",
        r#""""#,
        "A file holding the client secret.",
    ),
    s(
        "oidc.scopes",
        r#"["openid", "email", "profile"]"#,
        "Scopes asked for (openid is always sent).",
    ),
    s(
        "oidc.username_claim",
        r#""email""#,
        "The ID token claim that names the account (email must be verified).",
    ),
    s(
        "oidc.allowed_domains",
        "[]",
        "When set: only verified emails of these domains.",
    ),
    s(
        "oidc.groups_claim",
        r#""groups""#,
        "The ID token claim holding the person's groups.",
    ),
    s(
        "oidc.allowed_groups",
        "[]",
        "When set: only people in one of these groups.",
    ),
    s(
        "oidc.provision",
        "true",
        "A person's first sign-in creates their account; false: only accounts made with otsd user add.",
    ),
    s("smtp.host", r#""""#, "SMTP relay; empty disables email."),
    s("smtp.port", "587", "The relay's port."),
    s(
        "smtp.security",
        r#""starttls""#,
        "starttls, tls (implicit, port 465) or none (a local relay).",
    ),
    s(
        "smtp.username",
        r#""""#,
        "The relay's user name; empty: no authentication.",
    ),
    s("smtp.password", r#""""#, "The relay's password."),
    s(
        "smtp.password_file",
        r#""""#,
        "A file holding the relay's password (wins over smtp.password).",
    ),
    s(
        "smtp.from",
        r#""otsd <otsd@localhost>""#,
        "The sender of emails.",
    ),
    s(
        "smtp.timeout_secs",
        "10",
        "Bound in seconds on connecting and sending.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// `Settings::default()` as dotted keys and JSON values (tables flattened,
    /// arrays kept whole).
    fn flattened(
        value: &serde_json::Value,
        prefix: &str,
        out: &mut BTreeMap<String, serde_json::Value>,
    ) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    flattened(value, &path, out);
                }
            }
            other => {
                out.insert(prefix.to_owned(), other.clone());
            }
        }
    }

    /// A documented default as the JSON value `Settings::default()` serializes to.
    fn documented(doc: &SettingDoc) -> serde_json::Value {
        if doc.default == UNSET {
            return serde_json::Value::Null;
        }
        let table: toml::Table = toml::from_str(&format!("v = {}", doc.default))
            .unwrap_or_else(|e| panic!("{}: default {:?} is TOML: {e}", doc.key, doc.default));
        serde_json::to_value(&table["v"]).unwrap()
    }

    #[test]
    fn the_table_documents_every_setting_that_exists_with_its_real_default_and_no_other() {
        let mut actual = BTreeMap::new();
        flattened(
            &serde_json::to_value(crate::Settings::default()).unwrap(),
            "",
            &mut actual,
        );
        let documented_keys: Vec<&str> = SETTINGS.iter().map(|d| d.key).collect();
        let missing: Vec<&String> = actual
            .keys()
            .filter(|k| !documented_keys.contains(&k.as_str()))
            .collect();
        assert!(missing.is_empty(), "settings not documented: {missing:?}");
        for doc in SETTINGS {
            let real = actual
                .get(doc.key)
                .unwrap_or_else(|| panic!("`{}` is documented but is no setting", doc.key));
            assert_eq!(&documented(doc), real, "the default of `{}`", doc.key);
        }
        let mut seen = std::collections::HashSet::new();
        assert!(SETTINGS.iter().all(|d| seen.insert(d.key)), "each key once");
    }

    /// The README's settings table as (key, default cell) pairs.
    fn readme_table() -> Vec<(String, String)> {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("| key | default | meaning |")
            .nth(1)
            .expect("the README has a settings table");
        table
            .lines()
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .map(|line| {
                let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
                let key = cells[0].trim().trim_matches('`').to_owned();
                (key, cells.get(1).map_or("", |c| c.trim()).to_owned())
            })
            .collect()
    }

    #[test]
    fn the_readme_table_has_every_key_once_with_the_same_default() {
        let readme = readme_table();
        let in_readme: Vec<&str> = readme.iter().map(|(k, _)| k.as_str()).collect();
        let in_table: Vec<&str> = SETTINGS.iter().map(|d| d.key).collect();
        let mut sorted_readme = in_readme.clone();
        sorted_readme.sort_unstable();
        let mut sorted_table = in_table.clone();
        sorted_table.sort_unstable();
        assert_eq!(sorted_readme, sorted_table, "the README's keys, once each");
        for (key, cell) in &readme {
            let doc = SETTINGS.iter().find(|d| d.key == key).unwrap();
            let expected = if doc.default == UNSET {
                UNSET.to_owned()
            } else {
                format!("`{}`", doc.default)
            };
            assert!(
                cell == &expected || cell.starts_with(&format!("{expected} (")),
                "README: `{key}` has default {cell:?}, the table {expected:?}"
            );
        }
    }

    #[test]
    fn each_documented_key_and_default_is_accepted_by_the_loader_from_a_file() {
        for doc in SETTINGS.iter().filter(|d| d.default != UNSET) {
            let mut path: Vec<&str> = doc.key.split('.').collect();
            let leaf = path.pop().unwrap();
            let toml = if path.is_empty() {
                format!("{leaf} = {}", doc.default)
            } else {
                format!("[{}]\n{leaf} = {}", path.join("."), doc.default)
            };
            let loaded = crate::config::load_toml(
                &toml,
                &crate::config::Overrides::default(),
                Some(Default::default()),
            );
            assert!(loaded.is_ok(), "{toml}: {:?}", loaded.err());
        }
        assert_eq!(
            SETTINGS[0].env(),
            "OTSD_LISTEN",
            "the environment name follows the loader's rule"
        );
        let ttl = SETTINGS
            .iter()
            .find(|d| d.key == "limits.anonymous.max_ttl")
            .unwrap();
        assert_eq!(ttl.env(), "OTSD_LIMITS__ANONYMOUS__MAX_TTL");
    }
}
