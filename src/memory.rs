//! The allocator's settings, and giving freed heap memory back to the system.
//!
//! glibc keeps what a burst freed inside its arenas, so a process that once
//! handled a burst (of uploads, or of expired records) would stay at its peak
//! size. Where a burst is known to have ended, otsd trims.
//!
//! The one module with `unsafe` (the crate denies `unsafe_code` otherwise, and
//! its two functions here allow it): `mallopt` and `malloc_trim` are glibc's
//! own, with no safe wrapper in `rustix` (every other system call otsd makes
//! goes through `rustix`).

/// Returns freed heap memory to the system; a no-op off glibc.
// One of the crate's two exceptions to `unsafe_code = "deny"` (Cargo.toml):
// see the module's doc.
#[allow(unsafe_code)]
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// glibc serves allocations from 128 KiB up with their own mapping, returned to
/// the system when freed, but raises that threshold to the size of each such
/// block freed (up to 32 MiB). After a few large request bodies, every later
/// large buffer (ours and the HTTP layer's, one per connection) comes from the
/// heap, and stays there when freed; `malloc_trim` did not give it back. With
/// the threshold fixed, memory under a flood of large uploads stays bounded by
/// the body budget: 1,200 clients stalling on 512 KiB bodies held the process at
/// 82 MiB (246 MiB without), 400 at 67–76 MiB (118–131 MiB without), per
/// `benches/stalled_bodies.py`. The price, presumably because sled's large write
/// buffers then get a mapping each too (not profiled):
/// in four alternating `benches/load.sh` pairs reveals ran at
/// 8,193–11,310/s against 10,589–11,323/s without (creates: no difference), with
/// a lower peak RSS at 100,000 live secrets (46–64 MiB against 58–69 MiB).
/// Small allocations are unaffected. `MALLOC_MMAP_THRESHOLD_` still wins.
///
/// Fixing one threshold also fixes glibc's trim threshold, at 128 KiB: every
/// arena then gave back and took again the top of its heap around each group
/// commit (`mprotect` and page faults, 0.4 calls per create under `strace -c`).
/// It is set to 4 MiB per arena instead; bursts are still trimmed explicitly
/// (`trim_heap`). `MALLOC_TRIM_THRESHOLD_` still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
// The other exception to `unsafe_code = "deny"`: see the module's doc.
#[allow(unsafe_code)]
pub fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; no thread has started.
    unsafe {
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
        if std::env::var_os("MALLOC_TRIM_THRESHOLD_").is_none() {
            libc::mallopt(libc::M_TRIM_THRESHOLD, 4 << 20);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune_allocator() {}
