//! Password generation for `POST /api/v1/generate`.

use super::{ParamError, SecretValue, parse_clamped_int};
use rand::RngExt;
use zeroize::Zeroizing;

// The four classes, without the look-alikes i l o 1 I O 0.
const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!#$%&*+-=?@^_~";
const CLASSES: [&[u8]; 4] = [LOWER, UPPER, DIGITS, SYMBOLS];

/// The `length` parameter of generate: default 12, clamped into 4..=128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneratedLength(usize);

impl GeneratedLength {
    pub const DEFAULT: usize = 12;
    pub const MIN: usize = 4;
    pub const MAX: usize = 128;

    pub fn parse(raw: Option<&str>) -> Result<Self, ParamError> {
        let n = parse_clamped_int(raw, Self::MIN as u64, Self::MAX as u64)
            .map_err(|()| ParamError::InvalidLength)?;
        Ok(Self(n.map_or(Self::DEFAULT, |n| n as usize)))
    }
}

/// A random password from the CSPRNG with at least one character of each class.
///
/// Drawing uniformly from all classes and retrying when a class is missing keeps the
/// distribution uniform over all valid passwords (forcing one position per class
/// would not); at length ≥ 4 a retry is needed rarely enough not to matter.
pub fn generate_password(length: GeneratedLength) -> SecretValue {
    let all: Vec<u8> = CLASSES.concat();
    let mut rng = rand::rng();
    loop {
        let candidate: Zeroizing<String> = Zeroizing::new(
            (0..length.0)
                .map(|_| all[rng.random_range(0..all.len())] as char)
                .collect(),
        );
        if CLASSES
            .iter()
            .all(|class| candidate.bytes().any(|b| class.contains(&b)))
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
