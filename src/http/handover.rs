//! Hands a generated password from the POST that made it to the one GET that
//! shows it, so "Generate a password" can redirect (a reload then makes no
//! second secret) and the password is still shown exactly once.
//!
//! The password waits here, in memory only, under a random token that goes to
//! the browser in a cookie scoped to that receipt's path. The first GET of the
//! receipt with the cookie takes it (and clears the cookie); a reload shows the
//! receipt without it. What no browser comes back for is dropped after
//! [`LIFETIME`]; at most `CAPACITY` wait at once, after which a generate shows
//! its password in the POST's own answer, as before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngExt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// How long a password waits for its redirect.
pub const LIFETIME: Duration = Duration::from_secs(60);
/// How many passwords may wait at once.
const CAPACITY: usize = 10_000;
/// The cookie's name.
pub const COOKIE: &str = "otsd_generated";

struct Waiting {
    token: [u8; 16],
    value: Zeroizing<String>,
    until: Instant,
}

/// Generated passwords waiting to be shown, by receipt key.
#[derive(Default)]
pub struct Handover {
    waiting: Mutex<HashMap<String, Waiting>>,
}

impl Handover {
    /// Keeps `value` for the receipt `receipt_key`; the token for the cookie, or
    /// `None` when too many are waiting.
    pub fn put(&self, receipt_key: &str, value: &str) -> Option<String> {
        let now = Instant::now();
        let mut waiting = self.lock();
        waiting.retain(|_, w| w.until > now);
        if waiting.len() >= CAPACITY {
            return None;
        }
        let mut token = [0u8; 16];
        rand::rng().fill(&mut token);
        waiting.insert(
            receipt_key.to_owned(),
            Waiting {
                token,
                value: Zeroizing::new(value.to_owned()),
                until: now + LIFETIME,
            },
        );
        Some(hex(&token))
    }

    /// Takes the password waiting for `receipt_key` when `token` is its token
    /// (compared in constant time) and it has not expired.
    pub fn take(&self, receipt_key: &str, token: &str) -> Option<Zeroizing<String>> {
        let mut waiting = self.lock();
        let entry = waiting.get(receipt_key)?;
        let matches: bool = hex(&entry.token).as_bytes().ct_eq(token.as_bytes()).into();
        if !matches {
            return None;
        }
        let entry = waiting.remove(receipt_key)?;
        (entry.until > Instant::now()).then_some(entry.value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiting>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_taken_once_and_only_with_its_token() {
        let handover = Handover::default();
        let token = handover.put("receipt", "s3cret").expect("room");
        assert!(handover.take("receipt", "0000").is_none(), "wrong token");
        assert!(handover.take("other", &token).is_none(), "other receipt");
        assert_eq!(
            handover
                .take("receipt", &token)
                .as_deref()
                .map(String::as_str),
            Some("s3cret")
        );
        assert!(handover.take("receipt", &token).is_none(), "taken once");
    }
}
