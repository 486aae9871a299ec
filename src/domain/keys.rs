//! The capabilities: a secret's shareable `SecretKey` and its creator's private
//! `ReceiptKey`; a request's `RequestKey` (sent out) and its requester's private
//! `PrivateKey`. Knowing one is the right to use it, so none is ever
//! printed by `Debug`, logged, or stored in the clear.

use std::fmt;
use zeroize::Zeroizing;

/// Characters in every key otsd issues: 256 bits at 5 bits a character (see
/// `crypto::locator`).
pub const KEY_CHARS: usize = 52;
/// The characters keys are made of: 32 of the 36 that Onetime Secret keys use
/// (`[0-9a-z]`, so clients see familiar keys), without the easily misread
/// `i l o u` (Crockford's choice).
pub const KEY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Whether `raw` is written the way every issued key is: [`KEY_CHARS`]
/// characters of [`KEY_ALPHABET`]. Anything else cannot be one of ours.
fn is_key_shaped(raw: &str) -> bool {
    raw.len() == KEY_CHARS && raw.bytes().all(|b| KEY_ALPHABET.contains(&b))
}

/// A key as a client may send it in a path (see `from_path` on each key).
pub trait FromPath: Sized {
    fn from_path(raw: &str) -> Option<Self>;
}

macro_rules! capability_key {
    ($name:ident, $what:literal) => {
        #[doc = concat!("A ", $what, ": an opaque, unguessable string. `Debug` redacts it.")]
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// A key the keyring just issued (see `crypto::Keyring::issue_keys`):
            /// only it knows how keys locate their records.
            pub(crate) fn issued(key: Zeroizing<String>) -> Self {
                Self(key)
            }

            /// Takes a key as a client sent it, parsed strictly: `None` unless it
            /// is written as every issued key is ([`KEY_CHARS`] characters of
            /// [`KEY_ALPHABET`]). So a key, once parsed, is safe anywhere a path
            /// is: in a page, a link, a redirect's `Location`, a cookie's `Path`
            /// (no control byte, space, slash or quote can be in it). Whether it
            /// names a record is the locator's question.
            pub fn from_path(raw: &str) -> Option<Self> {
                is_key_shaped(raw).then(|| Self(Zeroizing::new(raw.to_owned())))
            }

            /// The key as text, for the response body only.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl FromPath for $name {
            fn from_path(raw: &str) -> Option<Self> {
                Self::from_path(raw)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

capability_key!(SecretKey, "key that reveals a secret once");
capability_key!(ReceiptKey, "creator's private key to a secret's receipt");
capability_key!(
    RequestKey,
    "request's public key: the link that takes one answer"
);
// `private_key` in `/api/requests`' JSON and routes; the page is at
// `/request/{key}` (see `http::web`). Not an asymmetric key: a capability like
// the others.
capability_key!(
    PrivateKey,
    "requester's private key to a request and its answer"
);

impl SecretKey {
    /// The first 8 characters: what the burn response calls `secret_shortkey`.
    pub fn short(&self) -> &str {
        let end = self
            .0
            .char_indices()
            .nth(8)
            .map_or(self.0.len(), |(i, _)| i);
        &self.0[..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let k = ReceiptKey::issued(Zeroizing::new("k3y".repeat(10)));
        assert!(!format!("{k:?}").contains(k.expose()));
    }

    #[test]
    fn the_short_key_is_the_first_eight_characters() {
        let k = SecretKey::from_path(&format!("0123456789{}", "a".repeat(42))).unwrap();
        assert_eq!(k.short(), "01234567");
    }

    #[test]
    fn only_text_written_as_an_issued_key_parses_as_one() {
        let good = "0123456789abcdefghjkmnpqrstvwxyz".repeat(2)[..KEY_CHARS].to_owned();
        assert!(PrivateKey::from_path(&good).is_some());
        assert!(PrivateKey::from_path("").is_none());
        assert!(PrivateKey::from_path(&good[1..]).is_none(), "too short");
        assert!(
            PrivateKey::from_path(&format!("{good}0")).is_none(),
            "too long"
        );
        for intruder in [
            '\r', '\n', '\0', '\t', '\x0b', '\x1b', '\x7f', ' ', '/', 'A', 'i', 'é',
        ] {
            let mut bad: String = good.chars().take(KEY_CHARS - 1).collect();
            bad.push(intruder);
            assert!(PrivateKey::from_path(&bad).is_none(), "{intruder:?}");
            assert!(SecretKey::from_path(&bad).is_none(), "{intruder:?}");
        }
    }
}
