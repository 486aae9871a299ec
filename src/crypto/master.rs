//! The server's master key: made from the CSPRNG, read from and written to
//! its file as hex, never shown.

use std::fmt;

use data_encoding::{HEXLOWER, HEXLOWER_PERMISSIVE};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::{CryptoError, KEY_BYTES};

/// The server's master key. `Debug` redacts it; it is wiped when dropped.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; KEY_BYTES]>);

impl MasterKey {
    /// 32 fresh bytes from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        SystemRandom::new()
            .fill(&mut bytes[..])
            .map_err(|_| CryptoError::Random)?;
        Ok(Self(bytes))
    }

    /// Parses the key from 64 hexadecimal characters (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        let text = text.trim().as_bytes();
        match HEXLOWER_PERMISSIVE.decode_len(text.len()) {
            Ok(KEY_BYTES) => {}
            _ => return Err(CryptoError::BadMasterKey),
        }
        HEXLOWER_PERMISSIVE
            .decode_mut(text, &mut bytes[..])
            .map_err(|_| CryptoError::BadMasterKey)?;
        Ok(Self(bytes))
    }

    /// The key itself, for deriving the keyring's keys.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.0[..]
    }

    /// The key as 64 lowercase hexadecimal characters, for writing the key file.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(HEXLOWER.encode(&self.0[..]))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}
