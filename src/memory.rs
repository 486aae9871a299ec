//! Giving freed heap memory back to the system.
//!
//! glibc keeps what a burst freed inside its arenas, so a process that once
//! handled a burst (of uploads, or of expired records) would stay at its peak
//! size. Where a burst is known to have ended, otsd trims.

/// Returns freed heap memory to the system; a no-op off glibc.
pub(crate) fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}
