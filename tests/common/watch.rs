//! Seeing files appear the moment they do (inotify), for tests that kill a
//! process right then.

use std::path::Path;
use std::time::{Duration, Instant};

/// Watches `dir` for new files with inotify.
pub struct Watch(std::os::fd::OwnedFd);

impl Watch {
    pub fn new(dir: &Path) -> Self {
        use rustix::fs::inotify;
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC).expect("inotify_init1");
        inotify::add_watch(&fd, dir, inotify::WatchFlags::CREATE).expect("inotify_add_watch");
        Self(fd)
    }

    /// Waits (at most `limit`) for a file whose name `matches` to be created;
    /// `true` when it was.
    pub fn wait_for(&self, matches: impl Fn(&str) -> bool, limit: Duration) -> bool {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let deadline = Instant::now() + limit;
        let mut buf = [0u8; 4096];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let mut fds = [PollFd::new(&self.0, PollFlags::IN)];
            let timeout = Timespec::try_from(left).ok();
            if !matches!(poll(&mut fds, timeout.as_ref()), Ok(1..)) {
                continue;
            }
            let n = rustix::io::read(&self.0, &mut buf).unwrap_or(0);
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
