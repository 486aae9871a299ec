//! README "Install the Debian package": the unit is `Type=notify` with a
//! watchdog. systemd is not PID 1 where these tests run, so the test plays its
//! part: a datagram socket named by `NOTIFY_SOCKET`, and `WATCHDOG_USEC`.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::common::*;

/// The next notification, or `None` after `limit`.
fn next_message(socket: &UnixDatagram, limit: Duration) -> Option<String> {
    socket.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    match socket.recv(&mut buf) {
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(_) => None,
    }
}

#[test]
fn ready_once_it_serves_the_watchdog_while_the_store_answers_and_stopping_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    let port = free_port();
    let otsd = Otsd::new(tmp.path())
        .listen(&format!("127.0.0.1:{port}"))
        .env("NOTIFY_SOCKET", path.to_str().unwrap())
        .env("WATCHDOG_USEC", "200000");
    let mut child = otsd.spawn_child();

    let first = next_message(&socket, START_LIMIT).expect("a notification");
    assert_eq!(first.trim(), "READY=1", "the first notification");
    assert_eq!(
        status_line_over_raw_http(port, "/healthz").expect("the port answers once READY is sent"),
        "HTTP/1.1 200 OK"
    );

    // Fed at half of WATCHDOG_USEC: about 10 in 1 s; at least 4 on a busy machine.
    let watching = Instant::now();
    let mut fed = 0;
    while watching.elapsed() < Duration::from_secs(1) {
        match next_message(&socket, Duration::from_secs(1)) {
            Some(message) if message.trim() == "WATCHDOG=1" => fed += 1,
            Some(message) => panic!("unexpected notification {message:?}"),
            None => break,
        }
    }
    assert!(fed >= 4, "the watchdog was fed {fed} times in 1 s");

    // The child this test started and has not reaped.
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a process id");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
    let deadline = Instant::now() + EXIT_LIMIT;
    let stopping = loop {
        let message = next_message(&socket, Duration::from_secs(1));
        if let Some(message) = message.filter(|m| m.trim() != "WATCHDOG=1") {
            break message;
        }
        assert!(
            Instant::now() < deadline,
            "STOPPING=1 within {EXIT_LIMIT:?}"
        );
    };
    assert_eq!(stopping.trim(), "STOPPING=1");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "exits within {EXIT_LIMIT:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
}

#[test]
fn without_a_watchdog_only_ready_and_stopping_are_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    let otsd = Otsd::new(tmp.path()).env("NOTIFY_SOCKET", path.to_str().unwrap());
    let server = otsd.start();
    assert_eq!(
        next_message(&socket, START_LIMIT).as_deref(),
        Some("READY=1\n")
    );
    assert_eq!(next_message(&socket, Duration::from_millis(500)), None);
    let done = server.stop();
    assert!(done.status.success());
    assert_eq!(
        next_message(&socket, Duration::from_secs(1)).as_deref(),
        Some("STOPPING=1\n")
    );
}
