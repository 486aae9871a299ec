//! The capabilities: a secret's shareable `SecretKey` and its creator's private
//! `MetadataKey`; a request's `RequestKey` (sent out) and its requester's private
//! `InboxKey`. Knowing one is the right to use it, so none is ever
//! printed by `Debug`, logged, or stored in the clear.

use std::fmt;
use zeroize::Zeroizing;

/// Keys taken from a path longer than this cannot be ours; refuse to hash megabytes.
const MAX_PATH_KEY: usize = 128;

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

            /// Takes a key as a client sent it. Clients treat keys as opaque, so any
            /// short string is accepted; it simply will not match a record unless it
            /// is one of ours. Returns `None` for absurdly long input.
            pub fn from_path(raw: &str) -> Option<Self> {
                (!raw.is_empty() && raw.len() <= MAX_PATH_KEY)
                    .then(|| Self(Zeroizing::new(raw.to_owned())))
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
capability_key!(MetadataKey, "creator's private key to a secret's receipt");
capability_key!(
    RequestKey,
    "request's public key: the link that takes one answer"
);
capability_key!(
    InboxKey,
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
        let k = MetadataKey::issued(Zeroizing::new("k3y".repeat(10)));
        assert!(!format!("{k:?}").contains(k.expose()));
    }

    #[test]
    fn the_short_key_is_the_first_eight_characters() {
        let k = SecretKey::from_path("0123456789abc").unwrap();
        assert_eq!(k.short(), "01234567");
        assert!(SecretKey::from_path("").is_none());
        assert!(SecretKey::from_path(&"a".repeat(MAX_PATH_KEY + 1)).is_none());
    }
}
