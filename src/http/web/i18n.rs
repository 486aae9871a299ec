//! The pages' languages: one catalogue per language (`locales/<code>.toml`, a
//! flat table of keys to texts, built into the binary), the choice of language
//! for a request, and dates and durations in each.
//!
//! A request's language is, in order: `?lang=` (the switcher's links, which
//! also set the [`COOKIE`]), the cookie, the best match of `Accept-Language`,
//! English. The v1 API never uses any of this: clients match on its English
//! messages.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use maud::PreEscaped;

/// The cookie that remembers a language picked with the switcher.
pub const COOKIE: &str = "otsd_lang";

/// The languages of the pages, in the switcher's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    De,
    Nl,
    Sv,
    Tr,
}

/// Each language's code, its own name for itself, and its catalogue.
const LANGS: [(Lang, &str, &str, &str); 5] = [
    (Lang::En, "en", "English", include_str!("locales/en.toml")),
    (Lang::De, "de", "Deutsch", include_str!("locales/de.toml")),
    (
        Lang::Nl,
        "nl",
        "Nederlands",
        include_str!("locales/nl.toml"),
    ),
    (Lang::Sv, "sv", "Svenska", include_str!("locales/sv.toml")),
    (Lang::Tr, "tr", "Türkçe", include_str!("locales/tr.toml")),
];

impl Lang {
    pub fn all() -> impl Iterator<Item = Lang> {
        LANGS.iter().map(|(lang, ..)| *lang)
    }

    fn entry(self) -> &'static (Lang, &'static str, &'static str, &'static str) {
        &LANGS[self as usize]
    }

    /// The BCP 47 code, for `<html lang>`, `?lang=` and the cookie.
    pub fn code(self) -> &'static str {
        self.entry().1
    }

    /// The language's name in itself, for the switcher.
    pub fn name(self) -> &'static str {
        self.entry().2
    }

    /// The language of a code or tag (`de`, `de-AT`, `sv_SE`), if it is one of ours.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Self::all().find(|lang| lang.code().eq_ignore_ascii_case(primary))
    }

    /// The best of ours in an `Accept-Language` header: highest `q` first, the
    /// header's order among equals; `q=0` means "not this one".
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in accept_language.split(',').take(32) {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Self::from_tag) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .unwrap_or(0.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The text of `key`; the key itself when it is missing (a test makes sure
    /// no language misses one).
    pub fn t(self, key: &'static str) -> &'static str {
        catalogue(self)
            .get(key)
            .map_or(key, |text| text.plain.as_str())
    }

    /// The text of `key` escaped for HTML, done once when the catalogue was
    /// read rather than on every page.
    pub fn html(self, key: &'static str) -> PreEscaped<&'static str> {
        PreEscaped(
            catalogue(self)
                .get(key)
                .map_or(key, |text| text.html.as_str()),
        )
    }

    /// The text of `key` with each `{name}` replaced by its value, in one pass
    /// (a value is never searched for placeholders itself).
    pub fn tf(self, key: &'static str, args: &[(&str, &str)]) -> String {
        let mut rest = self.t(key);
        let mut out = String::with_capacity(rest.len() + 32);
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let named = after.find('}').and_then(|close| {
                let name = &after[..close];
                let value = args.iter().find(|(n, _)| *n == name)?.1;
                Some((value, close))
            });
            match named {
                Some((value, close)) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// `3 days, 4 hours`: the two largest units, each in this language.
    pub fn duration(self, seconds: u64) -> String {
        let mut out = String::new();
        for (i, (n, unit)) in crate::format::largest_units(seconds).iter().enumerate() {
            if i > 0 {
                out.push_str(self.t("unit.separator"));
            }
            let _ = write!(out, "{n} {}", self.t(unit_key(unit, *n)));
        }
        out
    }

    /// A UTC time as this language writes a date: `9 December 2026, 11:40 UTC`.
    pub fn date(self, unix: u64) -> String {
        let (year, month, day, hour, minute) = crate::format::civil(unix);
        let month_name = usize::try_from(month - 1)
            .ok()
            .and_then(|i| MONTHS.get(i))
            .map_or("", |key| self.t(key));
        self.tf(
            "date",
            &[
                ("day", &day.to_string()),
                ("month", month_name),
                ("year", &year.to_string()),
                ("time", &format!("{hour:02}:{minute:02}")),
            ],
        )
    }
}

/// The keys of the months, January first.
const MONTHS: [&str; 12] = [
    "month.1", "month.2", "month.3", "month.4", "month.5", "month.6", "month.7", "month.8",
    "month.9", "month.10", "month.11", "month.12",
];

/// The key of `n` of a unit: `unit.day.one` for 1, `unit.day.other` otherwise
/// (all five languages pluralise this way, Turkish with the same word for both).
fn unit_key(unit: &'static str, n: u64) -> &'static str {
    match (unit, n == 1) {
        ("day", true) => "unit.day.one",
        ("day", false) => "unit.day.other",
        ("hour", true) => "unit.hour.one",
        ("hour", false) => "unit.hour.other",
        ("minute", true) => "unit.minute.one",
        ("minute", false) => "unit.minute.other",
        ("second", true) => "unit.second.one",
        ("second", false) => "unit.second.other",
        _ => unit,
    }
}

/// One text of a catalogue: as written, and escaped for HTML.
struct Text {
    plain: String,
    html: String,
}

/// FNV-1a: the catalogue's keys are short and its own (no one can choose
/// them to collide), so a plain fast hash beats SipHash here; a page looks up
/// dozens of them.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Catalogue = HashMap<String, Text, BuildHasherDefault<Fnv>>;

/// The catalogue of `lang`, parsed once.
fn catalogue(lang: Lang) -> &'static Catalogue {
    static CATALOGUES: OnceLock<Vec<Catalogue>> = OnceLock::new();
    let all = CATALOGUES.get_or_init(|| {
        LANGS
            .iter()
            .map(|(_, code, _, text)| parse(code, text))
            .collect()
    });
    &all[lang as usize]
}

/// A catalogue's table. It is part of the binary and checked by the tests, so a
/// broken one is a build mistake: it is logged and read as empty (every page
/// then shows keys), never a panic in a request.
fn parse(code: &str, text: &str) -> Catalogue {
    match toml::from_str::<toml::Table>(text) {
        Ok(table) => {
            let mut catalogue = Catalogue::default();
            flatten("", table, &mut catalogue);
            catalogue
        }
        Err(err) => {
            log::error!("the {code} catalogue does not parse: {err}");
            Catalogue::default()
        }
    }
}

/// `a.b = "x"` is a table `a` in TOML: back to the key `a.b`.
fn flatten(prefix: &str, table: toml::Table, into: &mut Catalogue) {
    for (key, value) in table {
        let key = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(text) => {
                let html = maud::html! { (text) }.into_string();
                into.insert(key, Text { plain: text, html });
            }
            toml::Value::Table(table) => flatten(&key, table, into),
            _ => log::error!("catalogue key {key} is not text"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(text: &str) -> Vec<&str> {
        let mut names: Vec<&str> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        let english = catalogue(Lang::En);
        assert!(english.len() > 50, "the English catalogue parsed");
        for lang in Lang::all() {
            let other = catalogue(lang);
            for (key, text) in english {
                let translated = &other
                    .get(key)
                    .unwrap_or_else(|| panic!("{} lacks {key}", lang.code()))
                    .plain;
                let text = &text.plain;
                assert!(!translated.is_empty(), "{} {key} is empty", lang.code());
                assert_eq!(
                    placeholders(translated),
                    placeholders(text),
                    "{} {key}: the same placeholders as English",
                    lang.code()
                );
            }
            for key in other.keys() {
                assert!(
                    english.contains_key(key),
                    "{} has {key}, English does not",
                    lang.code()
                );
            }
        }
    }

    /// Every string literal of the pages' code shaped like a key (`word.word`)
    /// is in the catalogue: a key mistyped in the code would show as itself.
    #[test]
    fn every_key_the_pages_use_is_in_the_catalogue() {
        let english = catalogue(Lang::En);
        let sources = [
            include_str!("pages.rs"),
            include_str!("handlers.rs"),
            include_str!("requests.rs"),
            include_str!("messages.rs"),
            include_str!("signin.rs"),
            include_str!("mod.rs"),
        ];
        let mut seen = 0;
        for source in sources {
            for literal in source.split('"').skip(1).step_by(2) {
                let parts: Vec<&str> = literal.split('.').collect();
                let key_shaped = parts.len() >= 2
                    && parts.iter().all(|p| {
                        !p.is_empty()
                            && p.bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    });
                if key_shaped {
                    seen += 1;
                    assert!(english.contains_key(literal), "{literal} is not in en.toml");
                }
            }
        }
        assert!(seen > 80, "found the keys ({seen})");
    }

    #[test]
    fn placeholders_are_filled_in_one_pass_and_html_texts_are_escaped_once() {
        let filled = Lang::En.tf(
            "receipt.expires_in",
            &[("duration", "{date}"), ("date", "x")],
        );
        assert_eq!(filled, "in {date} (x)", "a value is not searched again");
        assert_eq!(
            Lang::En.tf("error.unknown_domain", &[]),
            "Unknown domain: {domain}"
        );
        let quoted = Lang::De.t("ask.note_hint");
        assert!(quoted.contains('„'));
        assert_eq!(
            Lang::En.html("error.cross_site").0,
            Lang::En.t("error.cross_site"),
            "nothing to escape"
        );
        for lang in Lang::all() {
            for (key, text) in catalogue(lang) {
                assert_eq!(
                    text.html,
                    maud::html! { (text.plain) }.into_string(),
                    "{key}"
                );
            }
        }
        let mut table = Catalogue::default();
        flatten("", toml::from_str("a.b = \"<i>&\"").unwrap(), &mut table);
        assert_eq!(table["a.b"].html, "&lt;i&gt;&amp;");
    }

    #[test]
    fn accept_language_picks_the_best_of_ours() {
        assert_eq!(Lang::negotiate("de-DE,de;q=0.9,en;q=0.8"), Some(Lang::De));
        assert_eq!(
            Lang::negotiate("fr-CH, fr;q=0.9, sv;q=0.7, en;q=0.5"),
            Some(Lang::Sv)
        );
        assert_eq!(Lang::negotiate("en;q=0.5, tr"), Some(Lang::Tr));
        assert_eq!(Lang::negotiate("nl;q=0, de;q=0.1"), Some(Lang::De));
        assert_eq!(Lang::negotiate("fr, ja"), None);
        assert_eq!(Lang::negotiate(""), None);
        assert_eq!(Lang::negotiate("de;q=abc"), None);
    }

    #[test]
    fn durations_and_dates_read_naturally_in_each_language() {
        assert_eq!(Lang::En.duration(90_061), "1 day, 1 hour");
        assert_eq!(
            Lang::De.duration(2 * 86_400 + 3 * 3600),
            "2 Tage, 3 Stunden"
        );
        assert_eq!(Lang::Nl.duration(300), "5 minuten");
        assert_eq!(Lang::Sv.duration(3600), "1 timme");
        assert_eq!(Lang::Tr.duration(7 * 86_400), "7 gün");
        assert_eq!(Lang::En.duration(0), "0 seconds");
        let t = 1_796_125_200; // 2026-12-01 11:40 UTC
        assert_eq!(Lang::En.date(t), "1 December 2026, 11:40 UTC");
        assert_eq!(Lang::De.date(t), "1. Dezember 2026, 11:40 UTC");
        assert_eq!(Lang::Nl.date(t), "1 december 2026, 11:40 UTC");
        assert_eq!(Lang::Sv.date(t), "1 december 2026 kl. 11:40 UTC");
        assert_eq!(Lang::Tr.date(t), "1 Aralık 2026, 11:40 UTC");
    }
}
