//! Fixed-window rate limits, in memory, with a bounded number of counters.
//!
//! Windows are aligned to the clock (`now / window`), so when one ends every
//! counter of it is obsolete and the whole table is dropped at once. Within a
//! window at most `max_tracked` subjects get their own counter; past that, new
//! subjects share one overflow counter per action. An attacker rotating addresses
//! therefore cannot grow memory without bound, and gains no more than one
//! subject's allowance by doing so. Counters reset on restart.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Reveal,
    Metadata,
    FailedPassphrase,
    Email,
}

/// Who is being counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Ip(IpAddr),
    Account(String),
    /// One secret (by a hash of its key, never the key) from one address.
    SecretFromIp([u8; 32], IpAddr),
}

/// Allowance per window for each action; `None` is unlimited.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    pub create: Option<u32>,
    pub reveal: Option<u32>,
    pub metadata: Option<u32>,
    pub failed_passphrase: Option<u32>,
    pub email: Option<u32>,
}

impl Limits {
    fn of(&self, action: Action) -> Option<u32> {
        match action {
            Action::Create => self.create,
            Action::Reveal => self.reveal,
            Action::Metadata => self.metadata,
            Action::FailedPassphrase => self.failed_passphrase,
            Action::Email => self.email,
        }
    }
}

#[derive(Default)]
struct Window {
    index: u64,
    counts: HashMap<(Action, Subject), u32>,
    overflow: HashMap<Action, u32>,
}

pub struct RateLimiter {
    limits: Limits,
    window_secs: u64,
    max_tracked: usize,
    window: Mutex<Window>,
}

/// The request is over a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited;

impl RateLimiter {
    pub fn new(limits: Limits, window_secs: u64, max_tracked: usize) -> Self {
        Self {
            limits,
            window_secs: window_secs.max(1),
            max_tracked: max_tracked.max(1),
            window: Mutex::new(Window::default()),
        }
    }

    /// Counts one `action` against every subject, unless any of them is already at
    /// its limit: then nothing is counted and the request is `Limited`.
    pub fn hit(&self, action: Action, subjects: &[Subject], now: u64) -> Result<(), Limited> {
        let Some(limit) = self.limits.of(action) else {
            return Ok(());
        };
        let mut window = self.lock();
        let index = now / self.window_secs;
        if window.index != index {
            *window = Window {
                index,
                ..Window::default()
            };
        }
        let tracked = |w: &Window, s: &Subject| w.counts.contains_key(&(action, s.clone()));
        let used = |w: &Window, s: &Subject| match w.counts.get(&(action, s.clone())) {
            Some(n) => *n,
            None if w.counts.len() >= self.max_tracked => {
                w.overflow.get(&action).copied().unwrap_or(0)
            }
            None => 0,
        };
        if subjects.iter().any(|s| used(&window, s) >= limit) {
            return Err(Limited);
        }
        for subject in subjects {
            if tracked(&window, subject) || window.counts.len() < self.max_tracked {
                *window.counts.entry((action, subject.clone())).or_insert(0) += 1;
            } else {
                *window.overflow.entry(action).or_insert(0) += 1;
            }
        }
        Ok(())
    }

    /// Gives back one `action` counted by [`RateLimiter::hit`] at the same `now`,
    /// for attempts that turn out not to count (a passphrase that was right).
    /// Counting first and giving back after is what keeps concurrent attempts from
    /// all passing a check made before any of them was counted.
    pub fn release(&self, action: Action, subjects: &[Subject], now: u64) {
        if self.limits.of(action).is_none() {
            return;
        }
        let mut window = self.lock();
        if window.index != now / self.window_secs {
            return; // that window, and what it counted, is gone
        }
        for subject in subjects {
            // Within a window the table only grows, so a subject counted in the
            // overflow then is still untracked now.
            let count = match window.counts.get_mut(&(action, subject.clone())) {
                Some(n) => n,
                None => window.overflow.entry(action).or_insert(0),
            };
            *count = count.saturating_sub(1);
        }
    }

    /// How many counters exist now (for tests of the bound).
    pub fn tracked(&self) -> usize {
        self.lock().counts.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The client address of a request: the TCP peer, or — only when the peer is a
/// trusted proxy — the nearest untrusted address in `X-Forwarded-For`.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in header.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// An address or CIDR block (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_request_that_crosses_the_limit_fails_and_counts_nothing() {
        let limiter = RateLimiter::new(
            Limits {
                create: Some(2),
                ..Limits::default()
            },
            60,
            100,
        );
        let a = [Subject::Ip(ip("192.0.2.1"))];
        assert!(limiter.hit(Action::Create, &a, 0).is_ok());
        assert!(limiter.hit(Action::Create, &a, 0).is_ok());
        assert_eq!(limiter.hit(Action::Create, &a, 0), Err(Limited));
        assert!(
            limiter.hit(Action::Reveal, &a, 0).is_ok(),
            "other actions unaffected"
        );
        assert!(
            limiter
                .hit(Action::Create, &[Subject::Ip(ip("192.0.2.2"))], 0)
                .is_ok()
        );
        assert!(
            limiter.hit(Action::Create, &a, 60).is_ok(),
            "a new window starts fresh"
        );
    }

    #[test]
    fn a_released_hit_gives_its_allowance_back_in_the_same_window_only() {
        let limiter = RateLimiter::new(
            Limits {
                failed_passphrase: Some(1),
                ..Limits::default()
            },
            60,
            1,
        );
        let a = [Subject::Ip(ip("192.0.2.1"))];
        let b = [Subject::Ip(ip("192.0.2.2"))];
        let fp = Action::FailedPassphrase;
        assert!(limiter.hit(fp, &a, 0).is_ok());
        assert_eq!(limiter.hit(fp, &a, 0), Err(Limited), "taken until released");
        limiter.release(fp, &a, 0);
        assert!(limiter.hit(fp, &a, 0).is_ok(), "given back");
        assert!(limiter.hit(fp, &b, 0).is_ok(), "b is in the overflow");
        limiter.release(fp, &b, 0);
        assert!(
            limiter.hit(fp, &b, 0).is_ok(),
            "the overflow was given back"
        );
        limiter.release(fp, &a, 60);
        assert_eq!(
            limiter.hit(fp, &a, 0),
            Err(Limited),
            "a stale release does nothing"
        );
    }

    #[test]
    fn rotating_subjects_cannot_grow_the_table_past_its_bound() {
        let limiter = RateLimiter::new(
            Limits {
                create: Some(3),
                ..Limits::default()
            },
            60,
            10,
        );
        let mut refused = 0;
        for i in 0..1000u32 {
            let subject = [Subject::Ip(IpAddr::from(i.to_be_bytes()))];
            if limiter.hit(Action::Create, &subject, 5).is_err() {
                refused += 1;
            }
        }
        assert_eq!(limiter.tracked(), 10);
        assert_eq!(refused, 1000 - 10 - 3, "the overflow shares one allowance");
    }

    #[test]
    fn forwarded_for_is_trusted_only_from_trusted_proxies() {
        let trusted = [
            IpNet::parse("10.0.0.0/8").unwrap(),
            IpNet::parse("127.0.0.1").unwrap(),
        ];
        let xff = Some("198.51.100.7, 10.1.2.3");
        assert_eq!(
            client_ip(ip("127.0.0.1"), xff, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("203.0.113.9"), xff, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client_ip(ip("127.0.0.1"), None, &trusted), ip("127.0.0.1"));
        assert_eq!(
            client_ip(ip("127.0.0.1"), Some("garbage"), &trusted),
            ip("127.0.0.1")
        );
        assert!(IpNet::parse("::1").unwrap().contains(&ip("::1")));
        assert!(IpNet::parse("10.0.0.0/33").is_none());
    }
}
