//! Keys that locate their record.
//!
//! Records are stored under increasing ids (creates append where the tree is
//! already in memory), so a key must lead to its id without showing it. A key is
//! 32 bytes written as 52 characters of `[0-9a-z]` (base 32):
//!
//! ```text
//! AES-256( id (8, big-endian) ‖ kind (1) ‖ 7 random bytes ) ‖ 16 random bytes
//! ```
//!
//! The AES key is derived from the master key, so without it the first block is
//! noise: its 7 random bytes make two keys for one id (a secret key and its
//! receipt key) look unrelated, and no key shows the order or the number of
//! secrets. The 23 random bytes (184 bits) are what makes a key unguessable: the
//! record stores a keyed hash of the whole key (its [`Check`]), and a key whose
//! block decrypts to a real id still opens nothing unless that hash matches
//! (compared in constant time). A key of the other kind decrypts to the wrong kind
//! byte and is refused before any lookup.

use aes::Aes256;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use ring::hmac;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{KeyKind, RecordId, fill_random};

use crate::domain::KEY_ALPHABET as ALPHABET;
/// What a key is written with is the domain's (paths are parsed there).
pub use crate::domain::KEY_CHARS;
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
    pub(super) fn issue(&self, kind: KeyKind, id: RecordId) -> (Zeroizing<String>, Check) {
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        fill_random(&mut bytes[8..]);
        bytes[..8].copy_from_slice(&id.get().to_be_bytes());
        bytes[8] = kind.tag();
        self.cipher
            .encrypt_block(GenericArray::from_mut_slice(&mut bytes[..BLOCK]));
        let key = encode(&bytes);
        let check = self.check(kind, &key);
        (key, check)
    }

    /// The record id a key of `kind` names, or `None` when it cannot be one of
    /// ours (wrong length or alphabet, or a key of the other kind). Says nothing
    /// about whether the key is genuine: that is [`Locator::verify`]'s part.
    pub(super) fn locate(&self, kind: KeyKind, key: &str) -> Option<RecordId> {
        let mut bytes = decode(key)?;
        self.cipher
            .decrypt_block(GenericArray::from_mut_slice(&mut bytes[..BLOCK]));
        (bytes[8] == kind.tag()).then(|| {
            RecordId::new(u64::from_be_bytes(
                bytes[..8].try_into().unwrap_or_default(),
            ))
        })
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

/// 32 bytes in base 32, most significant bits first, as exactly [`KEY_CHARS`]
/// characters: 4 zero bits, then 5 bits per character. Shifts and masks only (base
/// 36 needed a long division per character, which cost 4 µs a key).
///
/// Hand-written, not `data-encoding`'s base 32: that crate pads at the end (the
/// last character carries 4 unused bits), these keys at the front (the first
/// character is `0` or `1`), and every link already issued must keep working.
fn encode(bytes: &[u8; KEY_BYTES]) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(KEY_CHARS));
    let (mut acc, mut bits) = (0u32, 4u32); // the 4 leading zero bits
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            text.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    text
}

/// The inverse of [`encode`]; `None` for anything it cannot have produced (wrong
/// length, a character outside the alphabet, leading bits that are not zero).
fn decode(text: &str) -> Option<Zeroizing<[u8; KEY_BYTES]>> {
    if text.len() != KEY_CHARS {
        return None;
    }
    let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
    let (mut acc, mut bits, mut at) = (0u32, 0u32, 0usize);
    for (i, c) in text.bytes().enumerate() {
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        if i == 0 && value >= 2 {
            return None; // the first character holds 4 padding bits and 1 real one
        }
        acc = (acc << 5) | value;
        bits += 5;
        if i == 0 {
            bits -= 4;
        }
        if bits >= 8 {
            bits -= 8;
            bytes[at] = (acc >> bits) as u8;
            at += 1;
            acc &= (1 << bits) - 1;
        }
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locator() -> Locator {
        let (mut key, mut check) = ([0u8; 32], [0u8; 32]);
        fill_random(&mut key);
        fill_random(&mut check);
        Locator::new(&key, hmac::Key::new(hmac::HMAC_SHA256, &check))
    }

    #[test]
    fn base32_round_trips_at_the_edges_and_refuses_what_it_cannot_have_made() {
        let mut counting = [0u8; 32];
        for (i, byte) in counting.iter_mut().enumerate() {
            *byte = (i as u8).wrapping_mul(37).wrapping_add(1);
        }
        for bytes in [[0u8; 32], [0xff; 32], [0x5a; 32], counting] {
            let text = encode(&bytes);
            assert_eq!(text.len(), KEY_CHARS);
            assert_eq!(*decode(&text).unwrap(), bytes);
        }
        assert_eq!(&*encode(&[0u8; 32]), &"0".repeat(52));
        assert_eq!(&*encode(&[0xff; 32]), &format!("1{}", "z".repeat(51)));
        assert!(
            decode(&format!("2{}", "0".repeat(51))).is_none(),
            "past 2^256"
        );
        assert!(decode(&"0".repeat(51)).is_none());
        assert!(decode(&format!("{}A", "0".repeat(51))).is_none());
        assert!(decode(&format!("{}i", "0".repeat(51))).is_none());
    }

    #[test]
    fn a_key_finds_its_record_and_only_as_its_own_kind() {
        let locator = locator();
        let id = RecordId::new(41);
        let (secret, check) = locator.issue(KeyKind::Secret, id);
        assert_eq!(secret.len(), KEY_CHARS);
        assert!(secret.bytes().all(|c| ALPHABET.contains(&c)));
        assert_eq!(locator.locate(KeyKind::Secret, &secret), Some(id));
        assert!(locator.verify(KeyKind::Secret, &secret, &check));
        assert_eq!(locator.locate(KeyKind::Receipt, &secret), None);
        assert!(!locator.verify(KeyKind::Receipt, &secret, &check));
    }

    #[test]
    fn keys_for_one_id_share_nothing_visible_and_a_changed_tail_fails_its_check() {
        let locator = locator();
        let id = RecordId::new(7);
        let (a, check) = locator.issue(KeyKind::Secret, id);
        let (b, _) = locator.issue(KeyKind::Secret, id);
        assert_ne!(a[..24], b[..24], "the id is not visible in the key");
        let mut forged = a.to_string();
        let last = if forged.ends_with('0') { "1" } else { "0" };
        forged.replace_range(KEY_CHARS - 1.., last);
        assert_eq!(locator.locate(KeyKind::Secret, &forged), Some(id));
        assert!(!locator.verify(KeyKind::Secret, &forged, &check));
    }

    #[test]
    fn another_master_key_locates_nothing() {
        let (ours, theirs) = (locator(), locator());
        let (key, _) = ours.issue(KeyKind::Receipt, RecordId::new(3));
        // The block decrypts to noise: the kind byte matches by chance 1 in 256.
        let found = theirs.locate(KeyKind::Receipt, &key);
        assert_ne!(found, Some(RecordId::new(3)));
    }
}
