use super::ParamError;
use std::fmt;
use zeroize::Zeroizing;

/// The longest note a request may carry, in characters: a line or two saying
/// what is asked for, not a place for the secret itself.
pub const MAX_NOTE_CHARS: usize = 500;

/// A requester's note to whoever answers: plain text (line breaks and tabs
/// allowed, no other control character), trimmed, at most [`MAX_NOTE_CHARS`].
/// Sealed like a value when stored; `Debug` redacts it.
#[derive(Clone)]
pub struct Note(Zeroizing<String>);

impl Note {
    /// Takes the `note` parameter: missing or blank is no note.
    pub fn parse(raw: Option<String>) -> Result<Option<Self>, ParamError> {
        let raw = Zeroizing::new(raw.unwrap_or_default());
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(ParamError::NoteTooLong(MAX_NOTE_CHARS));
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ParamError::InvalidNote);
        }
        Ok(Some(Self(Zeroizing::new(text.to_owned()))))
    }

    /// Wraps a note read back from its record.
    pub fn from_trusted(text: Zeroizing<String>) -> Self {
        Self(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Note(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_is_short_plain_text_and_blank_is_none() {
        assert!(Note::parse(None).unwrap().is_none());
        assert!(Note::parse(Some("  \n ".into())).unwrap().is_none());
        let note = Note::parse(Some("  VPN password\nfor bob\t ".into())).unwrap();
        assert_eq!(note.unwrap().expose(), "VPN password\nfor bob");
        let longest = "é".repeat(MAX_NOTE_CHARS);
        assert!(Note::parse(Some(longest.clone())).unwrap().is_some());
        assert_eq!(
            Note::parse(Some(format!("{longest}x"))).unwrap_err(),
            ParamError::NoteTooLong(MAX_NOTE_CHARS)
        );
        assert_eq!(
            Note::parse(Some("bell\u{7}".into())).unwrap_err(),
            ParamError::InvalidNote
        );
        assert!(!format!("{:?}", Note::parse(Some("hidden".into())).unwrap()).contains("hidden"));
    }
}
