//! What the rate limiter costs: time per check and memory held, under a flood of
//! distinct addresses like the one in issue 24 (reveals of unknown keys, each
//! from a new address), and whether clients it never saw are served afterwards.
//! In process, no server: it measures the limiter alone.
//!
//! `cargo run --release --example ratelimit_cost -- [ADDRESSES] [MAX_TRACKED]`
//! (defaults 3,000,000 and 100,000, the configuration's default).

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use otsd::ratelimit::{Action, Limits, RateLimiter, Subject};

/// The system allocator, counting the bytes live, so that the limiter's memory
/// is what it allocated rather than the process's RSS.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// A global allocator can only be written with `unsafe` (the trait is unsafe to
// implement and its methods to call); this one only forwards to `System`.
#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` with its own arguments, so
// `System`'s guarantees are ours; the counter changes no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` (every allocation here does).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as for `dealloc`; `new` is the caller's, checked by its contract.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The `i`-th distinct client: IPv4 for even `i`, a distinct IPv6 /64 for odd.
fn address(i: u32) -> IpAddr {
    if i.is_multiple_of(2) {
        IpAddr::V4(Ipv4Addr::from(0x0B00_0000 + i))
    } else {
        IpAddr::V6(Ipv6Addr::from(
            (0x2001_0db8u128 << 96) | (u128::from(i) << 64) | 1,
        ))
    }
}

fn digest(i: u32) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[..4].copy_from_slice(&i.to_be_bytes());
    id
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addresses: u32 = args
        .next()
        .map_or(3_000_000, |a| a.parse().expect("a count"));
    let max_tracked: usize = args.next().map_or(100_000, |a| a.parse().expect("a count"));
    let now = 1_000_000;
    let before = LIVE.load(Ordering::Relaxed);
    let limiter = RateLimiter::new(
        Limits {
            create: Some(20),
            reveal: Some(20),
            metadata: Some(20),
            failed_passphrase: Some(5),
            email: Some(20),
            failed_sign_in: Some(10),
        },
        20 * 60,
        max_tracked,
        64,
    );

    let started = Instant::now();
    for i in 0..addresses {
        let _ = limiter.hit(Action::Reveal, &[Subject::Ip(address(i))], now);
    }
    let reveal_ns = started.elapsed().as_nanos() as f64 / f64::from(addresses);
    let after_reveals = LIVE.load(Ordering::Relaxed) - before;

    let started = Instant::now();
    for i in 0..addresses {
        let subject = [Subject::SecretFromIp(digest(i), address(i))];
        if limiter.hit(Action::FailedPassphrase, &subject, now).is_ok() {
            limiter.release(Action::FailedPassphrase, &subject, now);
        }
    }
    let passphrase_ns = started.elapsed().as_nanos() as f64 / f64::from(addresses);
    let after_passphrases = LIVE.load(Ordering::Relaxed) - before;

    let started = Instant::now();
    for i in 0..addresses {
        let _ = limiter.hit(Action::Create, &[Subject::Ip(address(i))], now);
    }
    let create_ns = started.elapsed().as_nanos() as f64 / f64::from(addresses);

    let held = LIVE.load(Ordering::Relaxed) - before;

    // One client, again and again (a table lookup that finds it).
    let one = [Subject::Ip(address(7))];
    let repeats = 1_000_000u32;
    let started = Instant::now();
    for _ in 0..repeats {
        let _ = limiter.hit(Action::Metadata, &one, now);
    }
    let repeat_ns = started.elapsed().as_nanos() as f64 / f64::from(repeats);

    let fresh: Vec<IpAddr> = (0..50u32)
        .map(|i| IpAddr::V4(Ipv4Addr::from(0xC633_6400 + i))) // 198.51.100.x
        .chain([IpAddr::V4(Ipv4Addr::LOCALHOST)])
        .collect();
    let refused = |action| {
        fresh
            .iter()
            .filter(|ip| limiter.hit(action, &[Subject::Ip(**ip)], now).is_err())
            .count()
    };
    let refused_reveals = refused(Action::Reveal);
    let refused_passphrases = fresh
        .iter()
        .filter(|ip| {
            let subject = [Subject::SecretFromIp([0xAB; 32], **ip)];
            limiter
                .hit(Action::FailedPassphrase, &subject, now)
                .is_err()
        })
        .count();

    println!(
        "{addresses} distinct addresses (half IPv4, half IPv6 /64s), max_tracked {max_tracked}"
    );
    println!("  reveal check, new address each:        {reveal_ns:7.1} ns");
    println!("  passphrase check+release, new each:    {passphrase_ns:7.1} ns");
    println!("  create check, new address each:        {create_ns:7.1} ns");
    println!("  metadata check, one address repeated:  {repeat_ns:7.1} ns");
    let mib = |bytes: isize| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "  memory held after reveals {:.1} MiB, + passphrases {:.1} MiB, + creates {:.1} MiB",
        mib(after_reveals),
        mib(after_passphrases),
        mib(held)
    );
    println!(
        "  of 50 fresh addresses and 127.0.0.1: reveals refused {refused_reveals}, passphrase checks refused {refused_passphrases}"
    );
}
