//! Password generation: v1's `POST /api/v1/generate` (four fixed classes
//! without look-alikes) and v2's `generate` (the sets the caller picks).

use super::{ParamError, SecretValue, parse_clamped_int};
use rand::RngExt;
use zeroize::Zeroizing;

// The four classes, without the look-alikes i l o 1 I O 0.
const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!#$%&*+-=?@^_~";
const CLASSES: [&[u8]; 4] = [LOWER, UPPER, DIGITS, SYMBOLS];

// v2's sets (spec §5), in full; `AMBIGUOUS` is taken out of them on request.
const V2_UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const V2_LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const V2_NUMBERS: &[u8] = b"0123456789";
const V2_SYMBOLS: &[u8] = b"!@#$%^&*()_-+=[]{}|:;\"'<>,.?/~`";
/// What v2 draws from when every set is off: letters, digits and these.
const V2_FALLBACK_SYMBOLS: &[u8] = b"*$!?()@#%^";
const AMBIGUOUS: &[u8] = b"ilo1IO0";

/// The `length` parameter of generate: default 12, clamped into 4..=128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedLength(usize);

impl GeneratedLength {
    pub const DEFAULT: usize = 12;
    pub const MIN: usize = 4;
    pub const MAX: usize = 128;

    /// v1: missing or blank is the default; an integer out of range is clamped.
    pub fn parse(raw: Option<&str>) -> Result<Self, ParamError> {
        let n = parse_clamped_int(raw, Self::MIN as u64, Self::MAX as u64)
            .map_err(|()| ParamError::InvalidLength)?;
        Ok(Self(n.map_or(Self::DEFAULT, |n| n as usize)))
    }

    /// v2: missing or blank is the default; an integer out of range is refused
    /// (the caller asked for a length it would not get), as is a non-integer.
    pub fn parse_strict(raw: Option<&str>) -> Result<Self, ParamError> {
        // Unbounded, a negative integer reads as 0 and a huge one as u64::MAX.
        let n = parse_clamped_int(raw, 0, u64::MAX).map_err(|()| ParamError::InvalidLength)?;
        match n {
            None => Ok(Self(Self::DEFAULT)),
            Some(n) if n < Self::MIN as u64 => Err(ParamError::LengthTooShort(Self::MIN)),
            Some(n) if n > Self::MAX as u64 => Err(ParamError::LengthTooLong(Self::MAX)),
            Some(n) => Ok(Self(n as usize)),
        }
    }
}

/// v2's `character_sets`: which sets a generated password draws from, and
/// whether the look-alikes `i l o 1 I O 0` are left out. Each is on unless the
/// caller turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CharacterSets {
    pub uppercase: bool,
    pub lowercase: bool,
    pub numbers: bool,
    pub symbols: bool,
    pub exclude_ambiguous: bool,
}

impl Default for CharacterSets {
    fn default() -> Self {
        Self {
            uppercase: true,
            lowercase: true,
            numbers: true,
            symbols: true,
            exclude_ambiguous: true,
        }
    }
}

impl CharacterSets {
    /// Reads `character_sets[uppercase]` … `character_sets[exclude_ambiguous]`
    /// through `get` (a parameter lookup): `true`/`1` on, `false`/`0` off,
    /// missing on; anything else is refused, never guessed.
    pub fn parse<'v>(get: impl Fn(&str) -> Option<&'v str>) -> Result<Self, ParamError> {
        let set = |name: &str| match get(&format!("character_sets[{name}]")) {
            None | Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(_) => Err(ParamError::InvalidCharacterSets),
        };
        Ok(Self {
            uppercase: set("uppercase")?,
            lowercase: set("lowercase")?,
            numbers: set("numbers")?,
            symbols: set("symbols")?,
            exclude_ambiguous: set("exclude_ambiguous")?,
        })
    }

    /// The classes a password must each appear in: the sets that are on (one
    /// set: that set alone); none on, one class of letters, digits and
    /// [`V2_FALLBACK_SYMBOLS`]. Look-alikes are out of all of them on request.
    fn classes(&self) -> Vec<Vec<u8>> {
        let unambiguous = |set: &[u8]| -> Vec<u8> {
            set.iter()
                .copied()
                .filter(|b| !(self.exclude_ambiguous && AMBIGUOUS.contains(b)))
                .collect()
        };
        let chosen: Vec<Vec<u8>> = [
            (self.uppercase, V2_UPPER),
            (self.lowercase, V2_LOWER),
            (self.numbers, V2_NUMBERS),
            (self.symbols, V2_SYMBOLS),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, set)| unambiguous(set))
        .collect();
        if chosen.is_empty() {
            vec![unambiguous(
                &[V2_UPPER, V2_LOWER, V2_NUMBERS, V2_FALLBACK_SYMBOLS].concat(),
            )]
        } else {
            chosen
        }
    }
}

/// v1's password: at least one character of each of four classes (lower,
/// upper, digits, symbols), without look-alikes. CSPRNG, uniform over all such
/// passwords (see `draw`).
pub fn generate_password(length: GeneratedLength) -> SecretValue {
    draw(length, &CLASSES)
}

/// v2's password from the sets the caller chose (spec §5): with two or more
/// sets, at least one character of each; with one, that set only; with none,
/// letters, digits and `*$!?()@#%^`. Look-alikes are left out when
/// `exclude_ambiguous` is on. CSPRNG, uniform over all such passwords.
pub fn generate_with(length: GeneratedLength, sets: &CharacterSets) -> SecretValue {
    draw(length, &sets.classes())
}

/// A random password from the CSPRNG with at least one character of each class.
///
/// Drawing uniformly from all classes and retrying when a class is missing keeps the
/// distribution uniform over all valid passwords (forcing one position per class
/// would not); at length ≥ 4 a retry is needed rarely enough not to matter (at
/// worst, v2's four sets without look-alikes at length 4, about one draw in
/// seventeen is kept: 4! · 24 · 23 · 8 · 31 / 86⁴).
fn draw<C: AsRef<[u8]>>(length: GeneratedLength, classes: &[C]) -> SecretValue {
    let all: Vec<u8> = classes.iter().flat_map(|c| c.as_ref()).copied().collect();
    let mut rng = rand::rng();
    loop {
        let candidate: Zeroizing<String> = Zeroizing::new(
            (0..length.0)
                .map(|_| all[rng.random_range(0..all.len())] as char)
                .collect(),
        );
        if classes
            .iter()
            .all(|class| candidate.bytes().any(|b| class.as_ref().contains(&b)))
        {
            return SecretValue::from_trusted(candidate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_every_class_and_no_lookalikes() {
        for n in [4, 12, 128] {
            let p = generate_password(GeneratedLength(n));
            let s = p.expose();
            assert_eq!(s.len(), n);
            for class in CLASSES {
                assert!(s.bytes().any(|b| class.contains(&b)), "{n}");
            }
            assert!(!s.contains(['i', 'l', 'o', '1', 'I', 'O', '0']));
        }
    }

    fn sets(uppercase: bool, lowercase: bool, numbers: bool, symbols: bool) -> CharacterSets {
        CharacterSets {
            uppercase,
            lowercase,
            numbers,
            symbols,
            exclude_ambiguous: false,
        }
    }

    /// Whether every byte of `s` is in one of `sets`, and each set has one.
    fn drawn_from(s: &str, sets: &[&[u8]]) -> bool {
        s.bytes().all(|b| sets.iter().any(|set| set.contains(&b)))
            && sets.iter().all(|set| s.bytes().any(|b| set.contains(&b)))
    }

    #[test]
    fn v2_passwords_have_one_of_each_chosen_set_and_nothing_else() {
        let all: &[&[u8]] = &[V2_UPPER, V2_LOWER, V2_NUMBERS, V2_SYMBOLS];
        for n in [4, 12, 128] {
            let p = generate_with(GeneratedLength(n), &sets(true, true, true, true));
            assert_eq!(p.expose().len(), n);
            assert!(drawn_from(p.expose(), all), "{}", p.expose());
        }
        for _ in 0..50 {
            let p = generate_with(GeneratedLength(4), &sets(false, true, true, false));
            assert!(drawn_from(p.expose(), &[V2_LOWER, V2_NUMBERS]));
            let p = generate_with(GeneratedLength(4), &sets(false, false, false, true));
            assert!(drawn_from(p.expose(), &[V2_SYMBOLS]));
        }
        // Every symbol the spec lists, the backtick too, can be drawn.
        let p = generate_with(GeneratedLength(128), &sets(false, false, false, true));
        assert!(p.expose().bytes().all(|b| V2_SYMBOLS.contains(&b)));
        assert_eq!(V2_SYMBOLS.len(), 31);
        assert!(V2_SYMBOLS.contains(&b'`') && V2_SYMBOLS.contains(&b'"'));
    }

    #[test]
    fn v2_leaves_out_look_alikes_on_request_and_falls_back_when_no_set_is_on() {
        let unambiguous = CharacterSets::default();
        for _ in 0..50 {
            let p = generate_with(GeneratedLength(128), &unambiguous);
            assert!(!p.expose().contains(['i', 'l', 'o', '1', 'I', 'O', '0']));
        }
        let p = generate_with(GeneratedLength(128), &sets(false, false, true, false));
        assert!(p.expose().bytes().all(|b| b.is_ascii_digit()));
        let none_on = sets(false, false, false, false);
        let fallback: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*$!?()@#%^";
        for exclude_ambiguous in [false, true] {
            let sets = CharacterSets {
                exclude_ambiguous,
                ..none_on
            };
            let p = generate_with(GeneratedLength(128), &sets);
            assert!(p.expose().bytes().all(|b| fallback.contains(&b)));
            if exclude_ambiguous {
                assert!(!p.expose().bytes().any(|b| AMBIGUOUS.contains(&b)));
            }
        }
    }

    /// [`CharacterSets::parse`] over a list of pairs, as a handler calls it
    /// over its parameters.
    fn read(pairs: &[(&str, &str)]) -> Result<CharacterSets, ParamError> {
        CharacterSets::parse(|name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
    }

    #[test]
    fn character_sets_read_booleans_and_refuse_anything_else() {
        assert_eq!(read(&[]), Ok(CharacterSets::default()));
        assert_eq!(
            read(&[
                ("character_sets[uppercase]", "false"),
                ("character_sets[numbers]", "0"),
                ("character_sets[symbols]", "1"),
                ("character_sets[exclude_ambiguous]", "false"),
            ]),
            Ok(CharacterSets {
                uppercase: false,
                lowercase: true,
                numbers: false,
                symbols: true,
                exclude_ambiguous: false,
            })
        );
        for bad in ["", "yes", "TRUE", "2"] {
            let pairs = [("character_sets[lowercase]", bad)];
            assert_eq!(
                read(&pairs),
                Err(ParamError::InvalidCharacterSets),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn v2_length_is_refused_out_of_range_instead_of_clamped() {
        assert_eq!(GeneratedLength::parse_strict(None).unwrap().0, 12);
        assert_eq!(GeneratedLength::parse_strict(Some(" ")).unwrap().0, 12);
        assert_eq!(GeneratedLength::parse_strict(Some("4")).unwrap().0, 4);
        assert_eq!(GeneratedLength::parse_strict(Some("128")).unwrap().0, 128);
        for (raw, err) in [
            ("3", ParamError::LengthTooShort(4)),
            ("-12", ParamError::LengthTooShort(4)),
            ("129", ParamError::LengthTooLong(128)),
            ("99999999999999999999999", ParamError::LengthTooLong(128)),
            ("12.0", ParamError::InvalidLength),
            ("twelve", ParamError::InvalidLength),
        ] {
            assert_eq!(GeneratedLength::parse_strict(Some(raw)), Err(err), "{raw}");
        }
    }

    #[test]
    fn length_clamps_and_rejects_non_integers() {
        assert_eq!(GeneratedLength::parse(None).unwrap().0, 12);
        assert_eq!(GeneratedLength::parse(Some("2")).unwrap().0, 4);
        assert_eq!(GeneratedLength::parse(Some("999")).unwrap().0, 128);
        assert_eq!(
            GeneratedLength::parse(Some("x")).unwrap_err(),
            ParamError::InvalidLength
        );
    }
}
