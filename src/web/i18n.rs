//! The pages' languages: one catalogue per language (`locales/<code>.toml`, a
//! flat table of keys to texts, built into the binary), the choice of language
//! for a request, and dates and durations in each.
//!
//! A request's language is, in order: `?lang=` (the switcher's links, which
//! also set the [`COOKIE`]), the cookie, the best match of `Accept-Language`,
//! English. The v1 API never uses any of this: clients match on its English
//! messages.

use std::collections::HashMap;
use std::sync::OnceLock;

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
        catalogue(self).get(key).map_or(key, String::as_str)
    }

    /// The text of `key` with each `{name}` replaced by its value.
    pub fn tf(self, key: &'static str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// `3 days, 4 hours`: the two largest units, each in this language.
    pub fn duration(self, seconds: u64) -> String {
        crate::format::largest_units(seconds)
            .iter()
            .map(|(n, unit)| self.count(unit, *n))
            .collect::<Vec<_>>()
            .join(self.t("unit.separator"))
    }

    /// `n` of a unit: `unit.day.one` for 1, `unit.day.other` otherwise (all five
    /// languages pluralise this way, Turkish with the same word for both).
    fn count(self, unit: &str, n: u64) -> String {
        let form = if n == 1 { "one" } else { "other" };
        let key = format!("unit.{unit}.{form}");
        let word = catalogue(self)
            .get(key.as_str())
            .map_or(unit, String::as_str);
        format!("{n} {word}")
    }

    /// A UTC time as this language writes a date: `9 December 2026, 11:40 UTC`.
    pub fn date(self, unix: u64) -> String {
        let (year, month, day, hour, minute) = crate::format::civil(unix);
        let month_key = format!("month.{month}");
        let month_name = catalogue(self)
            .get(month_key.as_str())
            .map_or("", String::as_str);
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

type Catalogue = HashMap<String, String>;

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
            let mut catalogue = Catalogue::new();
            flatten("", table, &mut catalogue);
            catalogue
        }
        Err(err) => {
            log::error!("the {code} catalogue does not parse: {err}");
            Catalogue::new()
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
                into.insert(key, text);
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
                let translated = other
                    .get(key)
                    .unwrap_or_else(|| panic!("{} lacks {key}", lang.code()));
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
