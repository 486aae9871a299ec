//! Fixed-window rate limits, in memory, in bounded space.
//!
//! Windows are aligned to the clock (`now / window`), so when one ends every
//! counter of it is obsolete and everything is dropped at once.
//!
//! **A client the limiter never saw is never refused, whatever others sent.** That
//! holds by construction, not by odds:
//! - each action has its own table (creates, reveals, metadata, failed
//!   passphrases, emails), so no action's traffic is read as another's;
//! - counters are exact, one per subject, looked up by the subject itself: a
//!   subject without a counter has used nothing, and is served. Nothing is ever
//!   shared between subjects (an earlier design counted the overflow in a shared
//!   count-min sketch; once saturated by millions of addresses its cells read as
//!   "used up" for anyone, and reveals of unknown keys filled the cells read by
//!   the failed-passphrase check, limit 5, so fresh clients were locked out).
//!
//! Each table holds at most `max_tracked` counters. When it is full, a new
//! subject takes the place of one of the least used: the oldest counter of the
//! lowest class of counts (classes are powers of two: 1, 2–3, 4–7, …). So the
//! limiter **forgets rather than refuses**: the trade-off is that an attacker
//! who fills a table makes it forget someone, who then starts the window afresh.
//! Whom it forgets is what keeps limits worth having: a client that has used `c`
//! of its allowance is forgotten only once every other counter of the table is
//! past `c / 2`, which takes about `max_tracked × c / 2` requests in the window,
//! all in that one action; a flood of one request per address only ever
//! replaces its own kind. Memory is at most `max_tracked` counters per action,
//! about 108 bytes each once a flood has churned a table (measured by
//! `examples/ratelimit_cost.rs`: 10.3 MiB per action at the default 100,000),
//! given back when the window ends; every request costs O(1): a hash lookup,
//! and on eviction a scan of 33 classes.
//!
//! IPv6 clients are counted per network (`/64` by default): one subscriber holds
//! a whole /64 and could otherwise pose as 2^64 clients. Counters reset on
//! restart.

use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;

use hashbrown::HashTable;
use std::sync::{Mutex, MutexGuard};

/// What is being limited. Each action is counted apart from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Create,
    Reveal,
    Metadata,
    FailedPassphrase,
    Email,
    /// A web sign-in that failed (a wrong name or password).
    FailedSignIn,
}

impl Action {
    const ALL: usize = 6;

    fn index(self) -> usize {
        match self {
            Action::Create => 0,
            Action::Reveal => 1,
            Action::Metadata => 2,
            Action::FailedPassphrase => 3,
            Action::Email => 4,
            Action::FailedSignIn => 5,
        }
    }
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
    pub failed_sign_in: Option<u32>,
}

impl Limits {
    fn of(&self, action: Action) -> Option<u32> {
        match action {
            Action::Create => self.create,
            Action::Reveal => self.reveal,
            Action::Metadata => self.metadata,
            Action::FailedPassphrase => self.failed_passphrase,
            Action::Email => self.email,
            Action::FailedSignIn => self.failed_sign_in,
        }
    }
}

/// No slot: the end of a class's list.
const NIL: u32 = u32::MAX;
/// Classes of counts by bit length: 0, 1, 2–3, 4–7, … 2^31–(2^32 − 1).
const CLASSES: usize = 33;

fn class(count: u32) -> usize {
    (u32::BITS - count.leading_zeros()) as usize
}

/// One counter, and its place in its class's list (oldest first).
struct Slot {
    subject: Subject,
    count: u32,
    prev: u32,
    next: u32,
}

/// One action's exact counters for one window: at most `max` of them.
struct Table {
    window: u64,
    /// Slot numbers, found by their subject's hash and then compared with the
    /// subject in the slot: each subject is kept once, in its slot (a map from
    /// subject to slot kept it twice, at about 265 bytes a counter).
    index: HashTable<u32>,
    /// Keyed (per table and window), so that no one can aim addresses at one
    /// bucket.
    hasher: RandomState,
    slots: Vec<Slot>,
    /// Slots given back (a counter released to zero), to be used first.
    free: Vec<u32>,
    /// Per class, its oldest and newest counter.
    first: [u32; CLASSES],
    last: [u32; CLASSES],
}

impl Table {
    fn new() -> Self {
        Self {
            window: 0,
            index: HashTable::new(),
            hasher: RandomState::new(),
            slots: Vec::new(),
            free: Vec::new(),
            first: [NIL; CLASSES],
            last: [NIL; CLASSES],
        }
    }

    /// Drops every counter when `window` is later than the one counted, and the
    /// memory with them: a flood's table is given back when its window ends. A
    /// request that read the clock just before a window ended is counted in the
    /// new one.
    fn enter(&mut self, window: u64) {
        if self.window < window {
            *self = Self {
                window,
                ..Self::new()
            };
        }
    }

    /// The slot holding `subject`'s counter, if it has one.
    fn find(&self, subject: &Subject) -> Option<u32> {
        self.find_hashed(self.hasher.hash_one(subject), subject)
    }

    /// [`Table::find`] with the subject's hash already taken.
    fn find_hashed(&self, hash: u64, subject: &Subject) -> Option<u32> {
        self.index
            .find(hash, |&s| self.slots[s as usize].subject == *subject)
            .copied()
    }

    /// Takes slot `s` out of the index.
    fn unindex(&mut self, s: u32) {
        let hash = self.hasher.hash_one(&self.slots[s as usize].subject);
        self.unindex_hashed(hash, s);
    }

    /// [`Table::unindex`] with the slot's subject's hash already taken.
    fn unindex_hashed(&mut self, hash: u64, s: u32) {
        if let Ok(entry) = self.index.find_entry(hash, |&x| x == s) {
            entry.remove();
        }
    }

    /// What `subject` has used: 0 if it has no counter.
    fn used(&self, subject: &Subject) -> u32 {
        self.find(subject)
            .map_or(0, |s| self.slots[s as usize].count)
    }

    /// Counts one for `subject`, giving it a counter if it has none: a free slot,
    /// a new one while there are fewer than `max`, else the oldest of the lowest
    /// class (forgotten).
    fn add(&mut self, subject: &Subject, max: usize) {
        let hash = self.hasher.hash_one(subject);
        if let Some(s) = self.find_hashed(hash, subject) {
            let count = self.slots[s as usize].count.saturating_add(1);
            self.set(s, count);
            return;
        }
        let s = if let Some(s) = self.free.pop() {
            self.slots[s as usize].subject = subject.clone();
            s
        } else if self.slots.len() < max {
            self.slots.push(Slot {
                subject: subject.clone(),
                count: 0,
                prev: NIL,
                next: NIL,
            });
            (self.slots.len() - 1) as u32
        } else {
            let Some(s) = self.first.iter().copied().find(|&s| s != NIL) else {
                return; // max is 0: nothing is tracked (see `RateLimiter::new`)
            };
            self.unlink(s);
            self.unindex(s);
            self.slots[s as usize].subject = subject.clone();
            s
        };
        self.slots[s as usize].count = 1;
        self.link(s);
        self.index.insert_unique(hash, s, |&x| {
            self.hasher.hash_one(&self.slots[x as usize].subject)
        });
    }

    /// Takes one back from `subject`'s counter; a counter back at zero is removed
    /// (its subject has used nothing, which is what having none says).
    fn take_back(&mut self, subject: &Subject) {
        let hash = self.hasher.hash_one(subject);
        let Some(s) = self.find_hashed(hash, subject) else {
            return; // forgotten meanwhile: it had been counted as nothing anyway
        };
        let count = self.slots[s as usize].count;
        if count > 1 {
            self.set(s, count - 1);
        } else {
            self.unlink(s);
            self.unindex_hashed(hash, s);
            self.free.push(s);
        }
    }

    fn set(&mut self, s: u32, count: u32) {
        let moves = class(count) != class(self.slots[s as usize].count);
        if moves {
            self.unlink(s);
        }
        self.slots[s as usize].count = count;
        if moves {
            self.link(s);
        }
    }

    /// Appends slot `s` to its class's list (newest last).
    fn link(&mut self, s: u32) {
        let c = class(self.slots[s as usize].count);
        let last = self.last[c];
        let slot = &mut self.slots[s as usize];
        slot.prev = last;
        slot.next = NIL;
        if last == NIL {
            self.first[c] = s;
        } else {
            self.slots[last as usize].next = s;
        }
        self.last[c] = s;
    }

    fn unlink(&mut self, s: u32) {
        let Slot {
            count, prev, next, ..
        } = self.slots[s as usize];
        let c = class(count);
        if prev == NIL {
            self.first[c] = next;
        } else {
            self.slots[prev as usize].next = next;
        }
        if next == NIL {
            self.last[c] = prev;
        } else {
            self.slots[next as usize].prev = prev;
        }
    }
}

/// Per-action fixed-window limits; see the module's documentation for what it
/// promises.
pub struct RateLimiter {
    limits: Limits,
    window_secs: u64,
    max_tracked: usize,
    ipv6_prefix: u8,
    /// One table per action (by [`Action::index`]), each behind its own lock.
    tables: [Mutex<Table>; Action::ALL],
}

/// The request is over a limit, until the window ends in `retry_after` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: u64,
}

impl RateLimiter {
    /// `max_tracked` counters per action at most (at least 1).
    pub fn new(limits: Limits, window_secs: u64, max_tracked: usize, ipv6_prefix: u8) -> Self {
        Self {
            limits,
            window_secs: window_secs.max(1),
            max_tracked: max_tracked.clamp(1, NIL as usize),
            ipv6_prefix: ipv6_prefix.clamp(1, 128),
            tables: std::array::from_fn(|_| Mutex::new(Table::new())),
        }
    }

    /// Counts one `action` against every subject, unless any of them is already at
    /// its limit: then nothing is counted and the request is `Limited`. A subject
    /// without a counter in this window (never seen, or forgotten) has used
    /// nothing, so it is refused only by a limit of 0.
    pub fn hit(&self, action: Action, subjects: &[Subject], now: u64) -> Result<(), Limited> {
        let Some(limit) = self.limits.of(action) else {
            return Ok(());
        };
        let keys = self.keys(subjects);
        let mut table = self.lock(action);
        table.enter(now / self.window_secs);
        if keys.iter().any(|key| table.used(key) >= limit) {
            return Err(Limited {
                retry_after: self.window_secs - now % self.window_secs,
            });
        }
        for key in &keys {
            table.add(key, self.max_tracked);
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
        let keys = self.keys(subjects);
        let mut table = self.lock(action);
        if table.window != now / self.window_secs {
            return; // that window, and what it counted, is gone
        }
        for key in &keys {
            table.take_back(key);
        }
    }

    /// How many counters `action` has now (for tests of the bound).
    pub fn tracked(&self, action: Action) -> usize {
        self.lock(action).index.len()
    }

    /// The counted subjects, with addresses reduced to what is counted.
    fn keys(&self, subjects: &[Subject]) -> Vec<Subject> {
        let bucket = |ip: &IpAddr| network_of(*ip, self.ipv6_prefix);
        subjects
            .iter()
            .map(|s| match s {
                Subject::Ip(ip) => Subject::Ip(bucket(ip)),
                Subject::SecretFromIp(id, ip) => Subject::SecretFromIp(*id, bucket(ip)),
                Subject::Account(name) => Subject::Account(name.clone()),
            })
            .collect()
    }

    fn lock(&self, action: Action) -> MutexGuard<'_, Table> {
        self.tables[action.index()]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The address as counted: IPv4 (and IPv4-mapped IPv6) as it is, IPv6 reduced to
/// its network of `prefix` bits.
pub fn network_of(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => ipnet::Ipv6Net::new(v6, prefix.clamp(1, 128))
            .map_or(IpAddr::V6(v6), |net| IpAddr::V6(net.network())),
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

/// An address or CIDR block (`10.0.0.0/8`, `::1`): the `ipnet` crate's, read
/// also from a bare address (a network of one), and matching an IPv4-mapped
/// IPv6 address as the IPv4 address it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet(ipnet::IpNet);

impl IpNet {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        match text.parse::<ipnet::IpNet>() {
            Ok(net) => Some(Self(net)),
            Err(_) => text.parse::<IpAddr>().ok().map(|ip| Self(ip.into())),
        }
    }

    /// Whether `ip` is in this network (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
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
            10,
            64,
        );
        let a = [Subject::Ip(ip("192.0.2.1"))];
        let fp = Action::FailedPassphrase;
        assert!(limiter.hit(fp, &a, 0).is_ok());
        assert_eq!(
            limiter.hit(fp, &a, 0),
            Err(Limited { retry_after: 60 }),
            "taken until released"
        );
        limiter.release(fp, &a, 0);
        assert_eq!(limiter.tracked(fp), 0, "a counter back at zero is dropped");
        assert!(limiter.hit(fp, &a, 0).is_ok(), "given back");
        limiter.release(fp, &a, 60);
        assert_eq!(
            limiter.hit(fp, &a, 0),
            Err(Limited { retry_after: 60 }),
            "a stale release does nothing"
        );
    }

    /// The `i`-th of millions of distinct clients: IPv4 for even `i`, a distinct
    /// IPv6 /64 for odd `i` (from documentation and benchmarking ranges).
    fn flood_address(i: u32) -> IpAddr {
        if i.is_multiple_of(2) {
            IpAddr::from((0xC612_0000u32 + i).to_be_bytes()) // from 198.18.0.0
        } else {
            let net = (0x2001_0db8u128 << 96) | (u128::from(i) << 64);
            IpAddr::V6(std::net::Ipv6Addr::from(net | u128::from(i)))
        }
    }

    /// Issue 24: reveals of unknown keys from millions of addresses (an IPv6 /44 or
    /// a botnet) locked out every fresh client and the proxy's own address: every
    /// action shared one sketch, and the failed-passphrase check (limit 5) read
    /// cells that the reveal counts had filled.
    #[test]
    fn millions_of_addresses_lock_out_no_client_the_limiter_never_saw() {
        // Debug builds make about 300,000 limiter calls a second: there, 300,000
        // addresses (each a reveal, a passphrase check and a create: 300 times
        // `max_tracked`) keep the test to a few seconds; `cargo test --release`
        // runs the 3,000,000.
        const ADDRESSES: u32 = if cfg!(debug_assertions) {
            300_000
        } else {
            3_000_000
        };
        const MAX_TRACKED: usize = 1_000;
        let limits = Limits {
            create: Some(5),
            reveal: Some(5),
            metadata: Some(5),
            failed_passphrase: Some(5),
            email: Some(5),
            failed_sign_in: Some(5),
        };
        let limiter = RateLimiter::new(limits, 1200, MAX_TRACKED, 64);
        let now = 1200 * 1000 + 5;
        for i in 0..ADDRESSES {
            let address = flood_address(i);
            let client = [Subject::Ip(address)];
            let guess = [Subject::SecretFromIp([(i % 251) as u8; 32], address)];
            assert!(limiter.hit(Action::Reveal, &client, now).is_ok());
            // What a reveal with a passphrase does: counted, then given back
            // because the key was unknown, not the passphrase wrong.
            assert!(limiter.hit(Action::FailedPassphrase, &guess, now).is_ok());
            limiter.release(Action::FailedPassphrase, &guess, now);
            assert!(limiter.hit(Action::Create, &client, now).is_ok());
        }
        for action in [Action::Reveal, Action::Create, Action::FailedPassphrase] {
            assert!(limiter.tracked(action) <= MAX_TRACKED, "{action:?}");
        }

        let proxy = ["127.0.0.1", "::1"].map(ip);
        let fresh = (1..=50u8).map(|i| IpAddr::from([203, 0, 113, i]));
        for address in fresh.chain(proxy) {
            for action in [Action::Reveal, Action::Create, Action::Metadata] {
                let refused = limiter.hit(action, &[Subject::Ip(address)], now);
                assert!(refused.is_ok(), "{address} refused for {action:?}");
            }
            let secret = [Subject::SecretFromIp([0xAB; 32], address)];
            let refused = limiter.hit(Action::FailedPassphrase, &secret, now);
            assert!(refused.is_ok(), "{address}'s first passphrase refused");
        }
    }

    #[test]
    fn a_flood_of_new_addresses_does_not_make_the_limiter_forget_a_busy_client() {
        let limiter = RateLimiter::new(
            Limits {
                create: Some(10),
                ..Limits::default()
            },
            60,
            100,
            64,
        );
        let create = |ip: IpAddr| limiter.hit(Action::Create, &[Subject::Ip(ip)], 5);
        let busy = ip("198.51.100.1");
        for _ in 0..4 {
            assert!(create(busy).is_ok());
        }
        // Each new address forgets the oldest of those that sent one request,
        // never one that sent more while such a one is left.
        for i in 0..100_000 {
            assert!(create(flood_address(i)).is_ok(), "{i}");
        }
        assert_eq!(limiter.tracked(Action::Create), 100);
        let passed = (0..20).take_while(|_| create(busy).is_ok()).count();
        assert_eq!(passed, 6, "the busy client still has only its allowance");
    }

    #[test]
    fn a_full_table_forgets_an_old_counter_rather_than_refuse_a_new_client() {
        let limiter = RateLimiter::new(
            Limits {
                create: Some(1),
                ..Limits::default()
            },
            60,
            2,
            64,
        );
        let create = |s: &str| limiter.hit(Action::Create, &[Subject::Ip(ip(s))], 5);
        assert!(create("192.0.2.1").is_ok());
        assert!(create("192.0.2.2").is_ok());
        assert!(create("192.0.2.1").is_err());
        assert!(create("192.0.2.3").is_ok(), "never seen, served");
        // The price of bounded memory: the oldest counter made room, and its
        // client starts again. Documented in the README.
        assert!(create("192.0.2.1").is_ok(), "forgotten");
        assert_eq!(limiter.tracked(Action::Create), 2);
    }

    #[test]
    fn actions_are_counted_apart() {
        let limiter = RateLimiter::new(
            Limits {
                reveal: Some(3),
                failed_passphrase: Some(1),
                ..Limits::default()
            },
            60,
            1,
            64,
        );
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            assert!(limiter.hit(Action::Reveal, &[Subject::Ip(a)], 5).is_ok());
        }
        assert!(limiter.hit(Action::Reveal, &[Subject::Ip(a)], 5).is_err());
        let secret = [Subject::SecretFromIp([1; 32], a)];
        assert!(limiter.hit(Action::FailedPassphrase, &secret, 5).is_ok());
        assert_eq!(limiter.tracked(Action::Reveal), 1);
        assert_eq!(limiter.tracked(Action::FailedPassphrase), 1);
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
