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
