//! Reading the layers (defaults, file, environment, flags) into [`Settings`]:
//! unknown keys named with the nearest known one, values of the wrong kind
//! said in words.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{ConfigError, Problem, Settings};

const ENV_PREFIX: &str = "OTSD";

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
        .with_list_parse_key("oidc.scopes")
        .with_list_parse_key("oidc.allowed_domains")
        .with_list_parse_key("oidc.allowed_groups")
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

/// The environment variable that sets `key` (`limits.min_ttl` → `OTSD_LIMITS__MIN_TTL`).
pub(crate) fn env_name(key: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DAY;
    use crate::crypto::MasterKey;

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
