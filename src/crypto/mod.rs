//! Sealing: everything that turns keys and plaintext into bytes safe to store.
//!
//! One 32-byte master key is expanded (HKDF-SHA256) into
//! - a *locator*: every key carries its record's id under a keyed permutation, and
//!   the record holds only a keyed hash of the key (`locator`), so the database
//!   never holds a secret key or receipt key in the clear;
//! - a *seal root*: each value is sealed with AES-256-GCM under a key derived from the
//!   seal root, the secret key and, when set, the passphrase stretched by
//!   PBKDF2-HMAC-SHA256. Without the master key *and* the secret key a record is noise.
//!
//! A copy of the database alone therefore reveals no value, passphrase or key.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::{hkdf, hmac, pbkdf2};
use std::num::NonZeroU32;
use zeroize::Zeroizing;

use crate::domain::{Passphrase, PrivateKey, ReceiptKey, RequestKey, SecretKey};

mod locator;
mod master;

use locator::Locator;
pub use locator::{Check, KEY_CHARS};
pub use master::MasterKey;

/// Length of the master key and of every derived key.
pub const KEY_BYTES: usize = 32;
/// Salt length for PBKDF2.
pub const SALT_BYTES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("a master key must be 64 hexadecimal characters (32 bytes)")]
    BadMasterKey,
    #[error("sealing failed")]
    Seal,
}

/// Which of a secret's two keys: written inside the key, so a secret key can never
/// stand in for a receipt key or the other way round.
#[derive(Debug, Clone, Copy)]
pub enum KeyKind {
    Secret,
    Receipt,
    /// A request's public key: the link its answerer gets.
    Request,
    /// A request's private key: the link its requester reads the answer with.
    Private,
}

impl KeyKind {
    /// The byte written inside every key of this kind. Frozen: keys already
    /// handed out carry it (`I` is from when the private key was called the
    /// inbox key).
    fn tag(self) -> u8 {
        match self {
            Self::Secret => b'S',
            Self::Receipt => b'M',
            Self::Request => b'R',
            Self::Private => b'I',
        }
    }
}

/// Where a secret's one record is stored: a number from the store's increasing
/// sequence. Not secret on its own, but never shown: keys carry it encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(u64);

impl RecordId {
    pub fn new(id: u64) -> Self {
        Self(id)
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// The id as sealed bytes' associated data: they cannot be moved to another record.
    fn aad(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

/// A new secret's two keys, and what its record keeps of each.
pub struct IssuedKeys {
    pub secret: SecretKey,
    pub receipt: ReceiptKey,
    pub secret_check: Check,
    pub receipt_check: Check,
}

/// A new request's two keys, and what its record keeps of each.
pub struct IssuedRequestKeys {
    pub request: RequestKey,
    pub private: PrivateKey,
    pub request_check: Check,
    pub private_check: Check,
}

/// The key a request's note and answer are sealed under: random, and stored
/// only sealed under the request's own keys (see `Keyring::seal_answer_key`).
pub struct AnswerKey(Zeroizing<[u8; KEY_BYTES]>);

impl AnswerKey {
    /// 32 fresh bytes from the CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        fill_random(&mut bytes[..]);
        Self(bytes)
    }
}

/// The derivation labels of the keys sealed under a request's private key.
/// Frozen: stored records are sealed under them (the private key was once
/// called the inbox key, hence the words).
const PRIVATE_LABEL: &[u8] = b"otsd/inbox/v1";
const PRIVATE_LINK_LABEL: &[u8] = b"otsd/inbox-link/v1";

/// Which of a request's two keys a copy of its answer key is sealed under.
#[derive(Clone, Copy)]
pub enum Holder<'a> {
    Request(&'a RequestKey),
    Private(&'a PrivateKey),
}

/// What is sealed under an [`AnswerKey`]: each has its own derived key, so
/// sealed bytes of one cannot pass for the other.
#[derive(Debug, Clone, Copy)]
pub enum Sealed {
    Note,
    Answer,
}

/// How a passphrase was stretched for one secret. Stored with the record so that a
/// later change of the configured iteration count never orphans old secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stretch {
    pub salt: [u8; SALT_BYTES],
    pub iterations: u32,
}

/// The derived keys. Cheap to share behind an `Arc`; all methods are `&self`.
pub struct Keyring {
    locator: Locator,
    tokens: hmac::Key,
    key_check: [u8; 32],
    seal_root: hkdf::Prk,
    iterations: NonZeroU32,
}

/// Fills `buf` from the thread's CSPRNG: `rand`'s ThreadRng, a ChaCha generator
/// seeded from the operating system and reseeded as it goes. Every key, nonce and
/// salt comes from here; asking the kernel each time (`getrandom(2)`, four calls
/// per create) cost more than the rest of the sealing.
fn fill_random(buf: &mut [u8]) {
    rand::RngExt::fill(&mut rand::rng(), buf);
}

impl Keyring {
    /// Derives the index key and seal root from the master key. `iterations` is the
    /// PBKDF2 work factor for passphrases of *new* secrets.
    pub fn new(master: &MasterKey, iterations: NonZeroU32) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"otsd master v1").extract(master.bytes());
        let checks = prk
            .expand(&[b"otsd/check/v2"], hmac::HMAC_SHA256)
            .expect("HKDF output of 32 bytes is always valid")
            .into();
        let mut cipher_key = Zeroizing::new([0u8; KEY_BYTES]);
        prk.expand(&[b"otsd/locator/v2"], hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut cipher_key[..]))
            .expect("HKDF output of 32 bytes is always valid");
        let tokens = prk
            .expand(&[b"otsd/token/v1"], hmac::HMAC_SHA256)
            .expect("HKDF output of 32 bytes is always valid")
            .into();
        let seal_root = prk
            .expand(&[b"otsd/seal/v1"], hkdf::HKDF_SHA256)
            .expect("HKDF output of 32 bytes is always valid")
            .into();
        let mut key_check = [0u8; 32];
        prk.expand(&[b"otsd/key-check/v1"], hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut key_check))
            .expect("HKDF output of 32 bytes is always valid");
        Self {
            locator: Locator::new(&cipher_key, checks),
            tokens,
            key_check,
            seal_root,
            iterations,
        }
    }

    /// Fresh keys for the record `id`.
    pub fn issue_keys(&self, id: RecordId) -> IssuedKeys {
        let (secret, secret_check) = self.locator.issue(KeyKind::Secret, id);
        let (receipt, receipt_check) = self.locator.issue(KeyKind::Receipt, id);
        IssuedKeys {
            secret: SecretKey::issued(secret),
            receipt: ReceiptKey::issued(receipt),
            secret_check,
            receipt_check,
        }
    }

    /// Fresh keys for the request record `id`.
    pub fn issue_request_keys(&self, id: RecordId) -> IssuedRequestKeys {
        let (request, request_check) = self.locator.issue(KeyKind::Request, id);
        let (private, private_check) = self.locator.issue(KeyKind::Private, id);
        IssuedRequestKeys {
            request: RequestKey::issued(request),
            private: PrivateKey::issued(private),
            request_check,
            private_check,
        }
    }

    /// The record a key of `kind` names, if it can be one of ours; the record's
    /// check still has to pass [`Keyring::verify`].
    pub fn locate(&self, kind: KeyKind, key: &str) -> Option<RecordId> {
        self.locator.locate(kind, key)
    }

    /// Whether `key` is the key of `kind` whose check a record stores (constant time).
    pub fn verify(&self, kind: KeyKind, key: &str, stored: &Check) -> bool {
        self.locator.verify(kind, key, stored)
    }

    /// What a database stores to recognise this master key: an HKDF output of
    /// it under its own label, which neither reveals the key nor opens anything.
    pub fn key_check(&self) -> &[u8; 32] {
        &self.key_check
    }

    /// Whether `stored` is this master key's check (constant time).
    pub fn matches_key_check(&self, stored: &[u8; 32]) -> bool {
        subtle::ConstantTimeEq::ct_eq(&self.key_check[..], &stored[..]).into()
    }

    /// The stored form of an API token: a keyed hash. Tokens are long random
    /// strings, so a fast keyed hash is enough (no PBKDF2), and without the master key
    /// a copy of the database cannot even test guesses.
    pub fn token_hash(&self, token: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&self.tokens, token.as_bytes()).as_ref());
        out
    }

    /// The stored name of a web session: a keyed hash of its cookie's value
    /// (random, so a fast hash is enough). A copy of the database holds no
    /// cookie that would work.
    pub fn session_id(&self, cookie: &str) -> [u8; 32] {
        // Under the tokens' key, apart from them by a prefix no token has.
        let mut input = b"otsd/session/v1\0".to_vec();
        input.extend_from_slice(cookie.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(hmac::sign(&self.tokens, &input).as_ref());
        out
    }

    /// Seals what a sign-in with the OpenID provider must find again when the
    /// person comes back (its `state`, `nonce` and PKCE verifier), for a
    /// cookie: any node sharing the master key opens it, nobody else can read
    /// or forge it.
    pub fn seal_for_cookie(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.seal(
            &self.aead_key(&[b"otsd/oidc-login/v1"]),
            RecordId::new(0),
            plaintext,
        )
    }

    /// Opens what `seal_for_cookie` sealed.
    pub fn open_from_cookie(&self, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        open(
            &self.aead_key(&[b"otsd/oidc-login/v1"]),
            RecordId::new(0),
            sealed,
        )
    }

    /// A new `Stretch` (fresh salt, configured iterations) for a new passphrase.
    pub fn new_stretch(&self) -> Stretch {
        let mut salt = [0u8; SALT_BYTES];
        fill_random(&mut salt);
        Stretch {
            salt,
            iterations: self.iterations.get(),
        }
    }

    /// The AES key for a secret's value. With a passphrase this runs PBKDF2, which is
    /// deliberately slow: call it off the async workers.
    pub fn value_key(
        &self,
        secret: &SecretKey,
        passphrase: Option<(&Passphrase, &Stretch)>,
    ) -> ValueKey {
        let mut stretched = Zeroizing::new([0u8; KEY_BYTES]);
        let stretched_len = match passphrase {
            Some((pass, stretch)) => {
                let iterations = NonZeroU32::new(stretch.iterations).unwrap_or(NonZeroU32::MIN);
                pbkdf2::derive(
                    pbkdf2::PBKDF2_HMAC_SHA256,
                    iterations,
                    &stretch.salt,
                    pass.as_bytes(),
                    &mut stretched[..],
                );
                KEY_BYTES
            }
            None => 0,
        };
        let key_len = (secret.expose().len() as u32).to_be_bytes();
        ValueKey(self.aead_key(&[
            b"otsd/value/v1",
            &key_len,
            secret.expose().as_bytes(),
            &stretched[..stretched_len],
        ]))
    }

    /// Seals a secret key inside its receipt, under a key derived from the receipt
    /// key: only the holder of the receipt key can read the secret key back.
    pub fn seal_secret_key(
        &self,
        receipt: &ReceiptKey,
        id: RecordId,
        secret: &SecretKey,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal(
            &self.under_receipt_key(receipt),
            id,
            secret.expose().as_bytes(),
        )
    }

    /// Opens what `seal_secret_key` sealed; `None` if the bytes were not made for
    /// this receipt key.
    pub fn open_secret_key(
        &self,
        receipt: &ReceiptKey,
        id: RecordId,
        sealed: &[u8],
    ) -> Option<SecretKey> {
        let plain = open(&self.under_receipt_key(receipt), id, sealed)?;
        std::str::from_utf8(&plain)
            .ok()
            .and_then(SecretKey::from_path)
    }

    /// Seals a receipt key so the server (master key holder) can list an account's
    /// receipts later, while a copy of the database alone cannot.
    pub fn seal_receipt_key(
        &self,
        id: RecordId,
        receipt: &ReceiptKey,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal(&self.owner_key(), id, receipt.expose().as_bytes())
    }

    /// Opens what `seal_receipt_key` sealed.
    pub fn open_receipt_key(&self, id: RecordId, sealed: &[u8]) -> Option<ReceiptKey> {
        let plain = open(&self.owner_key(), id, sealed)?;
        std::str::from_utf8(&plain)
            .ok()
            .and_then(ReceiptKey::from_path)
    }

    /// Seals a generated value for its receipt's first read (v2's handover),
    /// under a key derived from the receipt key: only the creator, who holds
    /// it, reads it back, and a passphrase on the secret does not stand in
    /// the way of the one who chose it.
    pub fn seal_handover(
        &self,
        receipt: &ReceiptKey,
        id: RecordId,
        value: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal(&self.handover_key(receipt), id, value)
    }

    /// Opens what `seal_handover` sealed.
    pub fn open_handover(
        &self,
        receipt: &ReceiptKey,
        id: RecordId,
        sealed: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        open(&self.handover_key(receipt), id, sealed)
    }

    fn handover_key(&self, receipt: &ReceiptKey) -> LessSafeKey {
        self.key_under(b"otsd/handover/v1", receipt.expose().as_bytes())
    }

    /// Seals a receipt's memo under the server's key: the server shows it to
    /// the receipt's holder and in its owner's list; a copy of the database
    /// alone does not say what a secret was for.
    pub fn seal_memo(&self, id: RecordId, memo: &str) -> Result<Vec<u8>, CryptoError> {
        self.seal(&self.aead_key(&[b"otsd/memo/v1"]), id, memo.as_bytes())
    }

    /// Opens what `seal_memo` sealed.
    pub fn open_memo(&self, id: RecordId, sealed: &[u8]) -> Option<String> {
        let plain = open(&self.aead_key(&[b"otsd/memo/v1"]), id, sealed)?;
        std::str::from_utf8(&plain).ok().map(str::to_owned)
    }

    /// Seals a request's private key so the server can list an account's
    /// requests later, while a copy of the database alone cannot.
    pub fn seal_private_key(
        &self,
        id: RecordId,
        private: &PrivateKey,
    ) -> Result<Vec<u8>, CryptoError> {
        let under = self.aead_key(&[b"otsd/owner-request/v1"]);
        self.seal(&under, id, private.expose().as_bytes())
    }

    /// Opens what `seal_private_key` sealed.
    pub fn open_private_key(&self, id: RecordId, sealed: &[u8]) -> Option<PrivateKey> {
        let plain = open(&self.aead_key(&[b"otsd/owner-request/v1"]), id, sealed)?;
        std::str::from_utf8(&plain)
            .ok()
            .and_then(PrivateKey::from_path)
    }

    /// Seals a value under a `ValueKey`, bound to the record id it is stored under.
    pub fn seal_value(
        &self,
        key: &ValueKey,
        id: RecordId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal(&key.0, id, plaintext)
    }

    fn under_receipt_key(&self, receipt: &ReceiptKey) -> LessSafeKey {
        self.key_under(b"otsd/receipt/v1", receipt.expose().as_bytes())
    }

    /// An AES key derived from the seal root, a label and one key's bytes
    /// (length-prefixed, so no two inputs run together).
    fn key_under(&self, label: &[u8], key: &[u8]) -> LessSafeKey {
        let len = (key.len() as u32).to_be_bytes();
        self.aead_key(&[label, &len, key])
    }

    /// Seals a request's answer key under a key derived from one of the
    /// request's keys: the request key's copy lets an answer be sealed while
    /// the request is open (it goes when answered), the private key's copy is
    /// the one only the requester can open.
    pub fn seal_answer_key(
        &self,
        holder: Holder<'_>,
        id: RecordId,
        key: &AnswerKey,
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal(&self.holder_key(holder), id, &key.0[..])
    }

    /// Opens what `seal_answer_key` sealed for the same holder.
    pub fn open_answer_key(
        &self,
        holder: Holder<'_>,
        id: RecordId,
        sealed: &[u8],
    ) -> Option<AnswerKey> {
        answer_key(open(&self.holder_key(holder), id, sealed)?)
    }

    fn holder_key(&self, holder: Holder<'_>) -> LessSafeKey {
        match holder {
            Holder::Request(key) => self.key_under(b"otsd/request/v1", key.expose().as_bytes()),
            Holder::Private(key) => self.key_under(PRIVATE_LABEL, key.expose().as_bytes()),
        }
    }

    /// Seals a request's key under its private key, so the requester's page can show
    /// the request link again while it waits.
    pub fn seal_request_key(
        &self,
        private: &PrivateKey,
        id: RecordId,
        request: &RequestKey,
    ) -> Result<Vec<u8>, CryptoError> {
        let under = self.key_under(PRIVATE_LINK_LABEL, private.expose().as_bytes());
        self.seal(&under, id, request.expose().as_bytes())
    }

    /// Opens what `seal_request_key` sealed.
    pub fn open_request_key(
        &self,
        private: &PrivateKey,
        id: RecordId,
        sealed: &[u8],
    ) -> Option<RequestKey> {
        let under = self.key_under(PRIVATE_LINK_LABEL, private.expose().as_bytes());
        let plain = open(&under, id, sealed)?;
        std::str::from_utf8(&plain)
            .ok()
            .and_then(RequestKey::from_path)
    }

    /// Seals a request's note or answer under its answer key.
    pub fn seal_under(
        &self,
        key: &AnswerKey,
        what: Sealed,
        id: RecordId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.seal(&self.answer_aead(key, what), id, plaintext)
    }

    /// Opens what `seal_under` sealed.
    pub fn open_under(
        &self,
        key: &AnswerKey,
        what: Sealed,
        id: RecordId,
        sealed: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        open(&self.answer_aead(key, what), id, sealed)
    }

    fn answer_aead(&self, key: &AnswerKey, what: Sealed) -> LessSafeKey {
        let label: &[u8] = match what {
            Sealed::Note => b"otsd/request-note/v1",
            Sealed::Answer => b"otsd/request-answer/v1",
        };
        self.key_under(label, &key.0[..])
    }

    fn owner_key(&self) -> LessSafeKey {
        self.aead_key(&[b"otsd/owner/v1"])
    }

    fn aead_key(&self, info: &[&[u8]]) -> LessSafeKey {
        let okm = self
            .seal_root
            .expand(info, &AES_256_GCM)
            .expect("HKDF output of 32 bytes is always valid");
        LessSafeKey::new(UnboundKey::from(okm))
    }

    /// `nonce ‖ ciphertext ‖ tag`, with the record id as associated data so sealed
    /// bytes cannot be moved to another record.
    fn seal(
        &self,
        key: &LessSafeKey,
        id: RecordId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce);
        let mut buf = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
        buf.extend_from_slice(&nonce);
        let mut body = Zeroizing::new(plaintext.to_vec());
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(id.aad()),
                &mut body[..],
            )
            .map_err(|_| CryptoError::Seal)?;
        buf.extend_from_slice(&body);
        buf.extend_from_slice(tag.as_ref());
        Ok(buf)
    }
}

/// The AES key of one secret's value.
pub struct ValueKey(LessSafeKey);

impl ValueKey {
    /// The plaintext, or `None` when the key (secret key or passphrase) is wrong.
    pub fn open(&self, id: RecordId, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        open(&self.0, id, sealed)
    }
}

/// An answer key from opened bytes, if they are one.
fn answer_key(plain: Zeroizing<Vec<u8>>) -> Option<AnswerKey> {
    let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
    (plain.len() == KEY_BYTES).then(|| {
        bytes.copy_from_slice(&plain);
        AnswerKey(bytes)
    })
}

fn open(key: &LessSafeKey, id: RecordId, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buf = Zeroizing::new(body.to_vec());
    let len = key
        .open_in_place(nonce, Aad::from(id.aad()), &mut buf[..])
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::new(
            &MasterKey::generate().unwrap(),
            NonZeroU32::new(1000).unwrap(),
        )
    }

    #[test]
    fn a_value_opens_only_with_the_same_secret_key_and_passphrase() {
        let ring = keyring();
        let id = RecordId::new(1);
        let sk = ring.issue_keys(id).secret;
        let pass = Passphrase::attempt(Some("correct horse".into())).unwrap();
        let stretch = ring.new_stretch();
        let sealed = ring
            .seal_value(
                &ring.value_key(&sk, Some((&pass, &stretch))),
                id,
                b"hunter2",
            )
            .unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));

        let good = ring.value_key(&sk, Some((&pass, &stretch)));
        assert_eq!(&good.open(id, &sealed).unwrap()[..], b"hunter2");
        let wrong = Passphrase::attempt(Some("wrong".into())).unwrap();
        assert!(
            ring.value_key(&sk, Some((&wrong, &stretch)))
                .open(id, &sealed)
                .is_none()
        );
        assert!(ring.value_key(&sk, None).open(id, &sealed).is_none());
        let other = ring.issue_keys(id).secret;
        assert!(
            ring.value_key(&other, Some((&pass, &stretch)))
                .open(id, &sealed)
                .is_none()
        );
        assert!(
            good.open(RecordId::new(2), &sealed).is_none(),
            "bound to its record id"
        );
    }

    #[test]
    fn secret_key_round_trips_through_the_receipt_only_with_the_receipt_key() {
        let ring = keyring();
        let id = RecordId::new(9);
        let keys = ring.issue_keys(id);
        let sealed = ring
            .seal_secret_key(&keys.receipt, id, &keys.secret)
            .unwrap();
        assert_eq!(
            ring.open_secret_key(&keys.receipt, id, &sealed).unwrap(),
            keys.secret
        );
        let stranger = ring.issue_keys(id).receipt;
        assert!(ring.open_secret_key(&stranger, id, &sealed).is_none());
    }

    #[test]
    fn issued_keys_locate_their_record_under_this_master_key_only() {
        let (a, b) = (keyring(), keyring());
        let id = RecordId::new(5);
        let keys = a.issue_keys(id);
        let (secret, receipt) = (keys.secret.expose(), keys.receipt.expose());
        assert_eq!(a.locate(KeyKind::Secret, secret), Some(id));
        assert_eq!(a.locate(KeyKind::Receipt, receipt), Some(id));
        assert!(a.verify(KeyKind::Secret, secret, &keys.secret_check));
        assert!(a.verify(KeyKind::Receipt, receipt, &keys.receipt_check));
        assert!(!a.verify(KeyKind::Receipt, secret, &keys.receipt_check));
        assert!(!b.verify(KeyKind::Secret, secret, &keys.secret_check));
        assert_ne!(b.locate(KeyKind::Secret, secret), Some(id));
    }

    #[test]
    fn a_request_answer_opens_with_either_copy_of_its_key_and_nothing_else() {
        let ring = keyring();
        let id = RecordId::new(11);
        let keys = ring.issue_request_keys(id);
        let answer_key = AnswerKey::generate();
        let for_request = ring
            .seal_answer_key(Holder::Request(&keys.request), id, &answer_key)
            .unwrap();
        let for_private = ring
            .seal_answer_key(Holder::Private(&keys.private), id, &answer_key)
            .unwrap();
        let sealed = ring
            .seal_under(&answer_key, Sealed::Answer, id, b"s3cret")
            .unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
        let by_request = ring
            .open_answer_key(Holder::Request(&keys.request), id, &for_request)
            .unwrap();
        let by_private = ring
            .open_answer_key(Holder::Private(&keys.private), id, &for_private)
            .unwrap();
        for key in [&by_request, &by_private] {
            let opened = ring.open_under(key, Sealed::Answer, id, &sealed).unwrap();
            assert_eq!(&opened[..], b"s3cret");
            assert!(ring.open_under(key, Sealed::Note, id, &sealed).is_none());
        }
        let other = ring.issue_request_keys(id);
        let opens = |holder, id, sealed: &[u8]| ring.open_answer_key(holder, id, sealed).is_some();
        assert!(!opens(Holder::Private(&other.private), id, &for_private));
        assert!(!opens(Holder::Request(&other.request), id, &for_request));
        assert!(
            !opens(Holder::Private(&keys.private), id, &for_request),
            "each copy opens with its own key only"
        );
        assert!(
            !opens(
                Holder::Request(&keys.request),
                RecordId::new(12),
                &for_request
            ),
            "bound to its record"
        );
        let link = ring
            .seal_request_key(&keys.private, id, &keys.request)
            .unwrap();
        assert_eq!(
            ring.open_request_key(&keys.private, id, &link).unwrap(),
            keys.request
        );
        assert_eq!(
            ring.locate(KeyKind::Request, keys.request.expose()),
            Some(id)
        );
        assert_eq!(ring.locate(KeyKind::Private, keys.request.expose()), None);
    }

    #[test]
    fn master_key_hex_round_trips() {
        let k = MasterKey::generate().unwrap();
        let again = MasterKey::from_hex(&k.to_hex()).unwrap();
        assert_eq!(k.bytes(), again.bytes());
        assert!(MasterKey::from_hex("zz").is_err());
    }
}
