//! Spec §5: create, reveal and burn are durable before the response is sent. The
//! server is killed with SIGKILL (nothing flushed on the way out) right after the
//! acknowledgement, then restarted on the same data directory.

use futures_util::future::join_all;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_creates_survive_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = otsd.start();

    // 50 concurrent creates; every fifth one with a passphrase.
    let wanted: Vec<(String, Option<String>)> = (0..50)
        .map(|i| {
            let passphrase = (i % 5 == 0).then(|| unique("pass-"));
            (unique(&format!("durable-{i}-")), passphrase)
        })
        .collect();
    let creates = wanted.iter().map(|(value, passphrase)| {
        let mut form = vec![("secret", value.as_str())];
        if let Some(p) = passphrase {
            form.push(("passphrase", p.as_str()));
        }
        let request = server.post_form(SHARE, &form);
        async move { ok_json(request.await).await }
    });
    let acknowledged = join_all(creates).await;
    // Every create has been acknowledged: pull the plug at once.
    let log = server.kill9();
    assert!(
        !log.contains("stopped cleanly"),
        "SIGKILL allows no clean stop"
    );

    let server = otsd.start();
    for ((value, passphrase), receipt) in wanted.iter().zip(&acknowledged) {
        let key = text(receipt, "secret_key").to_owned();
        let revealed = server.reveal_value(&key, passphrase.as_deref()).await;
        assert_eq!(&revealed, value, "secret {key} after kill -9");
    }
    server.stop();
}

#[tokio::test]
async fn a_revealed_secret_stays_gone_after_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = otsd.start();
    let value = unique("read-once-");
    let receipt = server.share(&[("secret", &value)]).await;
    let (key, metadata_key) = (
        text(&receipt, "secret_key").to_owned(),
        text(&receipt, "metadata_key").to_owned(),
    );
    assert_eq!(server.reveal_value(&key, None).await, value);
    server.kill9();

    let server = otsd.start();
    assert_unknown_secret(server.reveal(&key, None).await, &key).await;
    let receipt = ok_json(server.metadata(&metadata_key).await).await;
    assert_eq!(receipt["state"], "received", "receipt: {receipt}");
    assert!(
        receipt.get("secret_key").is_none(),
        "no secret_key once received: {receipt}"
    );
    assert!(receipt["received"].is_u64(), "receipt: {receipt}");
    server.stop();
}

#[tokio::test]
async fn a_burned_secret_stays_burned_after_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = otsd.start();
    let value = unique("burn-me-");
    let receipt = server.share(&[("secret", &value)]).await;
    let (key, metadata_key) = (
        text(&receipt, "secret_key").to_owned(),
        text(&receipt, "metadata_key").to_owned(),
    );
    let burned = ok_json(server.burn(&metadata_key, None).await).await;
    assert_eq!(
        burned["state"]["state"], "burned",
        "burn response: {burned}"
    );
    server.kill9();

    let server = otsd.start();
    assert_unknown_secret(server.reveal(&key, None).await, &key).await;
    let receipt = ok_json(server.metadata(&metadata_key).await).await;
    assert_eq!(receipt["state"], "burned", "receipt: {receipt}");
    assert_unknown_secret(server.burn(&metadata_key, None).await, &metadata_key).await;
    server.stop();
}

/// A share request whose body arrives in two halves, over a raw connection, so the
/// test knows the request is in flight when SIGTERM arrives.
struct HalfSent {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl HalfSent {
    /// Connects, has one full request answered on the connection (so a worker
    /// surely holds it), then sends the head and half the body of a share.
    fn open(port: u16, value: &str) -> Self {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let status = format!("GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
        stream.write_all(status.as_bytes()).expect("send status");
        let first = raw_http::read_one(&mut stream).expect("a status response");
        assert_eq!(first.status, 200, "status: {first:?}");

        let body = format!("secret={value}");
        let head = format!(
            "POST /api/v1/share HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (half, rest) = body.as_bytes().split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).expect("send head");
        stream.write_all(half).expect("send half the body");
        stream.flush().unwrap();
        Self {
            stream,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest and reads the whole response: (status line, body).
    fn finish(mut self) -> (String, String) {
        self.stream.write_all(&self.rest).expect("send the rest");
        let mut response = Vec::new();
        self.stream
            .read_to_end(&mut response)
            .expect("read the response");
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response.lines().next().unwrap_or_default().to_owned();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

#[tokio::test]
async fn sigterm_drains_and_exits_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let server = otsd.start();
    let before = unique("before-sigterm-");
    let receipt = server.share(&[("secret", &before)]).await;
    let before_key = text(&receipt, "secret_key").to_owned();

    // A request in flight when the signal comes: it must still be answered.
    let in_flight_value = unique("in-flight-");
    let in_flight = HalfSent::open(server.port, &in_flight_value);
    std::thread::sleep(Duration::from_millis(300));
    server.sigterm();
    // Longer than actix's first shutdown tick (1 s): without a real drain the
    // connection would be cut before the rest of the body arrives.
    std::thread::sleep(Duration::from_millis(1500));
    let (status, body) = in_flight.finish();
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "the request in flight at SIGTERM is answered: {status:?} {body:?}"
    );
    let answered: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("JSON ({e}): {body:?}"));
    let in_flight_key = text(&answered, "secret_key").to_owned();

    let done = server.wait_exit(Duration::from_secs(10));
    assert!(
        done.status.success() && done.status.code() == Some(0),
        "SIGTERM exits 0, got {}; stderr:\n{}",
        done.status,
        done.stderr
    );
    assert!(
        done.stderr.contains("stopped cleanly"),
        "logs \"stopped cleanly\"; stderr:\n{}",
        done.stderr
    );

    let server = otsd.start();
    assert_eq!(server.reveal_value(&before_key, None).await, before);
    assert_eq!(
        server.reveal_value(&in_flight_key, None).await,
        in_flight_value
    );
    server.stop();
}

/// The "listening on" line tells a supervisor or script the server is up; a
/// SIGTERM sent as soon as it appears must already get the graceful stop (exit 0,
/// "stopped cleanly"), not the default action of the signal.
#[test]
fn sigterm_right_after_the_listening_line_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path());
    let mut outcomes = Vec::new();
    for _ in 0..10 {
        let Launched::Listening(server) = otsd.launch() else {
            panic!("otsd did not start");
        };
        server.sigterm();
        let done = server.wait_exit(EXIT_LIMIT);
        let clean = done.status.code() == Some(0) && done.stderr.contains("stopped cleanly");
        outcomes.push(if clean {
            "clean".to_owned()
        } else {
            format!(
                "{} (stopped cleanly logged: {})",
                done.status,
                done.stderr.contains("stopped cleanly")
            )
        });
    }
    assert!(
        outcomes.iter().all(|o| o == "clean"),
        "SIGTERM right after \"listening on\": {outcomes:?}"
    );
}

/// SIGTERM stops every background thread the server started (with systemd's
/// watchdog asked for, all four) and joins each before the database closes:
/// "stopped cleanly" comes after the line that names them, and an idle server
/// is gone within a few seconds.
#[test]
fn sigterm_stops_and_joins_every_background_thread_before_stopped_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let notify = std::os::unix::net::UnixDatagram::bind(tmp.path().join("notify.sock")).unwrap();
    let otsd = Otsd::new(tmp.path())
        .env(
            "NOTIFY_SOCKET",
            tmp.path().join("notify.sock").to_str().unwrap(),
        )
        .env("WATCHDOG_USEC", "2000000");
    let server = otsd.start();
    server.wait_until_answering();

    server.sigterm();
    let done = server.wait_exit(EXIT_LIMIT);

    assert_eq!(done.status.code(), Some(0), "stderr:\n{}", done.stderr);
    assert!(
        done.elapsed < Duration::from_secs(5),
        "an idle server stops within 5 s, took {:?}",
        done.elapsed
    );
    let joined = done
        .stderr
        .find("background threads stopped: otsd-admin, otsd-reaper, otsd-recovery, otsd-watchdog")
        .unwrap_or_else(|| panic!("every thread is named as joined; stderr:\n{}", done.stderr));
    let clean = done
        .stderr
        .find("stopped cleanly")
        .expect("stopped cleanly");
    assert!(
        joined < clean,
        "joined before the clean stop; stderr:\n{}",
        done.stderr
    );
    assert!(
        !done.stderr.contains("did not stop within"),
        "no thread was left behind; stderr:\n{}",
        done.stderr
    );
    drop(notify);
}

/// A graceful stop waits for requests in flight (up to `shutdown_timeout_secs`);
/// a second SIGTERM stops at once, and still exits 0 with the database closed:
/// what was acknowledged before is there after a restart.
#[tokio::test]
async fn a_second_sigterm_stops_at_once_without_losing_acknowledged_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let otsd = Otsd::new(tmp.path()).env("OTSD_SHUTDOWN_TIMEOUT_SECS", "60");
    let server = otsd.start();
    let value = unique("before-two-sigterms-");
    let key = text(&server.share(&[("secret", &value)]).await, "secret_key").to_owned();

    // Held open for the whole test: the graceful stop would wait for it for 60 s.
    let _stuck = HalfSent::open(server.port, "never-finished");
    std::thread::sleep(Duration::from_millis(300));
    server.sigterm();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !server.log().contains("stopped cleanly"),
        "the first SIGTERM waits for the request in flight; stderr:\n{}",
        server.log()
    );
    server.sigterm();
    let done = server.wait_exit(Duration::from_secs(15));
    assert_eq!(
        done.status.code(),
        Some(0),
        "the second SIGTERM stops at once and cleanly; stderr:\n{}",
        done.stderr
    );
    assert!(done.stderr.contains("stopping at once"), "{}", done.stderr);

    let server = otsd.start();
    assert_eq!(server.reveal_value(&key, None).await, value);
    server.stop();
}
