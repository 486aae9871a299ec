//! Seeing files appear the moment they do (inotify), for tests that kill a
//! process right then.

use std::path::Path;
use std::time::{Duration, Instant};

/// Watches `dir` for new files with inotify.
pub struct Watch(std::os::fd::OwnedFd);

impl Watch {
    pub fn new(dir: &Path) -> Self {
        use std::os::fd::FromRawFd;
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
        // SAFETY: plain system calls; each result is checked, and the descriptor
        // is owned from here on.
        unsafe {
            let fd = libc::inotify_init1(libc::IN_CLOEXEC);
            assert!(
                fd >= 0,
                "inotify_init1: {}",
                std::io::Error::last_os_error()
            );
            let watch = libc::inotify_add_watch(fd, path.as_ptr(), libc::IN_CREATE);
            assert!(
                watch >= 0,
                "inotify_add_watch: {}",
                std::io::Error::last_os_error()
            );
            Self(std::os::fd::OwnedFd::from_raw_fd(fd))
        }
    }

    /// Waits (at most `limit`) for a file whose name `matches` to be created;
    /// `true` when it was.
    pub fn wait_for(&self, matches: impl Fn(&str) -> bool, limit: Duration) -> bool {
        use std::os::fd::AsRawFd;
        let deadline = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let mut poll = libc::pollfd {
                fd: self.0.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let millis = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
            // SAFETY: one pollfd on a descriptor we own.
            if unsafe { libc::poll(&mut poll, 1, millis) } <= 0 {
                continue;
            }
            // SAFETY: reads into a buffer we own, at most its length.
            let n = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            let n = usize::try_from(n).unwrap_or(0);
            let mut at = 0;
            // struct inotify_event: wd, mask, cookie, len (4 bytes each), name[len].
            while at + 16 <= n {
                let len = u32::from_ne_bytes(buf[at + 12..at + 16].try_into().unwrap()) as usize;
                let name = &buf[at + 16..(at + 16 + len).min(n)];
                let name = String::from_utf8_lossy(name);
                if matches(name.trim_end_matches('\0')) {
                    return true;
                }
                at += 16 + len;
            }
        }
        false
    }
}
