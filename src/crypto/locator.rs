//! Keys that locate their record.
//!
//! Records are stored under increasing ids (creates append where the tree is
//! already in memory), so a key must lead to its id without showing it. A key is
//! 32 bytes written as 50 characters of `[0-9a-z]`:
//!
//! ```text
//! AES-256( id (8, big-endian) ‖ kind (1) ‖ 7 random bytes ) ‖ 16 random bytes
//! ```
//!
//! The AES key is derived from the master key, so without it the first block is
//! noise: its 7 random bytes make two keys for one id (a secret key and its
//! metadata key) look unrelated, and no key shows the order or the number of
//! secrets. The 23 random bytes (184 bits) are what makes a key unguessable: the
//! record stores a keyed hash of the whole key (its [`Check`]), and a key whose
//! block decrypts to a real id still opens nothing unless that hash matches
//! (compared in constant time). A key of the other kind decrypts to the wrong kind
//! byte and is refused before any lookup.

use aes::Aes256;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{CryptoError, KeyKind, RecordId};

/// Characters in every key: 36^50 > 2^256, so 32 bytes always fit.
pub const KEY_CHARS: usize = 50;
/// Alphabet of keys: what Onetime Secret uses, so clients see familiar keys.
const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const KEY_BYTES: usize = 32;
const BLOCK: usize = 16;

/// What a record keeps of one of its keys: a truncated keyed hash, enough to
/// refuse a forged key (2^-128 per guess) and useless for finding the key.
pub type Check = [u8; 16];

pub(super) struct Locator {
    cipher: Aes256,
    check: hmac::Key,
}

impl Locator {
    pub(super) fn new(cipher_key: &[u8; 32], check: hmac::Key) -> Self {
        Self {
            cipher: Aes256::new(GenericArray::from_slice(cipher_key)),
            check,
        }
    }

    /// A fresh key of `kind` for record `id`, and the check its record stores.
    pub(super) fn issue(
        &self,
        kind: KeyKind,
        id: RecordId,
        random: &SystemRandom,
    ) -> Result<(Zeroizing<String>, Check), CryptoError> {
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        random
            .fill(&mut bytes[8..])
            .map_err(|_| CryptoError::Random)?;
        bytes[..8].copy_from_slice(&id.get().to_be_bytes());
        bytes[8] = kind.tag();
        self.cipher
            .encrypt_block(GenericArray::from_mut_slice(&mut bytes[..BLOCK]));
        let key = encode(&bytes);
        let check = self.check(kind, &key);
        Ok((key, check))
    }

    /// The record id a key of `kind` names, or `None` when it cannot be one of
    /// ours (wrong length or alphabet, or a key of the other kind). Says nothing
    /// about whether the key is genuine: that is [`Locator::verify`]'s part.
    pub(super) fn locate(&self, kind: KeyKind, key: &str) -> Option<RecordId> {
        let mut bytes = decode(key)?;
        self.cipher
            .decrypt_block(GenericArray::from_mut_slice(&mut bytes[..BLOCK]));
        (bytes[8] == kind.tag())
            .then(|| RecordId::new(u64::from_be_bytes(bytes[..8].try_into().unwrap_or_default())))
    }

    /// Whether `key` is the key whose check a record stores; constant time.
    pub(super) fn verify(&self, kind: KeyKind, key: &str, stored: &Check) -> bool {
        self.check(kind, key).ct_eq(stored).into()
    }

    fn check(&self, kind: KeyKind, key: &str) -> Check {
        let mut ctx = hmac::Context::with_key(&self.check);
        ctx.update(&[kind.tag()]);
        ctx.update(key.as_bytes());
        let mut check = [0u8; 16];
        check.copy_from_slice(&ctx.sign().as_ref()[..16]);
        check
    }
}

/// 32 bytes as a big-endian number in base 36, exactly [`KEY_CHARS`] digits.
fn encode(bytes: &[u8; KEY_BYTES]) -> Zeroizing<String> {
    let mut number = Zeroizing::new(*bytes);
    let mut digits = Zeroizing::new([0u8; KEY_CHARS]);
    for digit in digits.iter_mut().rev() {
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 36) as u8;
            remainder = value % 36;
        }
        *digit = ALPHABET[remainder as usize];
    }
    let text: String = digits.iter().map(|&d| d as char).collect();
    Zeroizing::new(text)
}

/// The inverse of [`encode`]; `None` for anything it cannot have produced.
fn decode(text: &str) -> Option<Zeroizing<[u8; KEY_BYTES]>> {
    if text.len() != KEY_CHARS {
        return None;
    }
    let mut number = Zeroizing::new([0u8; KEY_BYTES]);
    for c in text.bytes() {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'z' => c - b'a' + 10,
            _ => return None,
        };
        let mut carry = u32::from(digit);
        for byte in number.iter_mut().rev() {
            let value = u32::from(*byte) * 36 + carry;
            *byte = value as u8;
            carry = value >> 8;
        }
        if carry != 0 {
            return None; // past 2^256
        }
    }
    Some(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locator() -> Locator {
        let mut key = [0u8; 32];
        SystemRandom::new().fill(&mut key).unwrap();
        Locator::new(
            &key,
            hmac::Key::generate(hmac::HMAC_SHA256, &SystemRandom::new()).unwrap(),
        )
    }

    #[test]
    fn base36_round_trips_at_the_edges() {
        for bytes in [[0u8; 32], [0xff; 32], [0x5a; 32]] {
            let text = encode(&bytes);
            assert_eq!(text.len(), KEY_CHARS);
            assert_eq!(*decode(&text).unwrap(), bytes);
        }
        assert_eq!(&*encode(&[0u8; 32]), &"0".repeat(50));
        assert!(decode(&"z".repeat(50)).is_none(), "36^50 - 1 is past 2^256");
        assert!(decode(&"0".repeat(49)).is_none());
        assert!(decode(&format!("{}A", "0".repeat(49))).is_none());
    }

    #[test]
    fn a_key_finds_its_record_and_only_as_its_own_kind() {
        let (locator, random) = (locator(), SystemRandom::new());
        let id = RecordId::new(41);
        let (secret, check) = locator.issue(KeyKind::Secret, id, &random).unwrap();
        assert_eq!(secret.len(), KEY_CHARS);
        assert!(secret.bytes().all(|c| ALPHABET.contains(&c)));
        assert_eq!(locator.locate(KeyKind::Secret, &secret), Some(id));
        assert!(locator.verify(KeyKind::Secret, &secret, &check));
        assert_eq!(locator.locate(KeyKind::Metadata, &secret), None);
        assert!(!locator.verify(KeyKind::Metadata, &secret, &check));
    }

    #[test]
    fn keys_for_one_id_share_nothing_visible_and_a_changed_tail_fails_its_check() {
        let (locator, random) = (locator(), SystemRandom::new());
        let id = RecordId::new(7);
        let (a, check) = locator.issue(KeyKind::Secret, id, &random).unwrap();
        let (b, _) = locator.issue(KeyKind::Secret, id, &random).unwrap();
        assert_ne!(a[..24], b[..24], "the id is not visible in the key");
        let mut forged = a.to_string();
        let last = if forged.ends_with('0') { "1" } else { "0" };
        forged.replace_range(KEY_CHARS - 1.., last);
        assert_eq!(locator.locate(KeyKind::Secret, &forged), Some(id));
        assert!(!locator.verify(KeyKind::Secret, &forged, &check));
    }

    #[test]
    fn another_master_key_locates_nothing() {
        let random = SystemRandom::new();
        let (ours, theirs) = (locator(), locator());
        let (key, _) = ours
            .issue(KeyKind::Metadata, RecordId::new(3), &random)
            .unwrap();
        // The block decrypts to noise: the kind byte matches by chance 1 in 256.
        let found = theirs.locate(KeyKind::Metadata, &key);
        assert_ne!(found, Some(RecordId::new(3)));
    }
}
