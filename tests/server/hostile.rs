//! The compiled binary under hostile clients, with real process limits: what took
//! the server down before must now leave it answering, and stop it cleanly.

use crate::common::*;
use std::time::Duration;

const MULTIPART: &str = "multipart/form-data; boundary=XX";
/// 168 bytes on the wire: a multipart body whose closing `--XX--` never comes.
const TRUNCATED: &[u8] = b"--XX\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nabc\r\n";

#[test]
fn three_hundred_truncated_bodies_under_256_descriptors_leave_it_answering() {
    let dir = tempfile::tempdir().unwrap();
    let server = Otsd::new(dir.path()).max_open_files(256).start();
    let request = raw_http::post("/api/v1/share", MULTIPART, TRUNCATED);

    // In three waves of 100 (the limit leaves room for one wave, not three): each
    // wave's sockets must be given back before the next comes, however slowly a
    // busy machine lets the server get to them.
    for wave in 0..3 {
        for _ in 0..100 {
            raw_http::send_and_leave(server.socket_addr(), &request);
        }
        let left = raw_http::close_wait_sockets_within(server.port, Duration::from_secs(5));
        assert_eq!(
            left, 0,
            "wave {wave}: sockets still held for clients that left"
        );
    }
    // And each still answered, when its client waits for the answer.
    for _ in 0..20 {
        let resp = raw_http::exchange(server.socket_addr(), &request).expect("an answer");
        assert_eq!(resp.intended(), Some(400), "{resp:?}");
    }

    let status = raw_http::exchange(
        server.socket_addr(),
        &raw_http::request("GET", "/api/v1/status", &[], b""),
    )
    .expect("status answers");
    assert_eq!(status.status, 200, "{status:?}");
    let done = server.stop();
    assert!(
        !done.stderr.contains("Too many open files"),
        "{}",
        done.stderr
    );
}

#[test]
fn a_malformed_multipart_body_is_answered_and_no_panic_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = Otsd::new(dir.path()).start();

    let request = raw_http::post("/api/v1/share", "multipart/form-data; boundary=x", b"\n");
    let resp = raw_http::exchange(server.socket_addr(), &request).expect("an answer");

    assert_eq!(resp.status, 404);
    assert_eq!(resp.intended(), Some(400));
    assert_eq!(resp.message(), "The multipart body is malformed");
    let done = server.stop();
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
}

#[test]
fn sigterm_stops_cleanly_even_when_admin_sock_was_removed() {
    let dir = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(dir.path());
    let server = otsd.start();
    std::fs::remove_file(otsd.data_path().join("admin.sock")).expect("the socket exists");

    server.stop(); // exits 0 within the limit, or panics

    // The database lock was released: the next server starts on the same data.
    otsd.start().stop();
}

#[test]
fn slow_bodies_are_cut_off_and_their_sockets_freed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Otsd::new(dir.path())
        .env("OTSD_LIMITS__BODY_TIMEOUT_SECS", "1")
        .max_open_files(256)
        .start();
    let head = "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nsecret=";

    // More slow clients than the process has descriptors.
    let mut waves = Vec::new();
    for _ in 0..3 {
        let wave: Vec<_> = (0..150)
            .map(|_| {
                let mut stream = raw_http::connect(server.socket_addr());
                std::io::Write::write_all(&mut stream, head.as_bytes()).unwrap();
                stream
            })
            .collect();
        for mut stream in wave {
            let resp = raw_http::read_response(&mut stream).expect("cut off with an answer");
            assert_eq!(resp.intended(), Some(408), "{resp:?}");
            assert!(resp.closed);
            waves.push(resp.status);
        }
    }
    assert_eq!(waves.len(), 450);
    let status = raw_http::exchange(
        server.socket_addr(),
        &raw_http::request("GET", "/api/v1/status", &[], b""),
    )
    .expect("status answers");
    assert_eq!(status.status, 200);
    let left = raw_http::close_wait_sockets_within(server.port, Duration::from_secs(3));
    assert_eq!(
        left, 0,
        "sockets the server still holds for clients that left"
    );
    server.stop();
}

/// The peak resident size of process `pid` so far (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("its status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in kB");
    kib * 1024
}

/// A crowd of password sign-ins, each from its own address for its own name
/// (so no rate limit stops any of them), holds the memory of a few Argon2id
/// checks at a time, not one per request: each check holds 19 MiB, and they
/// run one per core while the others wait. All are answered alike.
#[tokio::test]
async fn a_crowd_of_sign_ins_holds_the_memory_of_a_few_password_checks() {
    const CHECK: u64 = 19 << 20;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    // Enough at once that one check per request would hold far more than
    // the bound below (16 checks' worth per core, against 2 per core + 96 MiB).
    let crowd = 16 * cores;
    let bound = 2 * cores * CHECK + (96 << 20);

    let dir = tempfile::tempdir().unwrap();
    let server = Otsd::new(dir.path())
        .env("OTSD_RATE_LIMITS__TRUSTED_PROXIES", "127.0.0.1")
        .start();
    // One sign-in first: the decoy hash is made then, and the server's
    // workers have served a page.
    let first = server
        .forwarded_for("198.51.100.1")
        .post_form(
            "/signin",
            &[("name", "warm"), ("password", "a first guess")],
        )
        .await;
    assert_eq!(first.status(), 401);
    let before = peak_rss(server.pid());

    let answers = futures_util::future::join_all((0..crowd).map(|i| {
        let client = server.forwarded_for(&format!("10.{}.{}.1", i / 250, i % 250));
        async move {
            let name = format!("nobody{i}");
            let form = [("name", name.as_str()), ("password", "a guess of a crowd")];
            client.post_form("/signin", &form).await.status()
        }
    }))
    .await;
    assert!(
        answers.iter().all(|s| *s == 401),
        "every sign-in refused alike: {answers:?}"
    );
    let grown = peak_rss(server.pid()).saturating_sub(before);
    assert!(
        grown < bound,
        "{crowd} sign-ins at once raised the peak by {} MiB (bound {} MiB)",
        grown >> 20,
        bound >> 20
    );
}
