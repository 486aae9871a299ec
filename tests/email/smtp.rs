//! SMTP servers for the tests: a real one (Debian's `aiosmtpd`, a separate Python
//! process that stores what it receives in a Maildir), and small fakes for relays
//! that misbehave (one that never answers, one that refuses every recipient).
//! Everything listens on 127.0.0.1 only; every wait is bounded.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Debian's Python, which has `python3-aiosmtpd` (a `python3` on `PATH` may be
/// another one without it).
const PYTHON: &str = "/usr/bin/python3";
/// How long the SMTP server may take to start listening.
const START_DEADLINE: Duration = Duration::from_secs(15);
/// How long a message may take to show up in the Maildir.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(10);

/// A real SMTP server process (`python3 -m aiosmtpd` with its `Mailbox` handler),
/// killed when dropped.
pub struct SmtpServer {
    pub port: u16,
    child: Child,
    maildir: PathBuf,
    log: PathBuf,
    _dir: TempDir,
}

impl SmtpServer {
    /// Starts the server on a free loopback port and waits (bounded) until it
    /// greets on that port. Tries another port if that one was taken meanwhile.
    pub async fn start() -> Self {
        for _ in 0..5 {
            if let Some(server) = Self::try_start(crate::common::free_port()).await {
                return server;
            }
        }
        panic!("aiosmtpd could not be started on any of 5 ports");
    }

    async fn try_start(port: u16) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("maildir");
        let log = dir.path().join("aiosmtpd.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let spawning = crate::common::spawning();
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {PYTHON} -m aiosmtpd (Debian's python3-aiosmtpd): {e}")
            });
        // `spawn` returns once the child has run `exec`: it holds nothing of ours now.
        drop(spawning);
        let mut server = Self {
            port,
            child,
            maildir,
            log,
            _dir: dir,
        };
        server.wait_until_greeting().await.then_some(server)
    }

    /// `true` once our server greets on its port; `false` when the port turned out
    /// to be someone else's (the server then exited, or another program answers).
    async fn wait_until_greeting(&mut self) -> bool {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                let output = self.output();
                assert!(
                    output.contains("already in use"),
                    "aiosmtpd exited ({status}) before listening; its output:\n{output}"
                );
                return false;
            }
            if let Some(greeting) = greeting(self.port).await {
                // aiosmtpd says `220 <host> Python SMTP <version>`.
                return greeting.starts_with("220 ") && greeting.contains(" Python SMTP ");
            }
            assert!(
                start.elapsed() < START_DEADLINE,
                "aiosmtpd did not listen on port {} within {START_DEADLINE:?}; its output:\n{}",
                self.port,
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| {
                let modified = e.metadata().and_then(|m| m.modified()).ok();
                (modified, e.path())
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| Mail::parse(&std::fs::read(path).expect("a message file")))
            .collect()
    }

    /// Waits (bounded) until at least `n` messages have arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                start.elapsed() < DELIVERY_DEADLINE,
                "{} message(s) arrived within {DELIVERY_DEADLINE:?}, expected {n}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits for exactly one message in all and returns it.
    pub async fn only_message(&self) -> Mail {
        let mut messages = self.wait_for(1).await;
        assert_eq!(messages.len(), 1, "exactly one message");
        messages.remove(0)
    }

    /// How many messages have arrived. The server answers a create only after the
    /// relay has accepted (and so stored) the message, so this is final for every
    /// request already answered.
    pub fn count(&self) -> usize {
        self.messages().len()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first line a server on `port` sends, if one accepts and says something
/// within a second.
async fn greeting(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let mut line = String::new();
    let mut reader = BufReader::new(&mut stream);
    tokio::time::timeout(Duration::from_secs(1), reader.read_line(&mut line))
        .await
        .ok()?
        .ok()?;
    let _ = stream.write_all(b"QUIT\r\n").await;
    Some(line)
}

/// How a fake relay behaves.
#[derive(Clone, Copy)]
pub enum Behaviour {
    /// Accepts connections and never sends a byte.
    Silent,
    /// Speaks SMTP but refuses every recipient (550).
    Refusing,
}

/// A fake SMTP relay in this process, stopped when dropped.
pub struct FakeRelay {
    pub port: u16,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeRelay {
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                match behaviour {
                    // Keep the socket open (and silent) until the relay is dropped.
                    Behaviour::Silent => held.push(stream),
                    Behaviour::Refusing => {
                        tokio::spawn(refuse_everyone(stream));
                    }
                }
            }
        });
        Self {
            port,
            connections,
            task,
        }
    }

    /// How many connections the relay has accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FakeRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A minimal SMTP dialogue that refuses every `RCPT TO` permanently.
async fn refuse_everyone(stream: TcpStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read.take(64 * 1024)).lines();
    if write
        .write_all(b"220 refusing.test ESMTP\r\n")
        .await
        .is_err()
    {
        return;
    }
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await
    {
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 refusing.test\r\n",
            "RCPT" => b"550 5.1.1 No such user here\r\n",
            "DATA" => b"503 5.5.1 No valid recipients\r\n",
            "QUIT" => {
                let _ = write.write_all(b"221 2.0.0 Bye\r\n").await;
                return;
            }
            _ => b"250 2.0.0 OK\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// One received message: its bytes as stored, its headers (unfolded, encoded words
/// decoded) and its body after undoing the transfer encoding.
pub struct Mail {
    pub raw: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Mail {
    pub fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push_str(line);
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        for (_, value) in &mut headers {
            *value = decode_encoded_words(value);
        }
        let mut mail = Self {
            raw: raw.to_vec(),
            headers,
            body: String::new(),
        };
        let encoding = mail
            .header("content-transfer-encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        let decoded = match encoding.as_str() {
            "base64" => base64_decode(body),
            "quoted-printable" => qp_decode(body, false),
            _ => body.as_bytes().to_vec(),
        };
        mail.body = String::from_utf8(decoded).expect("the decoded body is UTF-8");
        mail
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first header called `name`, which must be there.
    pub fn must_header(&self, name: &str) -> &str {
        self.header(name)
            .unwrap_or_else(|| panic!("header {name} in\n{}", self.raw_text()))
    }

    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// Asserts `needle` appears nowhere: not in the stored bytes, not in the
    /// decoded headers, not in the decoded body (whatever its transfer encoding).
    pub fn assert_conceals(&self, needle: &str, what: &str) {
        assert!(!needle.is_empty());
        let raw = self.raw_text();
        assert!(
            !raw.contains(needle),
            "the message holds the {what}:\n{raw}"
        );
        assert!(
            !self.body.contains(needle),
            "the decoded body holds the {what}:\n{}",
            self.body
        );
        for (name, value) in &self.headers {
            assert!(
                !value.contains(needle),
                "header {name} holds the {what}: {value}"
            );
        }
    }
}

/// Undoes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`); whitespace
/// between two encoded words is dropped, as the RFC says.
fn decode_encoded_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_was_word = false;
    let mut pending_space = String::new();
    for token in value.split_inclusive([' ', '\t']) {
        let word = token.trim_end_matches([' ', '\t']);
        let space = &token[word.len()..];
        match decode_word(word) {
            Some(decoded) => {
                if !previous_was_word {
                    out.push_str(&pending_space);
                }
                out.push_str(&decoded);
                previous_was_word = true;
            }
            None => {
                out.push_str(&pending_space);
                out.push_str(word);
                previous_was_word = false;
            }
        }
        pending_space = space.to_owned();
    }
    out.push_str(&pending_space);
    out.trim().to_owned()
}

fn decode_word(word: &str) -> Option<String> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let (_charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "b" => base64_decode(text),
        "q" => qp_decode(text, true),
        _ => return None,
    };
    String::from_utf8(bytes).ok()
}

/// Standard base64, ignoring whitespace and padding.
pub fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Quoted-printable (RFC 2045); `header` also turns `_` into a space (RFC 2047 Q).
pub fn qp_decode(text: &str, header: bool) -> Vec<u8> {
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16)).map(|d| d as u8);
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'=' if b.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') => i += 3,
            b'=' if hex(b.get(i + 1)).is_some() && hex(b.get(i + 2)).is_some() => {
                out.push(hex(b.get(i + 1)).unwrap() * 16 + hex(b.get(i + 2)).unwrap());
                i += 3;
            }
            b'_' if header => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[test]
fn the_decoders_undo_what_mailers_do() {
    assert_eq!(base64_decode("aGVsbG8s\r\nIHdvcmxk"), b"hello, world");
    assert_eq!(base64_decode("YQ=="), b"a");
    assert_eq!(qp_decode("a=3Db=\nc=C3=A9", false), "a=bcé".as_bytes());
    assert_eq!(qp_decode("a_b", true), b"a b");
    assert_eq!(
        decode_encoded_words("=?utf-8?b?aGVs?= =?utf-8?q?lo?= world"),
        "hello world"
    );
    let mail = Mail::parse(
        b"Subject: a\r\n long one\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx=\r\ny=3D\r\n",
    );
    assert_eq!(mail.header("subject"), Some("a long one"));
    assert_eq!(mail.body, "xy=\n");
}
