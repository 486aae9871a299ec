//! Running the real `otsd` binary: a launcher that builds its command line and
//! environment, and a handle on a running server (its log, its port, signals,
//! and the kit's [`Client`] for it).
//!
//! The child's environment is cleared first, so neither `OTSD_*` nor `RUST_LOG`
//! from the developer's shell changes what a test sees; its working directory is
//! the test's temp directory, so a default `./otsd-data` could never land in the
//! repository. Every wait here is bounded in time.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::accounts::Admin;
use super::app::spawning;
use super::client::Client;

/// The binary under test, built by cargo for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_otsd");
/// How long a start may take before the test gives up (debug build, busy machine).
pub const START_LIMIT: Duration = Duration::from_secs(20);
/// How long a process may take to exit once it should.
pub const EXIT_LIMIT: Duration = Duration::from_secs(15);
/// The line `main` logs once the listener is bound.
const LISTENING: &str = "listening on 127.0.0.1:";
const POLL: Duration = Duration::from_millis(10);

/// Text a pipe has produced so far, filled by a reader thread; waiters are woken
/// on every new line.
#[derive(Clone, Default)]
pub struct Captured(Arc<(Mutex<String>, Condvar)>);

impl Captured {
    pub fn text(&self) -> String {
        self.0.0.lock().expect("log lock").clone()
    }

    /// Waits at most `limit` for a new line (or returns at once if `seen` is
    /// already out of date).
    fn wait_past(&self, seen: usize, limit: Duration) {
        let (text, grown) = &*self.0;
        let guard = text.lock().expect("log lock");
        if guard.len() == seen {
            let _ = grown.wait_timeout(guard, limit).expect("log lock");
        }
    }

    /// Starts a thread that appends everything `pipe` yields, line by line.
    fn read_from(pipe: impl Read + Send + 'static) -> (Self, JoinHandle<()>) {
        let captured = Self::default();
        let sink = captured.clone();
        let reader = std::thread::spawn(move || {
            let mut pipe = BufReader::new(pipe);
            let mut line = Vec::new();
            loop {
                line.clear();
                match pipe.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let (text, grown) = &*sink.0;
                        text.lock()
                            .expect("log lock")
                            .push_str(&String::from_utf8_lossy(&line));
                        grown.notify_all();
                    }
                }
            }
        });
        (captured, reader)
    }
}

/// How to launch `otsd`: flags and environment.
#[derive(Clone, Debug)]
pub struct Otsd {
    cwd: PathBuf,
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    args: Vec<OsString>,
    envs: Vec<(String, String)>,
    /// `RLIMIT_NOFILE` of the child (what `prlimit --nofile` sets).
    max_open_files: Option<u64>,
    /// What the child reads on stdin (a pipe, closed after it); `None`: /dev/null.
    stdin: Option<String>,
}

impl Otsd {
    /// `otsd --data-dir <dir>/data --listen 127.0.0.1:0` in `dir`, with a low
    /// PBKDF2 work factor so the debug build stays quick.
    pub fn new(dir: &Path) -> Self {
        Self::bare(dir)
            .data_dir(&dir.join("data"))
            .listen("127.0.0.1:0")
            .env("OTSD_CRYPTO__PBKDF2_ITERATIONS", "1000")
    }

    /// `otsd` with no flags and an empty environment, run in `cwd`.
    pub fn bare(cwd: &Path) -> Self {
        Self {
            cwd: cwd.to_owned(),
            data_dir: None,
            listen: None,
            args: Vec::new(),
            envs: Vec::new(),
            max_open_files: None,
            stdin: None,
        }
    }

    /// The `--data-dir` flag; on PostgreSQL (see `engine`) also the
    /// database that data directory was given, as `OTSD_DATABASE_URL`
    /// (resolved here, not when the command is built: that happens while
    /// [`spawning`] is held, and starting the shared cluster takes it too).
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_owned());
        match super::engine::database_url_for(dir) {
            Some(url) => self.env("OTSD_DATABASE_URL", &url),
            None => self,
        }
    }

    /// The `--listen` flag.
    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = Some(addr.to_owned());
        self
    }

    /// Drops the `--listen` flag (so the file or environment decides).
    pub fn without_listen_flag(mut self) -> Self {
        self.listen = None;
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets (or replaces) one environment variable of the child.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.retain(|(k, _)| k != key);
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Runs the child under a limit of `n` open descriptors, soft and hard.
    pub fn max_open_files(mut self, n: u64) -> Self {
        self.max_open_files = Some(n);
        self
    }

    /// Gives the child `text` on stdin (a pipe, not a terminal), then closes it.
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_owned());
        self
    }

    pub fn without_env(mut self, key: &str) -> Self {
        self.envs.retain(|(k, _)| k != key);
        self
    }

    /// The data directory given with `--data-dir`.
    pub fn data_path(&self) -> &Path {
        self.data_dir.as_deref().expect("a --data-dir was set")
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear().current_dir(&self.cwd);
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        if let Some(dir) = &self.data_dir {
            cmd.arg("--data-dir").arg(dir);
        }
        if let Some(addr) = &self.listen {
            cmd.arg("--listen").arg(addr);
        }
        cmd.args(&self.args);
        if let Some(n) = self.max_open_files {
            use rustix::process::{Resource, Rlimit, setrlimit};
            use std::os::unix::process::CommandExt;
            let limit = Rlimit {
                current: Some(n),
                maximum: Some(n),
            };
            // `pre_exec` is unsafe whatever it runs (the closure runs in the
            // forked child, where only async-signal-safe calls are sound); there
            // is no safe way to give only the child a limit from its first
            // instruction on (`prlimit` after the spawn would race its start).
            #[allow(unsafe_code)]
            // SAFETY: only setrlimit, a plain system call (no allocation, no
            // lock), runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || Ok(setrlimit(Resource::Nofile, limit)?));
            }
        }
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        cmd
    }

    /// Starts the process and returns at once, its output discarded: for tests
    /// that time their own signals (the `Child` is theirs to kill and reap).
    pub fn spawn_child(&self) -> Child {
        let mut command = self.command();
        command.stdout(Stdio::null()).stderr(Stdio::null());
        let _spawning = spawning();
        command.spawn().expect("spawn otsd")
    }

    /// Starts the process and waits (at most `START_LIMIT`) until it either logs
    /// that it listens or exits.
    pub fn launch(&self) -> Launched {
        let started = Instant::now();
        let mut child = {
            let _spawning = spawning();
            self.command().spawn().expect("spawn otsd")
        };
        if let (Some(text), Some(mut pipe)) = (&self.stdin, child.stdin.take()) {
            use std::io::Write;
            // Small (a line): fits the pipe's buffer, so this cannot block.
            pipe.write_all(text.as_bytes()).expect("write otsd's stdin");
        }
        let (stdout, out_reader) = Captured::read_from(child.stdout.take().expect("stdout"));
        let (stderr, err_reader) = Captured::read_from(child.stderr.take().expect("stderr"));
        let mut process = Process {
            child,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
            status: None,
        };
        let deadline = started + START_LIMIT;
        loop {
            let log = process.stderr.text();
            if let Some(port) = listening_port(&log) {
                return Launched::Listening(Server::new(process, port, self.data_dir.clone()));
            }
            if let Some(status) = process.try_wait() {
                process.join_readers();
                return Launched::Exited(Finished {
                    status,
                    stdout: process.stdout.text(),
                    stderr: process.stderr.text(),
                    elapsed: started.elapsed(),
                });
            }
            if Instant::now() >= deadline {
                let log = process.kill_and_collect();
                panic!(
                    "otsd neither listened nor exited within {START_LIMIT:?} ({self:?}); stderr:\n{log}"
                );
            }
            process.stderr.wait_past(log.len(), POLL);
        }
    }

    /// Starts a server that must come up, and waits until it answers HTTP (the
    /// "listening on" line comes before the server runs; see
    /// `durability::sigterm_right_after_the_listening_line_stops_cleanly`).
    pub fn start(&self) -> Server {
        match self.launch() {
            Launched::Listening(server) => {
                server.wait_until_answering();
                server
            }
            Launched::Exited(done) => panic!(
                "otsd exited ({}) instead of starting ({self:?}); stderr:\n{}",
                done.status, done.stderr
            ),
        }
    }

    /// Runs a start that must be refused: the process must exit (not listen) within
    /// `START_LIMIT`.
    pub fn refused(&self) -> Finished {
        match self.launch() {
            Launched::Exited(done) => done,
            Launched::Listening(server) => {
                let log = server.kill9();
                panic!("otsd started instead of refusing to ({self:?}); stderr:\n{log}");
            }
        }
    }

    /// Runs a command that exits by itself (`--help`, `--version`, …).
    pub fn run(&self) -> Finished {
        self.refused()
    }
}

/// The status line of `GET path` to 127.0.0.1:`port` on a fresh connection.
pub fn status_line_over_raw_http(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    Ok(response.lines().next().unwrap_or_default().to_owned())
}

/// The port in the first "listening on 127.0.0.1:<port>" line, if any.
fn listening_port(log: &str) -> Option<u16> {
    let at = log.find(LISTENING)? + LISTENING.len();
    let digits: String = log[at..].chars().take_while(char::is_ascii_digit).collect();
    // The line may still be arriving; wait for what follows the number.
    let complete = log[at + digits.len()..].starts_with(|c: char| !c.is_ascii_digit());
    complete.then(|| digits.parse().ok()).flatten()
}

pub enum Launched {
    Listening(Server),
    Exited(Finished),
}

/// A process that has exited, with all it wrote.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

struct Process {
    child: Child,
    stdout: Captured,
    stderr: Captured,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Process {
    fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
        }
        self.status
    }

    /// Waits at most `limit` for the process to exit.
    fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(POLL);
        }
    }

    /// Once the process is gone its pipes close: waits (bounded) for the readers to
    /// have taken everything.
    fn join_readers(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.readers.iter().all(JoinHandle::is_finished) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        for reader in self.readers.drain(..) {
            if reader.is_finished() {
                let _ = reader.join();
            }
        }
    }

    fn sigkill(&mut self) {
        if self.try_wait().is_none() {
            let _ = self.child.kill();
            self.status = self.wait_for(EXIT_LIMIT);
        }
    }

    fn kill_and_collect(&mut self) -> String {
        self.sigkill();
        self.join_readers();
        self.stderr.text()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.sigkill();
    }
}

/// A running `otsd`; its [`Client`] is what it derefs to.
pub struct Server {
    process: Process,
    pub port: u16,
    pub client: Client,
    /// The `--data-dir` it was started with.
    data_dir: Option<PathBuf>,
}

impl Deref for Server {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Admin for Server {
    fn data_path(&self) -> &Path {
        self.data_dir.as_deref().expect("a --data-dir was set")
    }
}

impl Server {
    fn new(process: Process, port: u16, data_dir: Option<PathBuf>) -> Self {
        Self {
            process,
            port,
            client: Client::new(format!("http://127.0.0.1:{port}")),
            data_dir,
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }

    /// SIGKILL (no chance to flush anything), then the full log.
    pub fn kill9(mut self) -> String {
        self.process.kill_and_collect()
    }

    /// Polls `GET /api/v1/status` (raw HTTP, bounded) until it answers 200.
    pub fn wait_until_answering(&self) {
        let deadline = Instant::now() + START_LIMIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            match status_line_over_raw_http(self.port, "/api/v1/status") {
                Ok(line) if line.starts_with("HTTP/1.1 200") => return,
                Ok(line) => last = line,
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "otsd logged that it listens but did not answer within {START_LIMIT:?} ({last}); stderr:\n{}",
            self.log()
        );
    }

    /// Everything the server has written to stderr so far.
    pub fn log(&self) -> String {
        self.process.stderr.text()
    }

    /// Sends SIGTERM and returns at once.
    pub fn sigterm(&self) {
        // The pid of a child this handle owns and has not reaped, so it cannot
        // have been reused.
        let pid = i32::try_from(self.pid())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .expect("a process id");
        let sent = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        assert_eq!(sent, Ok(()), "kill -TERM {pid:?} failed");
    }

    /// Waits (at most `limit`) for the process to exit after a signal; then returns
    /// how it exited and its whole log. Panics (after SIGKILL) if it did not exit.
    pub fn wait_exit(mut self, limit: Duration) -> Finished {
        let started = Instant::now();
        let Some(status) = self.process.wait_for(limit) else {
            let log = self.process.kill_and_collect();
            panic!("otsd did not exit within {limit:?}; stderr:\n{log}");
        };
        self.process.join_readers();
        Finished {
            status,
            stdout: self.process.stdout.text(),
            stderr: self.process.stderr.text(),
            elapsed: started.elapsed(),
        }
    }

    /// SIGTERM and wait: a graceful stop that must exit 0.
    pub fn stop(self) -> Finished {
        self.sigterm();
        let done = self.wait_exit(EXIT_LIMIT);
        assert!(
            done.status.success(),
            "graceful stop exits 0, got {}; stderr:\n{}",
            done.status,
            done.stderr
        );
        done
    }
}

/// Copies a directory (a stopped server's data directory, a fixture) with its
/// files and subdirectories.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the directory to copy") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}
