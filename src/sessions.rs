//! Web sessions: who is signed in on the pages. A session is a record in the
//! store (so every node sharing the store knows it), named by a keyed hash of
//! a random cookie value; the value itself exists only in the browser.
//!
//! A session ends at the first of: its idle end (moved on as it is used), its
//! absolute end, a sign-out, and any change of its account's sessions
//! generation (a new password or token) or the account's removal.

use std::sync::Arc;

use rand::RngExt;
use zeroize::Zeroizing;

use crate::accounts::AccountName;
use crate::clock::unix_now;
use crate::crypto::Keyring;
use crate::store::{SessionRecord, Store, StoreError};

/// Random bytes in a session cookie: 256 bits from the CSPRNG.
const COOKIE_BYTES: usize = 32;
/// A session's idle end is written again only when it moved this far: one
/// write per minute of activity, not one per request.
const TOUCH_AFTER_SECS: u64 = 60;

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Seconds without a request before a session ends.
    pub idle: u64,
    /// Seconds a session lasts at most.
    pub max: u64,
}

/// A session just begun: its cookie's value (shown to the browser only) and
/// how long the cookie should live.
pub struct Started {
    pub cookie: Zeroizing<String>,
    pub max_age: u64,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Started(<cookie>)")
    }
}

/// The sessions of every account. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    store: Store,
    keyring: Arc<Keyring>,
    policy: SessionPolicy,
}

impl Sessions {
    pub fn new(store: Store, keyring: Arc<Keyring>, policy: SessionPolicy) -> Self {
        Self {
            store,
            keyring,
            policy,
        }
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// Begins a session for `account` (which must exist), durably.
    pub async fn start(&self, account: &AccountName) -> Result<Option<Started>, StoreError> {
        let Some(record) = self.store.account(account.as_str()).await? else {
            return Ok(None);
        };
        let mut bytes = Zeroizing::new([0u8; COOKIE_BYTES]);
        rand::rng().fill(&mut bytes[..]);
        let cookie = Zeroizing::new(data_encoding::BASE64URL_NOPAD.encode(&bytes[..]));
        let now = unix_now();
        let session = SessionRecord {
            account: account.as_str().to_owned(),
            generation: record.sessions,
            created: now,
            expires_at: now.saturating_add(self.policy.max),
            idle_until: now.saturating_add(self.policy.idle),
        };
        self.store
            .create_session(&self.keyring.session_id(&cookie), &session)
            .await?;
        Ok(Some(Started {
            cookie,
            max_age: self.policy.max,
        }))
    }

    /// The account signed in with `cookie`, if its session has not ended;
    /// moves its idle end on.
    pub async fn find(&self, cookie: &str) -> Result<Option<AccountName>, StoreError> {
        if !is_cookie_shaped(cookie) {
            return Ok(None);
        }
        let id = self.keyring.session_id(cookie);
        let Some(mut session) = self.store.session(&id).await? else {
            return Ok(None);
        };
        let now = unix_now();
        if session.ends_at() <= now {
            return Ok(None);
        }
        let current = self
            .store
            .account(&session.account)
            .await?
            .is_some_and(|account| account.sessions == session.generation);
        if !current {
            return Ok(None);
        }
        let idle_until = now.saturating_add(self.policy.idle);
        if idle_until >= session.idle_until.saturating_add(TOUCH_AFTER_SECS) {
            session.idle_until = idle_until;
            self.store.touch_session(&id, &session).await?;
        }
        Ok(AccountName::parse(&session.account).ok())
    }

    /// A single sign-on's pending state, sealed for the browser's cookie
    /// (base64url): any node opens it, nobody can read or forge it.
    pub fn seal_pending(&self, pending: &crate::oidc::Pending) -> Option<String> {
        let json = Zeroizing::new(serde_json::to_vec(pending).ok()?);
        let sealed = self.keyring.seal_for_cookie(&json).ok()?;
        Some(data_encoding::BASE64URL_NOPAD.encode(&sealed))
    }

    /// Opens what `seal_pending` sealed; `None` for anything else.
    pub fn open_pending(&self, cookie: &str) -> Option<crate::oidc::Pending> {
        if cookie.len() > 4096 {
            return None;
        }
        let sealed = data_encoding::BASE64URL_NOPAD
            .decode(cookie.as_bytes())
            .ok()?;
        let json = self.keyring.open_from_cookie(&sealed)?;
        serde_json::from_slice(&json).ok()
    }

    /// Ends the session of `cookie` (sign-out), durably.
    pub async fn end(&self, cookie: &str) -> Result<(), StoreError> {
        if is_cookie_shaped(cookie) {
            self.store
                .end_session(&self.keyring.session_id(cookie))
                .await?;
        }
        Ok(())
    }
}

/// Whether `value` could be a cookie this server made (43 base64url
/// characters): anything else is not looked up at all.
fn is_cookie_shaped(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::{Accounts, Password};
    use crate::crypto::MasterKey;
    use crate::store::block_on;
    use std::num::NonZeroU32;

    const POLICY: SessionPolicy = SessionPolicy {
        idle: 3600,
        max: 12 * 3600,
    };

    fn setup() -> (Sessions, Accounts, Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), 1 << 20).unwrap();
        let keyring = Arc::new(Keyring::new(
            &MasterKey::generate().unwrap(),
            NonZeroU32::MIN,
        ));
        let accounts = Accounts::new(store.clone(), Arc::clone(&keyring));
        block_on(accounts.add(&name("ada"))).unwrap();
        (
            Sessions::new(store.clone(), keyring, POLICY),
            accounts,
            store,
            dir,
        )
    }

    fn name(n: &str) -> AccountName {
        AccountName::parse(n).unwrap()
    }

    #[test]
    fn a_session_finds_its_account_until_it_is_ended() {
        let (sessions, _accounts, _store, _dir) = setup();
        let started = block_on(sessions.start(&name("ada"))).unwrap().unwrap();
        assert_eq!(started.cookie.len(), 43);
        assert_eq!(started.max_age, POLICY.max);
        let found = block_on(sessions.find(&started.cookie)).unwrap();
        assert_eq!(found, Some(name("ada")));
        // Each sign-in has a cookie of its own.
        let again = block_on(sessions.start(&name("ada"))).unwrap().unwrap();
        assert_ne!(*again.cookie, *started.cookie);
        block_on(sessions.end(&started.cookie)).unwrap();
        assert_eq!(block_on(sessions.find(&started.cookie)).unwrap(), None);
        assert_eq!(
            block_on(sessions.find(&again.cookie)).unwrap(),
            Some(name("ada"))
        );
        // No account, no session.
        assert!(block_on(sessions.start(&name("nobody"))).unwrap().is_none());
    }

    #[test]
    fn a_session_ends_at_its_idle_end_and_at_its_absolute_end() {
        let (sessions, _accounts, store, _dir) = setup();
        let now = unix_now();
        let generation = block_on(store.account("ada")).unwrap().unwrap().sessions;
        for (expires_at, idle_until, alive) in [
            (now + 100, now + 100, true),
            (now + 100, now - 1, false),
            (now - 1, now + 100, false),
        ] {
            let cookie = format!("{:0>43}", expires_at * 7 + idle_until);
            let record = SessionRecord {
                account: "ada".into(),
                generation,
                created: now - 200,
                expires_at,
                idle_until,
            };
            block_on(store.create_session(&sessions.keyring.session_id(&cookie), &record)).unwrap();
            let found = block_on(sessions.find(&cookie)).unwrap();
            assert_eq!(found.is_some(), alive, "{expires_at} {idle_until}");
        }
    }

    #[test]
    fn a_new_password_a_new_token_or_removal_ends_every_session_of_the_account() {
        let (sessions, accounts, _store, _dir) = setup();
        let ada = name("ada");
        let start = || block_on(sessions.start(&ada)).unwrap().unwrap();
        let alive = |s: &Started| block_on(sessions.find(&s.cookie)).unwrap().is_some();

        let first = start();
        let password = Password::new(Zeroizing::new("correct horse battery".into())).unwrap();
        block_on(accounts.set_password(&ada, &password)).unwrap();
        assert!(!alive(&first), "a new password ends it");

        let second = start();
        block_on(accounts.rotate(&ada)).unwrap();
        assert!(!alive(&second), "a new token ends it");

        let third = start();
        block_on(accounts.remove(&ada)).unwrap();
        assert!(!alive(&third), "removal ends it");
        // A new account of the same name does not inherit it.
        block_on(accounts.add(&ada)).unwrap();
        assert!(!alive(&third));
    }

    #[test]
    fn a_cookie_of_another_shape_is_not_looked_up() {
        let (sessions, _accounts, _store, _dir) = setup();
        for cookie in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}!", "a".repeat(42)),
        ] {
            assert_eq!(block_on(sessions.find(cookie)).unwrap(), None);
        }
    }

    #[test]
    fn a_pending_sign_in_opens_only_as_sealed() {
        let (sessions, _accounts, _store, _dir) = setup();
        let pending = crate::oidc::Pending {
            state: "st".into(),
            nonce: "no".into(),
            verifier: "ve".into(),
            created: 5,
        };
        let sealed = sessions.seal_pending(&pending).unwrap();
        assert!(!sealed.contains("ve") || sealed.len() > 40);
        let opened = sessions.open_pending(&sealed).unwrap();
        assert_eq!((opened.state.as_str(), opened.created), ("st", 5));
        let mut forged = sealed.into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        assert!(
            sessions
                .open_pending(std::str::from_utf8(&forged).unwrap())
                .is_none()
        );
        assert!(sessions.open_pending("not sealed").is_none());
    }
}
