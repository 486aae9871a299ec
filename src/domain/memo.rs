//! A receipt's memo (v2 `PATCH /receipt/{key}`): what its creator notes about
//! a secret they shared ("VPN for the new hire"), for their own list.

/// The longest memo kept, in characters; a longer one is cut there.
pub const MAX_MEMO_CHARS: usize = 500;

/// A memo as kept: plain text on one line (every run of white space, line
/// breaks included, is one space; other control characters go), trimmed, at
/// most [`MAX_MEMO_CHARS`] characters. Never interpreted: `<b>` stays the
/// three characters it is, and every face escapes what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memo(String);

impl Memo {
    /// Takes the `memo` parameter: missing or blank is no memo (clearing one).
    pub fn parse(raw: Option<&str>) -> Option<Self> {
        let mut text = String::new();
        for word in raw
            .unwrap_or_default()
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
        {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(word);
        }
        if text.is_empty() {
            return None;
        }
        Some(Self(text.chars().take(MAX_MEMO_CHARS).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memo_is_one_line_of_plain_text_cut_at_500_characters() {
        assert_eq!(Memo::parse(None), None);
        assert_eq!(Memo::parse(Some(" \n\t ")), None);
        let memo = Memo::parse(Some("  VPN\n\n for\u{7}  <b>bob</b> ")).unwrap();
        assert_eq!(memo.as_str(), "VPN for <b>bob</b>");
        let long = "é".repeat(MAX_MEMO_CHARS + 20);
        let cut = Memo::parse(Some(&long)).unwrap();
        assert_eq!(cut.as_str().chars().count(), MAX_MEMO_CHARS);
    }
}
