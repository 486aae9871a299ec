//! WCAG AA contrast of the stylesheet's colours, light and dark, computed from
//! `static/style.css` itself (not judged by eye): text 4.5:1 against every
//! background it is drawn on, borders and the focus ring 3:1 (WCAG 1.4.11).

use std::collections::HashMap;

const STYLESHEET: &str = include_str!("../../static/style.css");

/// The custom properties of the first `:root { … }` after `from`.
fn palette(from: &str) -> HashMap<String, String> {
    let start = STYLESHEET.find(from).expect("palette marker");
    let rest = &STYLESHEET[start..];
    let open = rest
        .find(":root")
        .and_then(|i| rest[i..].find('{').map(|j| i + j + 1));
    let open = open.expect(":root block");
    let close = open + rest[open..].find('}').expect("end of :root");
    rest[open..close]
        .split(';')
        .filter_map(|decl| {
            let (name, value) = decl.split_once(':')?;
            let name = name.trim().strip_prefix("--")?;
            Some((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

fn luminance(hex: &str) -> f64 {
    let hex = hex
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("not a hex colour: {hex}"));
    let hex: String = if hex.len() == 3 {
        hex.chars().flat_map(|c| [c, c]).collect()
    } else {
        hex.to_owned()
    };
    assert_eq!(hex.len(), 6, "a six-digit colour: {hex}");
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits")) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn ratio(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Text colours and what they are drawn on; non-text colours likewise.
const TEXT: &[(&str, &[&str])] = &[
    ("fg", &["bg", "card"]),
    ("muted", &["bg", "card"]),
    ("link", &["bg", "card"]),
    ("accent", &["bg", "card"]), // secondary buttons
    ("accent-fg", &["accent"]),  // primary buttons
    ("danger", &["bg", "card"]),
    ("card", &["danger"]), // the burn button
    ("ok", &["bg", "card"]),
];
const NON_TEXT: &[(&str, &[&str])] = &[("border", &["bg", "card"]), ("focus", &["bg", "card"])];

fn check(scheme: &str, colours: &HashMap<String, String>) -> Vec<String> {
    let mut failures = Vec::new();
    for (pairs, least) in [(TEXT, 4.5), (NON_TEXT, 3.0)] {
        for (front, backs) in pairs {
            for back in *backs {
                let (f, b) = (&colours[*front], &colours[*back]);
                let r = ratio(f, b);
                if r < least {
                    failures.push(format!(
                        "{scheme}: --{front} {f} on --{back} {b} is {r:.2}:1, needs {least}:1"
                    ));
                }
            }
        }
    }
    failures
}

#[test]
fn every_colour_pair_meets_wcag_aa_in_light_and_dark() {
    let light = palette("/* otsd");
    let mut dark = light.clone();
    dark.extend(palette("prefers-color-scheme: dark"));
    assert_ne!(light["bg"], dark["bg"], "two schemes were read");
    let mut failures = check("light", &light);
    failures.extend(check("dark", &dark));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn links_take_the_checked_colour() {
    assert!(
        STYLESHEET.contains("a { color: var(--link); }"),
        "links are drawn in --link, not the browser's default blue"
    );
}

#[test]
fn the_check_catches_the_old_colours() {
    // The colours a review measured before this check existed.
    assert!(
        ratio("#0000ee", "#141517") < 3.0,
        "default link blue on dark"
    );
    assert!(ratio("#ffbf47", "#f7f7f5") < 3.0, "light focus ring");
    assert!(ratio("#c9c9c4", "#ffffff") < 3.0, "light input border");
}
