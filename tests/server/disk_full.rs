//! A full disk (a small tmpfs that fills; the tests run as root to mount it):
//! creates fail cleanly and fast while it is full, nothing acknowledged is lost,
//! SIGTERM still exits 0, and once there is room again the server stops by itself
//! (exit 75) so that its service manager restarts it over the reopened database.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;

/// A tmpfs of `mib` MiB mounted on a directory of its own, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, mib: u64) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let target = CString::new(at.as_os_str().as_bytes()).unwrap();
        let options = CString::new(format!("size={mib}m,mode=0700")).unwrap();
        // SAFETY: mount(2) with valid C strings; the result is checked.
        let mounted = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                options.as_ptr().cast(),
            )
        };
        assert_eq!(
            mounted,
            0,
            "mounting a tmpfs (the tests run as root): {}",
            std::io::Error::last_os_error()
        );
        Self(at.to_owned())
    }

    fn free_bytes(&self) -> u64 {
        let path = CString::new(self.0.as_os_str().as_bytes()).unwrap();
        let mut stats = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
        // SAFETY: statvfs fills the struct; the result is checked.
        assert_eq!(
            unsafe { libc::statvfs(path.as_ptr(), stats.as_mut_ptr()) },
            0
        );
        // SAFETY: filled by the successful call above.
        let stats = unsafe { stats.assume_init() };
        stats.f_bavail * stats.f_frsize
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let target = CString::new(self.0.as_os_str().as_bytes()).unwrap();
        // SAFETY: umount2(2) on the path we mounted; lazy, so an open file
        // cannot keep it busy.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    }
}

/// A server on a tmpfs, the disk filled to `left` bytes, creating 5,000-byte
/// secrets until one fails; returns what was acknowledged before it.
struct Full {
    fs: Tmpfs,
    otsd: Otsd,
    filler: PathBuf,
    acknowledged: Vec<(String, String)>,
}

async fn fill_until_a_create_fails(
    dir: &Path,
    configure: impl FnOnce(Otsd) -> Otsd,
) -> (Full, Server) {
    let fs = Tmpfs::mount(&dir.join("fs"), 24);
    let otsd = configure(
        Otsd::new(dir)
            .data_dir(&fs.0.join("data"))
            .env("OTSD_RATE_LIMITS__ENABLED", "false"),
    );
    let server = otsd.start();
    let filler = fs.0.join("filler");
    let fill = fs.free_bytes().saturating_sub(3 << 20);
    std::fs::write(&filler, vec![0u8; usize::try_from(fill).unwrap()]).unwrap();

    let mut acknowledged = Vec::new();
    let started = Instant::now();
    loop {
        assert!(
            acknowledged.len() < 5_000 && started.elapsed() < Duration::from_secs(60),
            "the disk never filled"
        );
        let value = format!("{}{}", unique("full-"), "x".repeat(5_000));
        let asked = Instant::now();
        let response = server.post_form(SHARE, &[("secret", &value)]).await;
        if response.status() == 200 {
            let receipt = ok_json(response).await;
            acknowledged.push((text(&receipt, "secret_key").to_owned(), value));
            continue;
        }
        assert_error(response, 500, "An unexpected error occurred :[").await;
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "a create on a full disk fails fast, took {:?}",
            asked.elapsed()
        );
        break;
    }
    assert!(!acknowledged.is_empty(), "some creates fit first");
    let full = Full {
        fs,
        otsd,
        filler,
        acknowledged,
    };
    (full, server)
}

/// The notifications a server sends to `NOTIFY_SOCKET`, read as they come (a
/// socket nobody reads would block the sender), with when each arrived.
struct Notifications {
    path: PathBuf,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(Instant, String)>>>,
}

impl Notifications {
    fn listen(path: &Path) -> Self {
        let socket = std::os::unix::net::UnixDatagram::bind(path).unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                sink.lock().unwrap().push((Instant::now(), text));
            }
        });
        Self {
            path: path.to_owned(),
            seen,
        }
    }

    /// How many `WATCHDOG=1` arrived after `since`.
    fn fed_since(&self, since: Instant) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, text)| *at >= since && text.trim() == "WATCHDOG=1")
            .count()
    }
}

/// Frees the disk, starts the server again and reveals every acknowledged secret.
async fn everything_acknowledged_is_there(full: &Full) {
    let _ = std::fs::remove_file(&full.filler);
    let server = full.otsd.start();
    for (key, value) in &full.acknowledged {
        assert_eq!(&server.reveal_value(key, None).await, value, "secret {key}");
    }
    server.share(&[("secret", "room again")]).await;
    server.stop();
    let _ = &full.fs;
}

#[tokio::test]
async fn once_the_full_disk_has_room_again_the_server_stops_to_be_restarted() {
    let tmp = tempfile::tempdir().unwrap();
    // Playing systemd: the watchdog is fed while the database answers.
    let watchdog = Notifications::listen(&tmp.path().join("notify.sock"));
    let socket = watchdog.path.to_str().unwrap().to_owned();
    let (full, server) = fill_until_a_create_fails(tmp.path(), |otsd| {
        otsd.env("NOTIFY_SOCKET", &socket)
            .env("WATCHDOG_USEC", "200000")
    })
    .await;
    assert!(watchdog.fed_since(Instant::now() - Duration::from_secs(600)) > 0);

    // Still full: the server keeps running (answering with errors), and says it
    // is not ready.
    std::thread::sleep(Duration::from_secs(2));
    let status = server.get(STATUS).await;
    assert_eq!(status.status(), 200, "the server still answers while full");
    let ready = server.get("/readyz").await;
    assert_eq!(
        ready.status(),
        503,
        "not ready while the database has failed"
    );
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "not ready");
    let quiet_from = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        watchdog.fed_since(quiet_from),
        0,
        "the watchdog is not fed while the database has failed"
    );
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("failed")),
        "{body}"
    );

    std::fs::remove_file(&full.filler).unwrap();
    let done = server.wait_exit(Duration::from_secs(20));
    assert_eq!(
        done.status.code(),
        Some(75),
        "exits with EX_TEMPFAIL to be restarted; stderr:\n{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("the database failed") && done.stderr.contains("has room again"),
        "says why it stopped:\n{}",
        done.stderr
    );
    everything_acknowledged_is_there(&full).await;
}

#[tokio::test]
async fn sigterm_on_a_full_disk_exits_zero_and_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let (full, server) = fill_until_a_create_fails(tmp.path(), |otsd| otsd).await;

    let done = server.stop();
    assert!(
        done.stderr.contains("nothing acknowledged is lost"),
        "the failed last flush is explained:\n{}",
        done.stderr
    );
    everything_acknowledged_is_there(&full).await;
}
