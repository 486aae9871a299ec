//! A full disk (a small tmpfs that fills; the tests run as root to mount it):
//! creates, reveals and burns are refused with 503 "cannot store secrets right
//! now" while it is full (the API and the pages), `/api/v1/status` says
//! `offline`, nothing acknowledged is lost, SIGTERM still exits 0, and once
//! there is room again the same process reopens its database and serves again.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;

/// A tmpfs of `mib` MiB mounted on a directory of its own, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, mib: u64) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let options = CString::new(format!("size={mib}m,mode=0700")).unwrap();
        let mounted = rustix::mount::mount(
            "tmpfs",
            at,
            "tmpfs",
            rustix::mount::MountFlags::empty(),
            options.as_c_str(),
        );
        assert_eq!(mounted, Ok(()), "mounting a tmpfs (the tests run as root)");
        Self(at.to_owned())
    }

    fn free_bytes(&self) -> u64 {
        let stats = rustix::fs::statvfs(&self.0).expect("statvfs");
        stats.f_bavail * stats.f_frsize
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy, so an open file cannot keep it busy.
        let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
    }
}

/// What the API and the English pages say while the database cannot write.
const CANNOT_STORE: &str = "The server cannot store secrets right now. Please try again later.";

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
        assert_error(response, 503, CANNOT_STORE).await;
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

/// `/api/v1/status`'s `status`.
async fn status_word(server: &Server) -> String {
    let body = ok_json(server.get(STATUS).await).await;
    body["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn once_the_full_disk_has_room_again_the_same_process_serves_every_secret_again() {
    let tmp = tempfile::tempdir().unwrap();
    // Playing systemd: a server that reopens its database itself is not one
    // to kill, so its watchdog is fed all along.
    let watchdog = Notifications::listen(&tmp.path().join("notify.sock"));
    let socket = watchdog.path.to_str().unwrap().to_owned();
    let (full, server) = fill_until_a_create_fails(tmp.path(), |otsd| {
        otsd.env("NOTIFY_SOCKET", &socket)
            .env("WATCHDOG_USEC", "200000")
            .env("OTSD_METRICS__ENABLED", "true")
    })
    .await;
    let pid = server.pid();

    // Full: everything that needs the database is refused, in words that say so.
    assert_eq!(status_word(&server).await, "offline");
    let ready = server.get("/readyz").await;
    assert_eq!(
        ready.status(),
        503,
        "not ready while the database cannot write"
    );
    let body: serde_json::Value = ready.json().await.unwrap();
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("cannot write")),
        "{body}"
    );
    let create = server
        .post_form(SHARE, &[("secret", "on a full disk")])
        .await;
    assert_error(create, 503, CANNOT_STORE).await;
    let (first_key, _) = &full.acknowledged[0];
    assert_error(server.reveal(first_key, None).await, 503, CANNOT_STORE).await;
    let page = server
        .header("accept", "text/html")
        .post_form("/share", &[("secret", "on a full disk")])
        .await;
    assert_eq!(page.status(), 503);
    let html = page.text().await.unwrap();
    assert!(html.contains(CANNOT_STORE), "the page says why: {html}");
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("\notsd_storage_available 0\n"),
        "{metrics}"
    );
    let quiet_from = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        watchdog.fed_since(quiet_from) > 0,
        "the watchdog is fed while the server waits for room"
    );

    std::fs::remove_file(&full.filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while status_word(&server).await != "nominal" {
        assert!(
            Instant::now() < deadline,
            "the database was not reopened within 20 s:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    assert_eq!(server.pid(), pid);
    assert_eq!(server.get("/readyz").await.status(), 200);
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("\notsd_storage_available 1\n"),
        "{metrics}"
    );
    server.share(&[("secret", "room again")]).await;
    for (key, value) in &full.acknowledged {
        assert_eq!(&server.reveal_value(key, None).await, value, "secret {key}");
        assert_unknown_secret(server.reveal(key, None).await, key).await;
    }
    let done = server.stop();
    assert_eq!(done.status.code(), Some(0), "stderr:\n{}", done.stderr);
    assert!(
        done.stderr.contains("cannot write") && done.stderr.contains("reopened the database"),
        "says what happened:\n{}",
        done.stderr
    );
    let _ = &full.fs;
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
