use super::{ParamError, PassphrasePolicy};
use std::fmt;
use zeroize::Zeroizing;

/// A passphrase a creator set or a reader typed. Wiped when dropped; `Debug` redacts.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Takes the `passphrase` parameter of share/generate: empty means none; the
    /// length (in characters) must fit the caller's policy.
    pub fn for_new_secret(
        raw: Option<String>,
        policy: &PassphrasePolicy,
    ) -> Result<Option<Self>, ParamError> {
        let raw = Zeroizing::new(raw.unwrap_or_default());
        if raw.is_empty() {
            return if policy.required {
                Err(ParamError::PassphraseRequired)
            } else {
                Ok(None)
            };
        }
        let chars = raw.chars().count();
        if chars < policy.min_length {
            return Err(ParamError::PassphraseTooShort(policy.min_length));
        }
        if chars > policy.max_length {
            return Err(ParamError::PassphraseTooLong(policy.max_length));
        }
        Ok(Some(Self(raw)))
    }

    /// Takes the `passphrase` a reader sent to reveal or burn. No policy applies: a
    /// passphrase that could never have been set simply does not match.
    pub fn attempt(raw: Option<String>) -> Option<Self> {
        raw.filter(|s| !s.is_empty())
            .map(|s| Self(Zeroizing::new(s)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(min: usize, required: bool) -> PassphrasePolicy {
        PassphrasePolicy {
            min_length: min,
            max_length: 128,
            required,
        }
    }

    #[test]
    fn empty_means_none_unless_required() {
        assert!(
            Passphrase::for_new_secret(Some(String::new()), &policy(0, false))
                .unwrap()
                .is_none()
        );
        assert_eq!(
            Passphrase::for_new_secret(None, &policy(0, true)).unwrap_err(),
            ParamError::PassphraseRequired
        );
    }

    #[test]
    fn length_is_counted_in_characters() {
        let p = policy(3, false);
        assert_eq!(
            Passphrase::for_new_secret(Some("ab".into()), &p).unwrap_err(),
            ParamError::PassphraseTooShort(3)
        );
        assert!(
            Passphrase::for_new_secret(Some("äöü".into()), &p)
                .unwrap()
                .is_some()
        );
        assert_eq!(
            Passphrase::for_new_secret(Some("x".repeat(129)), &p).unwrap_err(),
            ParamError::PassphraseTooLong(128)
        );
    }
}
