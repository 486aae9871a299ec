//! The two capabilities of a secret: the shareable `SecretKey` and the creator's
//! private `MetadataKey`. Knowing one is the right to use it, so neither is ever
//! printed by `Debug`, logged, or stored in the clear.

use rand::RngExt;
use std::fmt;
use zeroize::Zeroizing;

/// Alphabet of generated keys: what Onetime Secret uses, so clients see familiar keys.
const KEY_ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// 31 characters of base 36 are ~160 bits: unguessable, and the length clients expect.
const KEY_LENGTH: usize = 31;
/// Keys taken from a path longer than this cannot be ours; refuse to hash megabytes.
const MAX_PATH_KEY: usize = 128;

fn random_key() -> Zeroizing<String> {
    // ThreadRng is a ChaCha CSPRNG seeded (and periodically reseeded) from the OS.
    let mut rng = rand::rng();
    let key: String = (0..KEY_LENGTH)
        .map(|_| KEY_ALPHABET[rng.random_range(0..KEY_ALPHABET.len())] as char)
        .collect();
    Zeroizing::new(key)
}

macro_rules! capability_key {
    ($name:ident, $what:literal) => {
        #[doc = concat!("A ", $what, ": an opaque, unguessable string. `Debug` redacts it.")]
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// A fresh key from the CSPRNG.
            pub fn generate() -> Self {
                Self(random_key())
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

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

capability_key!(SecretKey, "key that reveals a secret once");
capability_key!(MetadataKey, "creator's private key to a secret's receipt");

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
    fn generated_keys_are_31_base36_characters_and_differ() {
        let a = SecretKey::generate();
        let b = SecretKey::generate();
        assert_eq!(a.expose().len(), 31);
        assert!(a.expose().bytes().all(|c| KEY_ALPHABET.contains(&c)));
        assert_ne!(a, b);
        assert_eq!(a.short(), &a.expose()[..8]);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = MetadataKey::generate();
        assert!(!format!("{k:?}").contains(k.expose()));
    }
}
