//! Accounts: a name and an API token, managed from the command line.
//!
//! Only a keyed hash of each token is stored. Checking credentials does the same
//! work whether or not the account exists — one token hash, one lookup, one
//! constant-time comparison — so response time does not tell which names exist.

use std::fmt;
use std::sync::Arc;

use rand::RngExt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::crypto::Keyring;
use crate::store::{AccountRecord, Store, StoreError};
use crate::vault::{ANONYMOUS, unix_now};

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

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
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
    pub created: u64,
    pub updated: u64,
}

/// Account management and authentication. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    store: Store,
    keyring: Arc<Keyring>,
    /// Compared against when the account does not exist, so that path does the
    /// same work as a wrong token.
    decoy: [u8; 32],
}

/// What a credential check actually did; equal for every outcome.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Work {
    hashes: u8,
    lookups: u8,
    comparisons: u8,
}

impl Accounts {
    pub fn new(store: Store, keyring: Arc<Keyring>) -> Self {
        let decoy = keyring.token_hash("otsd decoy token");
        Self {
            store,
            keyring,
            decoy,
        }
    }

    /// Creates an account and returns its token (the only time it is shown).
    pub fn add(&self, name: &AccountName) -> Result<ApiToken, AccountError> {
        let token = ApiToken::generate();
        let now = unix_now();
        let record = AccountRecord {
            token_hash: self.keyring.token_hash(token.expose()),
            created: now,
            updated: now,
            listed_from: self.store.new_id()?.get(),
        };
        if self.store.create_account(name.as_str(), &record)? {
            Ok(token)
        } else {
            Err(AccountError::Exists)
        }
    }

    /// Replaces an account's token; the old one stops working at once.
    pub fn rotate(&self, name: &AccountName) -> Result<ApiToken, AccountError> {
        let old = self
            .store
            .account(name.as_str())?
            .ok_or(AccountError::NotFound)?;
        let token = ApiToken::generate();
        let record = AccountRecord {
            token_hash: self.keyring.token_hash(token.expose()),
            updated: unix_now(),
            ..old
        };
        if self.store.update_account(name.as_str(), &record)? {
            Ok(token)
        } else {
            Err(AccountError::NotFound)
        }
    }

    /// Deletes an account. What it created stays readable by link until it expires.
    pub fn remove(&self, name: &AccountName) -> Result<(), AccountError> {
        if self.store.remove_account(name.as_str())? {
            Ok(())
        } else {
            Err(AccountError::NotFound)
        }
    }

    pub fn list(&self) -> Result<Vec<AccountInfo>, AccountError> {
        Ok(self
            .store
            .accounts()?
            .into_iter()
            .map(|(name, r)| AccountInfo {
                name,
                created: r.created,
                updated: r.updated,
            })
            .collect())
    }

    /// The account these credentials belong to, or `None`. Takes the same steps
    /// whether the name is unknown or the token is wrong.
    pub fn authenticate(&self, name: &str, token: &str) -> Result<Option<AccountName>, StoreError> {
        self.check(name, token).map(|(account, _)| account)
    }

    fn check(&self, name: &str, token: &str) -> Result<(Option<AccountName>, Work), StoreError> {
        let mut work = Work::default();
        let presented = self.keyring.token_hash(token);
        work.hashes += 1;
        let stored = self.store.account(name)?;
        work.lookups += 1;
        let expected = stored.as_ref().map_or(&self.decoy, |r| &r.token_hash);
        let matches: bool = presented.ct_eq(expected).into();
        work.comparisons += 1;
        let account = (matches && stored.is_some())
            .then(|| AccountName::parse(name).ok())
            .flatten();
        Ok((account, work))
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

    #[test]
    fn unknown_account_and_wrong_token_take_the_same_steps() {
        let (accounts, _dir) = accounts();
        let alice = AccountName::parse("alice").unwrap();
        let token = accounts.add(&alice).unwrap();

        let (ok, right) = accounts.check("alice", token.expose()).unwrap();
        let (wrong_token, wrong) = accounts.check("alice", "not-the-token").unwrap();
        let (no_user, unknown) = accounts.check("mallory", token.expose()).unwrap();

        assert_eq!(ok, Some(alice));
        assert_eq!(wrong_token, None);
        assert_eq!(no_user, None);
        assert_eq!(right, wrong);
        assert_eq!(wrong, unknown);
        assert_eq!(
            unknown,
            Work {
                hashes: 1,
                lookups: 1,
                comparisons: 1
            }
        );
    }

    #[test]
    fn only_a_hash_of_the_token_is_stored_and_rotation_revokes_the_old_one() {
        let (accounts, _dir) = accounts();
        let bob = AccountName::parse("bob@example.com").unwrap();
        let first = accounts.add(&bob).unwrap();
        let stored = accounts.store.account("bob@example.com").unwrap().unwrap();
        assert_ne!(&stored.token_hash[..], first.expose().as_bytes());
        let second = accounts.rotate(&bob).unwrap();
        assert!(
            accounts
                .authenticate("bob@example.com", first.expose())
                .unwrap()
                .is_none()
        );
        assert!(
            accounts
                .authenticate("bob@example.com", second.expose())
                .unwrap()
                .is_some()
        );
        assert!(matches!(accounts.add(&bob), Err(AccountError::Exists)));
        accounts.remove(&bob).unwrap();
        assert!(
            accounts
                .authenticate("bob@example.com", second.expose())
                .unwrap()
                .is_none()
        );
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
