//! Power cuts, for real: the data directory lives on LazyFS, a FUSE file system
//! that keeps every write in its own cache until the file is fsynced and drops
//! all of it on `lazyfs::clear-cache`, as a machine loses its page cache when
//! the power goes. Each cycle runs a load of creates (small anonymous secrets
//! and an account's ~90 kB ones), reveals and burns, kills the server
//! (SIGKILL: it cannot sync after the cut), drops what was not synced, mounts
//! again and starts the server: it must start, every acknowledged create must
//! reveal, and nothing revealed or burned may come back.
//!
//! It needs LazyFS (built from `../shared/tools/lazyfs/` by `.ci/run`, which
//! runs this test explicitly), `/dev/fuse` and root, so it is ignored by a
//! plain `cargo test`: `LAZYFS=/path/to/lazyfs cargo test --test server
//! power_cut -- --ignored`. `POWER_CUTS` sets the number of cycles (8).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

/// How long each cycle's load runs before the cut, and its bound in requests.
const LOAD_FOR: Duration = Duration::from_millis(2500);
const MAX_REQUESTS_PER_WORKER: usize = 300;
const WORKERS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs LazyFS, /dev/fuse and root: LAZYFS=… -- --ignored (see .ci/run)"]
async fn no_power_cut_loses_an_acknowledged_create_brings_back_a_reveal_or_stops_a_start() {
    let lazyfs = PathBuf::from(std::env::var_os("LAZYFS").expect("LAZYFS names the lazyfs binary"));
    let cycles: usize = std::env::var("POWER_CUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    let tmp = tempfile::tempdir().unwrap();
    let mut disk = Disk::mount(&lazyfs, tmp.path());
    let otsd = Otsd::new(tmp.path())
        .data_dir(&disk.mount.join("data"))
        .env("OTSD_RATE_LIMITS__ENABLED", "false");

    let mut server = otsd.start();
    let account = add_account(&server, "bulk");
    let mut book = Book::default();
    let mut totals = (0, 0);
    for cycle in 0..cycles {
        let load = Load::run(&server, &account, cycle).await;
        // The load's requests are still in flight: pull the plug under them.
        server.kill9();
        let outcome = load.finish().await;
        disk.cut_power();
        disk = disk.remount();

        let started = otsd.launch();
        let server_now = match started {
            Launched::Listening(server) => {
                server.wait_until_answering();
                server
            }
            Launched::Exited(done) => panic!(
                "cycle {cycle}: otsd did not start after a power cut ({}); stderr:\n{}",
                done.status, done.stderr
            ),
        };
        book.add(outcome);
        let (kept, gone) = book.check(&server_now, cycle).await;
        totals.0 += kept;
        totals.1 += gone;
        server = server_now;
    }
    server.stop();
    disk.unmount();
    eprintln!(
        "{cycles} power cuts: {} acknowledged creates all revealed, {} reveals and burns stayed gone",
        totals.0, totals.1
    );
    assert!(totals.0 > 0 && totals.1 > 0, "the load did something");
}

/// What the load made and settled, acknowledged, over every cycle so far.
#[derive(Default)]
struct Book {
    /// Acknowledged creates not settled since: secret key → value.
    live: HashMap<String, String>,
    /// Acknowledged reveals and burns: secret keys that must stay unknown.
    gone: Vec<String>,
}

impl Book {
    fn add(&mut self, outcome: Outcome) {
        // A create whose answer was lost in the cut may or may not be there;
        // only acknowledged ones are promised.
        self.live.extend(outcome.created);
        for key in &outcome.unsure {
            self.live.remove(key);
        }
        for key in outcome.settled {
            self.live.remove(&key);
            self.gone.push(key);
        }
    }

    /// Every live secret reveals its value (and is gone from then on); every
    /// gone one is unknown. How many of each were checked.
    async fn check(&mut self, server: &Server, cycle: usize) -> (usize, usize) {
        for key in &self.gone {
            let answer = server.reveal(key, None).await;
            assert_unknown_secret(answer, key).await;
        }
        let live = std::mem::take(&mut self.live);
        for (key, value) in &live {
            let revealed = server.reveal_value(key, None).await;
            assert!(
                revealed == *value,
                "cycle {cycle}: secret {key} came back different after the power cut"
            );
        }
        let checked = (live.len(), self.gone.len());
        self.gone.extend(live.into_keys());
        checked
    }
}

/// What one cycle's load saw acknowledged.
#[derive(Default)]
struct Outcome {
    created: HashMap<String, String>,
    settled: Vec<String>,
    /// Reveals and burns sent but not acknowledged: either way is right.
    unsure: Vec<String>,
}

struct Load {
    workers: Vec<tokio::task::JoinHandle<()>>,
    outcome: Arc<Mutex<Outcome>>,
}

impl Load {
    /// Starts the workers and returns once they have run for [`LOAD_FOR`].
    async fn run(server: &Server, account: &Account, cycle: usize) -> Self {
        let outcome = Arc::new(Mutex::new(Outcome::default()));
        let deadline = Instant::now() + LOAD_FOR + Duration::from_secs(5);
        let workers = (0..WORKERS)
            .map(|worker| {
                let anonymous = Client::clone(server);
                let bulk = anonymous.as_account(account);
                let outcome = Arc::clone(&outcome);
                tokio::spawn(async move {
                    let mut mine: Vec<(String, String)> = Vec::new();
                    for n in 0..MAX_REQUESTS_PER_WORKER {
                        if Instant::now() > deadline {
                            break;
                        }
                        let large = (worker + n) % 3 == 0;
                        match (n % 4, mine.pop()) {
                            (3, Some((key, metadata))) => {
                                let how = if n % 8 == 3 {
                                    Settle::Burn
                                } else {
                                    Settle::Reveal
                                };
                                let settled = how.send(&anonymous, &key, &metadata).await;
                                let mut outcome = outcome.lock().unwrap();
                                match settled {
                                    Some(true) => outcome.settled.push(key),
                                    Some(false) => panic!("a live secret {key} would not settle"),
                                    None => outcome.unsure.push(key),
                                }
                            }
                            (_, taken) => {
                                mine.extend(taken);
                                let value = unique(&format!("cut{cycle}-w{worker}-{n}-"));
                                let value = if large {
                                    format!("{value}{}", "x".repeat(90_000))
                                } else {
                                    value
                                };
                                let client = if large { &bulk } else { &anonymous };
                                let Ok(response) = client
                                    .post_form(SHARE, &[("secret", &value)])
                                    .timeout(Duration::from_secs(10))
                                    .try_send()
                                    .await
                                else {
                                    return;
                                };
                                let Ok(receipt) = response.json::<serde_json::Value>().await else {
                                    return;
                                };
                                let key = text(&receipt, "secret_key").to_owned();
                                let metadata = text(&receipt, "metadata_key").to_owned();
                                outcome.lock().unwrap().created.insert(key.clone(), value);
                                mine.push((key, metadata));
                            }
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(LOAD_FOR).await;
        Self { workers, outcome }
    }

    /// Waits for the workers (their requests fail once the server is gone).
    async fn finish(self) -> Outcome {
        for worker in self.workers {
            worker.await.expect("a load worker panicked");
        }
        Arc::try_unwrap(self.outcome)
            .ok()
            .expect("the workers are done")
            .into_inner()
            .unwrap()
    }
}

enum Settle {
    Reveal,
    Burn,
}

impl Settle {
    /// `Some(true)` settled, `Some(false)` refused, `None` no answer.
    async fn send(&self, client: &Client, key: &str, metadata: &str) -> Option<bool> {
        let call = match self {
            Self::Reveal => client.reveal(key, None),
            Self::Burn => client.burn(metadata, None),
        };
        let response = call
            .timeout(Duration::from_secs(10))
            .try_send()
            .await
            .ok()?;
        let status = response.status();
        response.bytes().await.ok()?;
        Some(status.is_success())
    }
}

/// A LazyFS mount over a backing directory.
struct Disk {
    lazyfs: PathBuf,
    dir: PathBuf,
    mount: PathBuf,
    process: Child,
}

impl Disk {
    fn mount(lazyfs: &Path, dir: &Path) -> Self {
        let (backing, mount) = (dir.join("backing"), dir.join("mnt"));
        for d in [&backing, &mount] {
            std::fs::create_dir_all(d).unwrap();
        }
        for fifo in ["cut.fifo", "cut.done.fifo"] {
            use rustix::fs::{CWD, FileType, Mode, mknodat};
            mknodat(CWD, dir.join(fifo), FileType::Fifo, Mode::from(0o600), 0).expect("mkfifo");
        }
        std::fs::write(
            dir.join("cut.toml"),
            format!(
                "[faults]\nfifo_path=\"{}\"\nfifo_path_completed=\"{}\"\n\
                 [cache]\napply_eviction=false\n[cache.simple]\ncustom_size=\"1gb\"\n\
                 blocks_per_page=1\n[filesystem]\nlog_all_operations=false\nlogfile=\"\"\n",
                dir.join("cut.fifo").display(),
                dir.join("cut.done.fifo").display()
            ),
        )
        .unwrap();
        Self::start(lazyfs, dir)
    }

    fn start(lazyfs: &Path, dir: &Path) -> Self {
        let mount = dir.join("mnt");
        let process = Command::new(lazyfs)
            .arg(&mount)
            .arg("--config-path")
            .arg(dir.join("cut.toml"))
            .args(["-o", "modules=subdir", "-o"])
            .arg(format!("subdir={}", dir.join("backing").display()))
            .arg("-f")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start lazyfs");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !is_mounted(&mount) {
            assert!(Instant::now() < deadline, "LazyFS did not mount {mount:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            lazyfs: lazyfs.to_owned(),
            dir: dir.to_owned(),
            mount,
            process,
        }
    }

    /// Drops everything not fsynced, as a power cut does.
    fn cut_power(&self) {
        let done = self.dir.join("cut.done.fifo");
        let reader = std::thread::spawn(move || {
            let file = std::fs::File::open(done).expect("open the completion fifo");
            let mut line = String::new();
            std::io::BufReader::new(file).read_line(&mut line).unwrap();
            line
        });
        let mut fifo = std::fs::OpenOptions::new()
            .write(true)
            .open(self.dir.join("cut.fifo"))
            .expect("open the command fifo");
        fifo.write_all(b"lazyfs::clear-cache\n").unwrap();
        drop(fifo);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !reader.is_finished() {
            assert!(Instant::now() < deadline, "LazyFS did not clear its cache");
            std::thread::sleep(Duration::from_millis(20));
        }
        let said = reader.join().unwrap();
        assert!(said.contains("finished"), "LazyFS answered {said:?}");
    }

    /// Unmounts and mounts again over the same backing directory: what the
    /// machine finds when the power returns.
    fn remount(mut self) -> Self {
        self.unmount();
        Self::start(&self.lazyfs, &self.dir)
    }

    fn unmount(&mut self) {
        let _ = Command::new("fusermount3")
            .arg("-u")
            .arg(&self.mount)
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.process.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.process.kill();
                let _ = self.process.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("fusermount3")
            .args(["-u", "-z"])
            .arg(&self.mount)
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if self.process.try_wait().ok().flatten().is_none() {
            self.unmount();
        }
    }
}

fn is_mounted(path: &Path) -> bool {
    let wanted = path.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .any(|line| line.split(' ').nth(4) == Some(wanted.as_str()))
}
