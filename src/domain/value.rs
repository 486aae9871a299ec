use super::ParamError;
use std::fmt;
use zeroize::Zeroizing;

/// The plaintext of a secret, wiped from memory when dropped. `Debug` redacts it.
#[derive(Clone)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    /// Takes the `secret` parameter: it must be present and non-empty, and at most
    /// `max_bytes` long. Too large is an error, never a truncation.
    pub fn parse(raw: Option<String>, max_bytes: usize) -> Result<Self, ParamError> {
        let raw = Zeroizing::new(raw.unwrap_or_default());
        if raw.is_empty() {
            return Err(ParamError::NothingToShare);
        }
        if raw.len() > max_bytes {
            return Err(ParamError::SecretTooLarge(max_bytes));
        }
        Ok(Self(raw))
    }

    /// Wraps a value the server made itself (generate) or unsealed.
    pub fn from_trusted(value: Zeroizing<String>) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}
