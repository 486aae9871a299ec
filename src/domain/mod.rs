//! Domain values the HTTP layer parses once, so the rest of the code only ever sees
//! valid input ("parse, don't validate").
//!
//! Every type that holds secret material prints nothing of it in `Debug` and wipes
//! its buffer when dropped.

mod generate;
mod keys;
mod limits;
mod memo;
mod note;
mod passphrase;
mod ttl;
mod value;

pub use generate::{CharacterSets, GeneratedLength, generate_password, generate_with};
pub use keys::{FromPath, KEY_ALPHABET, KEY_CHARS, PrivateKey, ReceiptKey, RequestKey, SecretKey};
pub use limits::{CallerLimits, PassphrasePolicy};
pub use memo::{MAX_MEMO_CHARS, Memo};
pub use note::{MAX_NOTE_CHARS, Note};
pub use passphrase::Passphrase;
pub use ttl::{Ttl, TtlPolicy};
pub use value::SecretValue;

/// The owner of what is made without an account (v1's `owner` `"anon"`).
pub const ANONYMOUS: &str = "anon";

/// A custom domain a secret's link is on instead of the server's own (one of the
/// configured `share_domains`, lower case). A secret on the server's own host
/// has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareDomain(String);

impl ShareDomain {
    /// A domain the service has checked against the allow-list, or one read back
    /// from a record; empty is none.
    pub(crate) fn new(domain: String) -> Option<Self> {
        (!domain.is_empty()).then_some(Self(domain))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a parameter was refused. The API layer turns each into the exact v1 message
/// (v2 sends the same words, and the parameter's name from [`ParamError::field`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("You did not provide anything to share")]
    NothingToShare,
    #[error("Secret value exceeds the maximum size of {0} bytes")]
    SecretTooLarge(usize),
    #[error("Invalid TTL")]
    InvalidTtl,
    #[error("Invalid length")]
    InvalidLength,
    #[error("Passphrase must be at least {0} characters long")]
    PassphraseTooShort(usize),
    #[error("Passphrase must be no more than {0} characters long")]
    PassphraseTooLong(usize),
    #[error("A passphrase is required")]
    PassphraseRequired,
    /// A passphrase that is not text (a JSON number, list, object or null).
    #[error("Invalid passphrase")]
    InvalidPassphrase,
    #[error("Invalid share domain")]
    InvalidShareDomain,
    #[error("Invalid recipient")]
    InvalidRecipient,
    #[error("A note must be no more than {0} characters long")]
    NoteTooLong(usize),
    #[error("A note must be plain text")]
    InvalidNote,
    /// v2: the `secret` of a create body is not an object (or a form sent it
    /// bare, v1 style, instead of `secret[secret]`).
    #[error("Incorrect payload format")]
    IncorrectPayload,
    /// v2's generate refuses a length out of range instead of clamping it.
    #[error("Generated password length must be no more than {0} characters")]
    LengthTooLong(usize),
    #[error("Generated password length must be at least {0} characters")]
    LengthTooShort(usize),
    /// v2's `character_sets`: not an object, or a set that is not a boolean.
    #[error("Invalid character sets")]
    InvalidCharacterSets,
    /// v2's bulk status: `identifiers` that is not a string or a list of strings.
    #[error("Invalid identifiers")]
    InvalidIdentifiers,
    /// v2's receipt `memo` that is not text.
    #[error("Invalid memo")]
    InvalidMemo,
}

impl ParamError {
    /// The request parameter the refusal is about, as v2 names it in `field`:
    /// a client can point at the input to correct. Always `Some` today; an
    /// `Option` so that a refusal about the request as a whole can say so.
    pub fn field(&self) -> Option<&'static str> {
        Some(match self {
            Self::NothingToShare | Self::SecretTooLarge(_) | Self::IncorrectPayload => "secret",
            Self::InvalidTtl => "ttl",
            Self::InvalidLength | Self::LengthTooLong(_) | Self::LengthTooShort(_) => "length",
            Self::PassphraseTooShort(_)
            | Self::PassphraseTooLong(_)
            | Self::PassphraseRequired
            | Self::InvalidPassphrase => "passphrase",
            Self::InvalidShareDomain => "share_domain",
            Self::InvalidRecipient => "recipient",
            Self::NoteTooLong(_) | Self::InvalidNote => "note",
            Self::InvalidCharacterSets => "character_sets",
            Self::InvalidIdentifiers => "identifiers",
            Self::InvalidMemo => "memo",
        })
    }
}

/// Parses an optional integer parameter the way Onetime Secret clients expect:
/// missing or blank is `Ok(None)`; an integer of any size is clamped into `min..=max`;
/// anything else (decimals, words) is `Err(())`.
///
/// Integers too large for `i64` are still integers, so they clamp instead of failing.
pub(crate) fn parse_clamped_int(raw: Option<&str>, min: u64, max: u64) -> Result<Option<u64>, ()> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let (negative, digits) = match raw.as_bytes()[0] {
        b'-' => (true, &raw[1..]),
        b'+' => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    if negative {
        return Ok(Some(min));
    }
    let value = digits.parse::<u64>().unwrap_or(u64::MAX);
    Ok(Some(value.clamp(min, max)))
}

#[cfg(test)]
mod tests {
    use super::{ParamError, parse_clamped_int};

    #[test]
    fn each_refusal_names_its_parameter() {
        for (err, field) in [
            (ParamError::NothingToShare, "secret"),
            (ParamError::IncorrectPayload, "secret"),
            (ParamError::SecretTooLarge(9), "secret"),
            (ParamError::InvalidTtl, "ttl"),
            (ParamError::LengthTooLong(128), "length"),
            (ParamError::LengthTooShort(4), "length"),
            (ParamError::InvalidLength, "length"),
            (ParamError::PassphraseRequired, "passphrase"),
            (ParamError::InvalidShareDomain, "share_domain"),
            (ParamError::InvalidRecipient, "recipient"),
            (ParamError::NoteTooLong(500), "note"),
            (ParamError::InvalidCharacterSets, "character_sets"),
            (ParamError::InvalidIdentifiers, "identifiers"),
            (ParamError::InvalidMemo, "memo"),
        ] {
            assert_eq!(err.field(), Some(field), "{err}");
        }
        assert_eq!(
            ParamError::LengthTooLong(128).to_string(),
            "Generated password length must be no more than 128 characters"
        );
        assert_eq!(
            ParamError::LengthTooShort(4).to_string(),
            "Generated password length must be at least 4 characters"
        );
    }

    #[test]
    fn integers_clamp_and_non_integers_fail() {
        assert_eq!(parse_clamped_int(None, 60, 600), Ok(None));
        assert_eq!(parse_clamped_int(Some("  "), 60, 600), Ok(None));
        assert_eq!(parse_clamped_int(Some("120"), 60, 600), Ok(Some(120)));
        assert_eq!(parse_clamped_int(Some("0"), 60, 600), Ok(Some(60)));
        assert_eq!(parse_clamped_int(Some("-5"), 60, 600), Ok(Some(60)));
        assert_eq!(
            parse_clamped_int(Some("99999999999999999999999999"), 60, 600),
            Ok(Some(600))
        );
        assert_eq!(parse_clamped_int(Some("+90"), 60, 600), Ok(Some(90)));
        assert_eq!(parse_clamped_int(Some("3.5"), 60, 600), Err(()));
        assert_eq!(parse_clamped_int(Some("abc"), 60, 600), Err(()));
        assert_eq!(parse_clamped_int(Some("-"), 60, 600), Err(()));
    }
}
