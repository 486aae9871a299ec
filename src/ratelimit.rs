//! Fixed-window rate limits, in memory, in bounded space.
//!
//! Windows are aligned to the clock (`now / window`), so when one ends every
//! counter of it is obsolete and everything is dropped at once. Within a window
//! the first `max_tracked` subjects get an exact counter each. Subjects past that
//! are counted in a count-min sketch: a fixed table of counters in which each
//! subject adds to one cell in each of [`DEPTH`] rows, picked by a hash keyed with
//! random keys of this process, and reads the smallest of its cells.
//!
//! A sketch can only over-count, so no limit is ever loosened; and it does not
//! punish a client it never saw: to refuse one, an attacker would have to raise
//! every cell of a row to the limit, which takes `width × limit` requests per
//! window (millions at the defaults) and keys it cannot know to aim better.
//! (An earlier design shared one overflow counter among all new subjects: anyone
//! who filled the table could then lock out every new client.)
//!
//! IPv6 clients are counted per network (`/64` by default): one subscriber holds
//! a whole /64 and could otherwise pose as 2^64 clients. Counters reset on
//! restart.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, Ipv6Addr};
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

/// Rows of the sketch: each is an independent chance for a subject to find a
/// cell that others did not fill.
pub const DEPTH: usize = 4;
/// Cells per row: at least this many, and at least `max_tracked`.
const MIN_WIDTH: usize = 1 << 12;
const MAX_WIDTH: usize = 1 << 20;

/// The counters of subjects past `max_tracked`: `DEPTH` rows of `width` cells.
struct Sketch {
    cells: Vec<u32>,
    width: usize,
}

impl Sketch {
    fn new(width: usize) -> Self {
        Self {
            cells: vec![0; DEPTH * width],
            width,
        }
    }

    /// The cell of each row for `key` (`width` is a power of two).
    fn cells(&self, hasher: &RandomState, key: &(Action, Subject)) -> [usize; DEPTH] {
        std::array::from_fn(|row| {
            let hash = hasher.hash_one((row, key)) as usize;
            row * self.width + (hash & (self.width - 1))
        })
    }

    fn estimate(&self, cells: &[usize; DEPTH]) -> u32 {
        cells.iter().map(|&c| self.cells[c]).min().unwrap_or(0)
    }
}

#[derive(Default)]
struct Window {
    index: u64,
    counts: HashMap<(Action, Subject), u32>,
    /// Made when the table first fills in this window.
    sketch: Option<Sketch>,
}

pub struct RateLimiter {
    limits: Limits,
    window_secs: u64,
    max_tracked: usize,
    ipv6_prefix: u8,
    sketch_width: usize,
    hasher: RandomState,
    window: Mutex<Window>,
}

/// The request is over a limit, until the window ends in `retry_after` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: u64,
}

impl RateLimiter {
    pub fn new(limits: Limits, window_secs: u64, max_tracked: usize, ipv6_prefix: u8) -> Self {
        let max_tracked = max_tracked.max(1);
        Self {
            limits,
            window_secs: window_secs.max(1),
            max_tracked,
            ipv6_prefix: ipv6_prefix.clamp(1, 128),
            sketch_width: max_tracked.next_power_of_two().clamp(MIN_WIDTH, MAX_WIDTH),
            hasher: RandomState::new(),
            window: Mutex::new(Window::default()),
        }
    }

    /// Counts one `action` against every subject, unless any of them is already at
    /// its limit: then nothing is counted and the request is `Limited`.
    pub fn hit(&self, action: Action, subjects: &[Subject], now: u64) -> Result<(), Limited> {
        let Some(limit) = self.limits.of(action) else {
            return Ok(());
        };
        let keys = self.keys(action, subjects);
        let mut window = self.lock();
        let index = now / self.window_secs;
        if window.index != index {
            *window = Window {
                index,
                ..Window::default()
            };
        }
        let mut places = Vec::with_capacity(keys.len());
        for key in keys {
            let place = self.place(&mut window, key);
            if self.used(&window, &place) >= limit {
                return Err(Limited {
                    retry_after: self.window_secs - now % self.window_secs,
                });
            }
            places.push(place);
        }
        for place in places {
            match place {
                Place::Tracked(key) => *window.counts.entry(key).or_insert(0) += 1,
                Place::Sketched(cells) => {
                    if let Some(sketch) = window.sketch.as_mut() {
                        for c in cells {
                            sketch.cells[c] = sketch.cells[c].saturating_add(1);
                        }
                    }
                }
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
        let keys = self.keys(action, subjects);
        let mut window = self.lock();
        if window.index != now / self.window_secs {
            return; // that window, and what it counted, is gone
        }
        for key in keys {
            // Within a window the table only grows, so a subject counted in the
            // sketch then is still untracked now, and finds the same cells.
            if let Some(n) = window.counts.get_mut(&key) {
                *n = n.saturating_sub(1);
            } else if let Some(sketch) = window.sketch.as_mut() {
                for c in sketch.cells(&self.hasher, &key) {
                    sketch.cells[c] = sketch.cells[c].saturating_sub(1);
                }
            }
        }
    }

    /// How many exact counters exist now (for tests of the bound).
    pub fn tracked(&self) -> usize {
        self.lock().counts.len()
    }

    /// The counted keys, with addresses reduced to what is counted.
    fn keys(&self, action: Action, subjects: &[Subject]) -> Vec<(Action, Subject)> {
        let bucket = |ip: &IpAddr| network_of(*ip, self.ipv6_prefix);
        subjects
            .iter()
            .map(|s| match s {
                Subject::Ip(ip) => Subject::Ip(bucket(ip)),
                Subject::SecretFromIp(id, ip) => Subject::SecretFromIp(*id, bucket(ip)),
                Subject::Account(name) => Subject::Account(name.clone()),
            })
            .map(|s| (action, s))
            .collect()
    }

    /// Where `key` is counted in this window: its exact counter (made while the
    /// table has room), or its cells in the sketch.
    fn place(&self, window: &mut Window, key: (Action, Subject)) -> Place {
        if window.counts.contains_key(&key) || window.counts.len() < self.max_tracked {
            return Place::Tracked(key);
        }
        let sketch = window
            .sketch
            .get_or_insert_with(|| Sketch::new(self.sketch_width));
        Place::Sketched(sketch.cells(&self.hasher, &key))
    }

    fn used(&self, window: &Window, place: &Place) -> u32 {
        match place {
            Place::Tracked(key) => window.counts.get(key).copied().unwrap_or(0),
            Place::Sketched(cells) => window.sketch.as_ref().map_or(0, |s| s.estimate(cells)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }
}

enum Place {
    Tracked((Action, Subject)),
    Sketched([usize; DEPTH]),
}

/// The address as counted: IPv4 (and IPv4-mapped IPv6) as it is, IPv6 reduced to
/// its network of `prefix` bits.
pub fn network_of(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.clamp(1, 128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
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

    /// Whether `ip` is in this network (IPv4-mapped IPv6 counts as IPv4).
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

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// As in the configuration: `"10.0.0.0/8"`, `"::1"`.
impl serde::Serialize for IpNet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IpNet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("has an invalid address {text:?}")))
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
            64,
        );
        let a = [Subject::Ip(ip("192.0.2.1"))];
        assert!(limiter.hit(Action::Create, &a, 0).is_ok());
        assert!(limiter.hit(Action::Create, &a, 0).is_ok());
        assert_eq!(
            limiter.hit(Action::Create, &a, 0),
            Err(Limited { retry_after: 60 })
        );
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
        assert!(limiter.hit(Action::Create, &a, 61).is_ok());
        assert_eq!(
            limiter.hit(Action::Create, &a, 105),
            Err(Limited { retry_after: 15 }),
            "refused until the window ends"
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
            64,
        );
        let a = [Subject::Ip(ip("192.0.2.1"))];
        let b = [Subject::Ip(ip("192.0.2.2"))];
        let fp = Action::FailedPassphrase;
        assert!(limiter.hit(fp, &a, 0).is_ok());
        assert_eq!(
            limiter.hit(fp, &a, 0),
            Err(Limited { retry_after: 60 }),
            "taken until released"
        );
        limiter.release(fp, &a, 0);
        assert!(limiter.hit(fp, &a, 0).is_ok(), "given back");
        assert!(limiter.hit(fp, &b, 0).is_ok(), "b is in the sketch");
        limiter.release(fp, &b, 0);
        assert!(limiter.hit(fp, &b, 0).is_ok(), "the sketch gave it back");
        limiter.release(fp, &a, 60);
        assert_eq!(
            limiter.hit(fp, &a, 0),
            Err(Limited { retry_after: 60 }),
            "a stale release does nothing"
        );
    }

    #[test]
    fn rotating_subjects_cannot_grow_the_table_and_cannot_lock_out_new_clients() {
        let limiter = RateLimiter::new(
            Limits {
                create: Some(3),
                ..Limits::default()
            },
            60,
            10,
            64,
        );
        for i in 0..2_000u32 {
            let subject = [Subject::Ip(IpAddr::from(i.to_be_bytes()))];
            assert!(limiter.hit(Action::Create, &subject, 5).is_ok(), "{i}");
        }
        assert_eq!(limiter.tracked(), 10);
        // A sketch never counts less than it was given, and may count more (the
        // 1,990 others share its cells): the heavy subject gets at most its limit,
        // and with four rows almost surely all of it (its first hit passes unless
        // every row holds 3 of the others' hits already).
        let heavy = [Subject::Ip(ip("198.51.100.1"))];
        let passed = (0..10)
            .take_while(|_| limiter.hit(Action::Create, &heavy, 5).is_ok())
            .count();
        assert!(
            (1..=3).contains(&passed),
            "a subject in the sketch is still limited: {passed} hits passed"
        );
        for fresh in ["203.0.113.7", "2001:db8:1::1", "127.0.0.1"] {
            assert!(
                limiter
                    .hit(Action::Create, &[Subject::Ip(ip(fresh))], 5)
                    .is_ok(),
                "{fresh} was never seen"
            );
        }
    }

    #[test]
    fn ipv6_clients_count_per_network() {
        let limiter = RateLimiter::new(
            Limits {
                create: Some(1),
                ..Limits::default()
            },
            60,
            100,
            64,
        );
        let create = |s: &str| limiter.hit(Action::Create, &[Subject::Ip(ip(s))], 0);
        assert!(create("2001:db8:0:1::1").is_ok());
        assert_eq!(
            create("2001:db8:0:1:ffff::2"),
            Err(Limited { retry_after: 60 }),
            "same /64"
        );
        assert!(create("2001:db8:0:2::1").is_ok(), "another /64");
        assert!(create("::ffff:192.0.2.1").is_ok());
        assert_eq!(
            create("192.0.2.1"),
            Err(Limited { retry_after: 60 }),
            "a mapped v4 is the v4"
        );
        assert_eq!(network_of(ip("2001:db8::1"), 128), ip("2001:db8::1"));
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
