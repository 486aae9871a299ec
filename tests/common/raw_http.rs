//! HTTP/1.1 over a plain `TcpStream`, for what a well-behaved client library will
//! not send: truncated and malformed bodies, bodies that trickle in, clients that
//! leave halfway. Blocking, with a timeout on every read, so a server that never
//! answers fails the test instead of hanging it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// How long a test waits for an answer before it counts as none.
pub const ANSWER_LIMIT: Duration = Duration::from_secs(5);

/// A request with a `Content-Length` matching `body`.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    [head.as_bytes(), body].concat()
}

/// A `POST` of `body` as `content_type`.
pub fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    request("POST", path, &[("Content-Type", content_type)], body)
}

/// One response as read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
    /// The server closed the connection after this response.
    pub closed: bool,
}

impl RawResponse {
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The status an otsd v1 error says it really has.
    pub fn intended(&self) -> Option<u16> {
        self.header("x-ots-intended-status")?.parse().ok()
    }

    /// The `message` of a v1 error body.
    pub fn message(&self) -> String {
        let body: serde_json::Value =
            serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"));
        body["message"].as_str().unwrap_or_default().to_owned()
    }
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(ANSWER_LIMIT))
        .expect("timeout");
    stream
}

/// Sends `bytes` on a new connection and reads one response.
pub fn exchange(addr: SocketAddr, bytes: &[u8]) -> std::io::Result<RawResponse> {
    let mut stream = connect(addr);
    stream.write_all(bytes)?;
    read_response(&mut stream)
}

/// Reads one response (head, then a `Content-Length` body), then whether the
/// server closes the connection within a moment.
pub fn read_response(stream: &mut TcpStream) -> std::io::Result<RawResponse> {
    let mut response = read_one(stream)?;
    response.closed = closes_soon(stream);
    Ok(response)
}

/// Reads exactly one response and leaves the connection as it is, for a next
/// request on it (`closed` is left `false`: not looked at).
pub fn read_one(stream: &mut TcpStream) -> std::io::Result<RawResponse> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&data, b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                format!(
                    "closed before a response: {:?}",
                    String::from_utf8_lossy(&data)
                ),
            ));
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&data[head_end..]).into_owned();
    Ok(RawResponse {
        status,
        head,
        body,
        closed: false,
    })
}

/// Whether the peer closes the connection within a second (reads `0` bytes).
pub fn closes_soon(stream: &mut TcpStream) -> bool {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut byte = [0u8; 1];
    let closed = match stream.read(&mut byte) {
        Ok(n) => n == 0,
        Err(e) => e.kind() == ErrorKind::ConnectionReset,
    };
    let _ = stream.set_read_timeout(Some(ANSWER_LIMIT));
    closed
}

/// Sends `bytes`, closes the sending side and leaves without reading: a client
/// that gave up.
pub fn send_and_leave(addr: SocketAddr, bytes: &[u8]) {
    let mut stream = connect(addr);
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(Shutdown::Write);
}

/// Connections to the local `port` in the TCP state CLOSE-WAIT: the peer has
/// closed, this side has not. Read from the kernel's table, so it sees the
/// server's sockets whether it runs in this process or another.
pub fn close_wait_sockets(port: u16) -> usize {
    const CLOSE_WAIT: &str = "08";
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|table| table.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields
                .get(1)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| u16::from_str_radix(p, 16).ok());
            local_port == Some(port) && fields.get(3) == Some(&CLOSE_WAIT)
        })
        .count()
}

/// [`close_wait_sockets`] once it reaches zero, or when `limit` has passed: a
/// client that has just closed leaves the server's socket in CLOSE-WAIT until the
/// server reads the end, which takes a moment on a busy machine.
pub fn close_wait_sockets_within(port: u16, limit: std::time::Duration) -> usize {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let left = close_wait_sockets(port);
        if left == 0 || std::time::Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
