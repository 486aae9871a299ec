//! Accounts: a name and an API token, managed from the command line.
//!
//! Only a keyed hash of each token is stored. Checking credentials does the same
//! work whether or not the account exists — one token hash, one lookup, one
//! constant-time comparison (against a decoy hash for an unknown name) — so
//! response time does not tell which names exist.

use std::fmt;
use std::sync::Arc;

use rand::RngExt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::clock::unix_now;
use crate::crypto::Keyring;
use crate::domain::ANONYMOUS;
use crate::store::{AccountRecord, Store, StoreError};

const TOKEN_ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
/// 40 base-36 characters: about 206 bits from the CSPRNG.
const TOKEN_LENGTH: usize = 40;
const MAX_NAME: usize = 128;

/// An account name: 1–128 characters of letters, digits and `. _ @ + -` (an email
/// address works). No `:` (HTTP Basic splits on it), no white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName(String);

impl AccountName {
    pub fn parse(raw: &str) -> Result<Self, AccountError> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_NAME
            && raw != ANONYMOUS
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._@+-".contains(c));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(AccountError::InvalidName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An API token, shown once when made. `Debug` redacts it; wiped when dropped.
pub struct ApiToken(Zeroizing<String>);

impl ApiToken {
    fn generate() -> Self {
        let mut rng = rand::rng();
        Self(Zeroizing::new(
            (0..TOKEN_LENGTH)
                .map(|_| TOKEN_ALPHABET[rng.random_range(0..TOKEN_ALPHABET.len())] as char)
                .collect(),
        ))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// The fewest characters a web password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The most bytes a web password may have: Argon2 takes any length, but a
/// megabyte of "password" is a way to make the server work, not a password.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A web password as typed: `Debug` redacts it; wiped when dropped.
pub struct Password(Zeroizing<String>);

impl Password {
    /// A password to set: at least [`MIN_PASSWORD_CHARS`] characters, at
    /// most [`MAX_PASSWORD_BYTES`] bytes.
    pub fn new(raw: Zeroizing<String>) -> Result<Self, AccountError> {
        if raw.chars().count() < MIN_PASSWORD_CHARS || raw.len() > MAX_PASSWORD_BYTES {
            return Err(AccountError::InvalidPassword);
        }
        Ok(Self(raw))
    }

    /// A password presented at sign-in: anything up to the byte limit (a
    /// longer one cannot be right, and is not worth hashing).
    pub fn attempt(raw: Zeroizing<String>) -> Option<Self> {
        (raw.len() <= MAX_PASSWORD_BYTES).then_some(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Argon2id with OWASP's first recommended setting (19 MiB, 2 passes, one
/// lane): about 30 ms per hash on a small server, and what a stolen hash
/// costs its attacker per guess.
fn argon2() -> argon2::Argon2<'static> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// The PHC string of `password`'s Argon2id hash, with a fresh random salt.
pub fn hash_password(password: &Password) -> Result<String, AccountError> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| AccountError::InvalidPassword)
}

/// The hash checked when there is no real one to check (an unknown name, an
/// account without a password): made once, of a random password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let random = Zeroizing::new(format!("{:032x}", rand::random::<u128>()));
        hash_password(&Password(random)).unwrap_or_default()
    })
}

/// Whether `password` is the one `phc` was made from. The comparison of the
/// hashes is the crate's, in constant time.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|hash| {
        argon2()
            .verify_password(password.expose().as_bytes(), &hash)
            .is_ok()
    })
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a password is {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} bytes of characters")]
    InvalidPassword,
    #[error("an account name is 1 to 128 letters, digits or . _ @ + - (and not \"anon\")")]
    InvalidName,
    #[error("an account with that name already exists")]
    Exists,
    #[error("no such account")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One line of `otsd user list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountInfo {
    pub name: String,
    /// The name the official client sends (see [`AccountRecord::extid`]).
    #[serde(default)]
    pub extid: String,
    pub created: u64,
    pub updated: u64,
}

/// A token just issued, and the account's extid (shown with it).
pub struct Issued {
    pub token: ApiToken,
    pub extid: String,
}

/// Account management and authentication. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    store: Store,
    keyring: Arc<Keyring>,
    /// Compared against when the account does not exist, so that path does the
    /// same work as a wrong token.
    decoy: [u8; 32],
    /// Password checks running at once. Each Argon2id check holds 19 MiB for
    /// its whole run, and the rate limiter bounds guesses per address and per
    /// name, not how many addresses guess at once: unbounded, a crowd of
    /// sign-ins (one blocking thread each, up to tokio's 512) would hold
    /// gigabytes. One check per core keeps the cores busy and the memory at
    /// cores × 19 MiB; the rest wait their turn, holding nothing but their
    /// request, and a client that leaves gives up its place.
    password_checks: Arc<tokio::sync::Semaphore>,
}

/// How many Argon2id checks may run at once: one per core the process may use.
fn password_check_slots() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Compares a presented token hash with a stored (or decoy) one. The seam through
/// which the tests watch what a credential check really compares.
type Compare<'a> = &'a mut dyn FnMut(&[u8; 32], &[u8; 32]) -> bool;

/// The comparison every real check uses: constant time.
fn constant_time(presented: &[u8; 32], expected: &[u8; 32]) -> bool {
    presented.ct_eq(expected).into()
}

impl Accounts {
    pub fn new(store: Store, keyring: Arc<Keyring>) -> Self {
        let decoy = keyring.token_hash("otsd decoy token");
        Self {
            store,
            keyring,
            decoy,
            password_checks: Arc::new(tokio::sync::Semaphore::new(password_check_slots())),
        }
    }

    /// Creates an account and returns its token (the only time it is shown)
    /// and its extid.
    pub async fn add(&self, name: &AccountName) -> Result<Issued, AccountError> {
        let token = ApiToken::generate();
        let now = unix_now();
        let record = AccountRecord {
            token_hash: self.keyring.token_hash(token.expose()),
            created: now,
            updated: now,
            listed_from: self.store.last_id().await?,
            extid: crate::store::new_extid(),
            password_hash: None,
            sessions: rand::random(),
            oidc_subject: None,
        };
        if self.store.create_account(name.as_str(), &record).await? {
            Ok(Issued {
                token,
                extid: record.extid,
            })
        } else {
            Err(AccountError::Exists)
        }
    }

    /// Replaces an account's token; the old one stops working at once.
    pub async fn rotate(&self, name: &AccountName) -> Result<Issued, AccountError> {
        let old = self
            .store
            .account(name.as_str())
            .await?
            .ok_or(AccountError::NotFound)?;
        let token = ApiToken::generate();
        let record = AccountRecord {
            token_hash: self.keyring.token_hash(token.expose()),
            updated: unix_now(),
            // A new token ends every web session of the account too.
            sessions: rand::random(),
            ..old
        };
        if self.store.update_account(name.as_str(), &record).await? {
            Ok(Issued {
                token,
                extid: record.extid,
            })
        } else {
            Err(AccountError::NotFound)
        }
    }

    /// Sets (or replaces) the account's web password, and ends every web
    /// session it has. Hashing takes a moment: call from a thread that may
    /// wait (the admin socket's, the command line's).
    pub async fn set_password(
        &self,
        name: &AccountName,
        password: &Password,
    ) -> Result<(), AccountError> {
        let hash = hash_password(password)?;
        let old = self
            .store
            .account(name.as_str())
            .await?
            .ok_or(AccountError::NotFound)?;
        let record = AccountRecord {
            password_hash: Some(hash),
            sessions: rand::random(),
            updated: unix_now(),
            ..old
        };
        if self.store.update_account(name.as_str(), &record).await? {
            Ok(())
        } else {
            Err(AccountError::NotFound)
        }
    }

    /// The account whose web password this is, or `None`. One Argon2id
    /// verification whether the name is unknown, has no password, or the
    /// password is wrong (against a decoy hash for the first two), on the
    /// blocking pool: the time taken does not tell which.
    pub async fn check_password(
        &self,
        name: &str,
        password: Password,
    ) -> Result<Option<AccountName>, StoreError> {
        let record = match AccountName::parse(name) {
            Ok(_) => self.store.account(name).await?,
            Err(_) => None,
        };
        let stored = record.as_ref().and_then(|r| r.password_hash.clone());
        let phc = stored.clone().unwrap_or_else(|| decoy_hash().to_owned());
        // On an async worker, the slow hash runs on the blocking pool; from a
        // thread that may wait (no runtime), right here.
        let right = match tokio::runtime::Handle::try_current() {
            Ok(_) => {
                // The semaphore is never closed, so this only waits. The
                // permit moves into the check: a client that leaves while
                // waiting gives up its place, and one that leaves mid-check
                // frees the slot when that check ends, not before.
                let permit = Arc::clone(&self.password_checks).acquire_owned().await.ok();
                tokio::task::spawn_blocking(move || {
                    let right = verify_password(&password, &phc);
                    drop(permit);
                    right
                })
                .await
                .unwrap_or(false)
            }
            Err(_) => verify_password(&password, &phc),
        };
        Ok((right && stored.is_some())
            .then(|| AccountName::parse(name).ok())
            .flatten())
    }

    /// Creates an account for a person signing in with single sign-on for
    /// the first time (no token is shown: they can renew one on their page),
    /// bound to their identity. `None` if the name is taken.
    pub async fn provision(
        &self,
        name: &AccountName,
        subject: &str,
    ) -> Result<Option<AccountRecord>, AccountError> {
        let token = ApiToken::generate();
        let now = unix_now();
        let record = AccountRecord {
            token_hash: self.keyring.token_hash(token.expose()),
            created: now,
            updated: now,
            listed_from: self.store.last_id().await?,
            extid: crate::store::new_extid(),
            password_hash: None,
            sessions: rand::random(),
            oidc_subject: Some(subject.to_owned()),
        };
        Ok(self
            .store
            .create_account(name.as_str(), &record)
            .await?
            .then_some(record))
    }

    /// Binds an existing account to a single sign-on identity (its first
    /// sign-in that way; an account made by hand with `provision = false`).
    pub async fn bind(&self, name: &AccountName, subject: &str) -> Result<(), AccountError> {
        let old = self
            .store
            .account(name.as_str())
            .await?
            .ok_or(AccountError::NotFound)?;
        let record = AccountRecord {
            oidc_subject: Some(subject.to_owned()),
            updated: unix_now(),
            ..old
        };
        self.store.update_account(name.as_str(), &record).await?;
        Ok(())
    }

    /// The account `name`'s record, by name only.
    pub async fn record(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.store.account(name).await
    }

    /// Deletes an account. What it created stays readable by link until it expires.
    pub async fn remove(&self, name: &AccountName) -> Result<(), AccountError> {
        if self.store.remove_account(name.as_str()).await? {
            Ok(())
        } else {
            Err(AccountError::NotFound)
        }
    }

    pub async fn list(&self) -> Result<Vec<AccountInfo>, AccountError> {
        Ok(self
            .store
            .accounts()
            .await?
            .into_iter()
            .map(|(name, r)| AccountInfo {
                name,
                extid: r.extid,
                created: r.created,
                updated: r.updated,
            })
            .collect())
    }

    /// The account these credentials belong to, or `None`. Takes the same steps
    /// whether the name is unknown or the token is wrong.
    pub async fn authenticate(
        &self,
        name: &str,
        token: &str,
    ) -> Result<Option<AccountName>, StoreError> {
        self.check(name, token, &mut constant_time).await
    }

    async fn check(
        &self,
        name: &str,
        token: &str,
        compare: Compare<'_>,
    ) -> Result<Option<AccountName>, StoreError> {
        let presented = self.keyring.token_hash(token);
        let (name, stored) = self.find(name).await?;
        let expected = stored.as_ref().map_or(&self.decoy, |r| &r.token_hash);
        let matches = compare(&presented, expected);
        Ok((matches && stored.is_some())
            .then(|| AccountName::parse(&name).ok())
            .flatten())
    }

    /// The account `user` names: by its name, or else by its extid (the
    /// official client sends nothing else). A name of an extid's shape is
    /// looked up both ways whether or not the first finds it, so the time
    /// taken does not tell which exists.
    async fn find(&self, user: &str) -> Result<(String, Option<AccountRecord>), StoreError> {
        let by_name = self.store.account(user).await?;
        if !crate::store::looks_like_extid(user) {
            return Ok((user.to_owned(), by_name));
        }
        let by_extid = self
            .store
            .account_by_extid(&user.to_ascii_lowercase())
            .await?;
        Ok(match (by_name, by_extid) {
            (Some(record), _) => (user.to_owned(), Some(record)),
            (None, Some((name, record))) => (name, Some(record)),
            (None, None) => (user.to_owned(), None),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::MasterKey;
    use std::num::NonZeroU32;

    fn accounts() -> (Accounts, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), 1 << 20).unwrap();
        let keyring = Keyring::new(&MasterKey::generate().unwrap(), NonZeroU32::MIN);
        (Accounts::new(store, Arc::new(keyring)), dir)
    }

    /// Runs a check through a comparison that records what it was given: an
    /// unknown name must be refused by the same one comparison of two token
    /// hashes as a wrong token, not by an early return.
    fn compared(accounts: &Accounts, name: &str, token: &str) -> (bool, Vec<[u8; 32]>) {
        let mut seen = Vec::new();
        let found =
            crate::store::block_on(accounts.check(name, token, &mut |presented, expected| {
                seen.push(*expected);
                constant_time(presented, expected)
            }))
            .unwrap();
        (found.is_some(), seen)
    }

    #[test]
    fn an_unknown_account_is_refused_by_the_same_comparison_as_a_wrong_token() {
        let (accounts, _dir) = accounts();
        let alice = AccountName::parse("alice").unwrap();
        let token = crate::store::block_on(accounts.add(&alice)).unwrap().token;
        let stored = crate::store::block_on(accounts.store.account("alice"))
            .unwrap()
            .unwrap()
            .token_hash;

        let (ok, right) = compared(&accounts, "alice", token.expose());
        let (wrong_token, wrong) = compared(&accounts, "alice", "not-the-token");
        let (no_user, unknown) = compared(&accounts, "mallory", token.expose());

        assert!(ok && !wrong_token && !no_user);
        assert_eq!(right, [stored]);
        assert_eq!(wrong, [stored]);
        assert_eq!(unknown.len(), 1, "one comparison for an unknown name too");
        assert_eq!(unknown[0], accounts.decoy, "against the decoy hash");
        assert_ne!(unknown[0], stored);
    }

    #[test]
    fn only_a_hash_of_the_token_is_stored_and_rotation_revokes_the_old_one() {
        let (accounts, _dir) = accounts();
        let bob = AccountName::parse("bob@example.com").unwrap();
        let first = crate::store::block_on(accounts.add(&bob)).unwrap().token;
        let stored = crate::store::block_on(accounts.store.account("bob@example.com"))
            .unwrap()
            .unwrap();
        assert_ne!(&stored.token_hash[..], first.expose().as_bytes());
        let second = crate::store::block_on(accounts.rotate(&bob)).unwrap().token;
        assert!(
            crate::store::block_on(accounts.authenticate("bob@example.com", first.expose()))
                .unwrap()
                .is_none()
        );
        assert!(
            crate::store::block_on(accounts.authenticate("bob@example.com", second.expose()))
                .unwrap()
                .is_some()
        );
        assert!(matches!(
            crate::store::block_on(accounts.add(&bob)),
            Err(AccountError::Exists)
        ));
        crate::store::block_on(accounts.remove(&bob)).unwrap();
        assert!(
            crate::store::block_on(accounts.authenticate("bob@example.com", second.expose()))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn web_passwords_are_argon2id_hashes_that_verify_only_the_same_password() {
        let password = Password::new(Zeroizing::new("correct horse battery".into())).unwrap();
        let phc = hash_password(&password).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(verify_password(&password, &phc));
        let wrong = Password::attempt(Zeroizing::new("correct horse batterY".into())).unwrap();
        assert!(!verify_password(&wrong, &phc));
        assert!(!verify_password(&password, "not a hash"));
        // Each hash has its own salt.
        assert_ne!(hash_password(&password).unwrap(), phc);
        assert!(Password::new(Zeroizing::new("too short".into())).is_err());
        assert!(Password::attempt(Zeroizing::new("x".repeat(MAX_PASSWORD_BYTES + 1))).is_none());
    }

    #[test]
    fn a_password_check_finds_the_account_only_with_its_password() {
        let (accounts, _dir) = accounts();
        let ada = AccountName::parse("ada").unwrap();
        crate::store::block_on(accounts.add(&ada)).unwrap();
        let attempt = |name: &str, p: &str| {
            crate::store::block_on(
                accounts.check_password(name, Password::attempt(Zeroizing::new(p.into())).unwrap()),
            )
            .unwrap()
        };
        assert_eq!(attempt("ada", "anything at all"), None, "no password set");
        let password = Password::new(Zeroizing::new("correct horse battery".into())).unwrap();
        crate::store::block_on(accounts.set_password(&ada, &password)).unwrap();
        assert_eq!(attempt("ada", "correct horse battery"), Some(ada.clone()));
        assert_eq!(attempt("ada", "wrong horse battery"), None);
        assert_eq!(attempt("nobody", "correct horse battery"), None);
        assert_eq!(attempt("not a name!", "correct horse battery"), None);
    }

    #[test]
    fn names_are_validated() {
        assert!(AccountName::parse("a:b").is_err());
        assert!(AccountName::parse("").is_err());
        assert!(AccountName::parse("anon").is_err());
        assert!(AccountName::parse("has space").is_err());
        assert!(AccountName::parse("ops+otsd@example.com").is_ok());
    }
}
