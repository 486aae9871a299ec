//! The PostgreSQL test kit (tests/common/postgres.rs) does what the PostgreSQL
//! backend's tests will rely on: a real cluster that only `otsd`'s password opens
//! over TCP, standbys that take over, faults that are real, and nothing left
//! behind.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::postgres::{Cluster, psql_at};

/// The environment variable that makes the helper test below do its work (it is
/// `#[ignore]`d and returns at once otherwise).
const CHILD: &str = "OTSD_TEST_PG_KIT_CHILD";

fn postmaster_pid(cluster: &Cluster) -> i32 {
    std::fs::read_to_string(cluster.data_dir().join("postmaster.pid"))
        .expect("postmaster.pid")
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("a pid")
}

fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_otsd_role_reads_and_writes_its_database_over_tcp_with_its_password_and_nothing_more() {
    let cluster = Cluster::start();
    let url = cluster.new_database();
    let db = url.rsplit('/').next().expect("a database name").to_owned();

    let wrote = psql_at(
        &url,
        "CREATE TABLE t (v text); INSERT INTO t VALUES ('written over tcp'); SELECT v FROM t",
    );
    assert_eq!(wrote.as_deref(), Ok("written over tcp"));
    assert_eq!(
        psql_at(
            &url,
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication \
                       FROM pg_roles WHERE rolname = current_user"
        )
        .as_deref(),
        Ok("f|f|f|f"),
        "otsd has no right beyond its own databases"
    );
    assert!(psql_at(&url, "CREATE DATABASE other").is_err());

    let wrong = url.replace(cluster.password(), "0123456789abcdef");
    let refused = psql_at(&wrong, "SELECT 1").expect_err("a wrong password is refused");
    assert!(
        refused.contains("password authentication failed"),
        "{refused}"
    );

    let (bare, password) = cluster.new_database_password_apart();
    assert!(!bare.contains(&password));
    assert!(
        psql_at(&bare, "SELECT 1").is_err(),
        "no password, no session"
    );
    let with = bare.replace("otsd@", &format!("otsd:{password}@"));
    assert_eq!(
        psql_at(&with, "SELECT current_database()").as_deref(),
        Ok("otsd_2")
    );

    let dump = String::from_utf8(cluster.pg_dump(&db)).expect("a plain SQL dump");
    assert!(
        dump.contains("written over tcp"),
        "the dump holds the data:\n{dump}"
    );

    let settings = cluster.psql(
        &db,
        "SELECT current_setting('fsync') || current_setting('synchronous_commit') \
           || current_setting('full_page_writes')",
    );
    assert_eq!(settings, "ononon", "durability is never lowered");

    // kill -9, then a start on the same directory and port: the commit survived.
    let pid = postmaster_pid(&cluster);
    cluster.kill9();
    assert!(!running(pid));
    assert!(
        psql_at(&url, "SELECT 1").is_err(),
        "nothing answers once killed"
    );
    cluster.start_again();
    assert_eq!(
        psql_at(&url, "SELECT v FROM t").as_deref(),
        Ok("written over tcp")
    );
    cluster.restart();
    assert_eq!(psql_at(&url, "SELECT count(*) FROM t").as_deref(), Ok("1"));

    let (dir, pid) = (cluster.dir().to_owned(), postmaster_pid(&cluster));
    drop(cluster);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(!running(pid), "the server outlived its Cluster");
}

#[test]
fn a_synchronous_standby_has_every_commit_and_takes_over_when_the_primary_is_killed() {
    let primary = Cluster::start();
    let url = primary.new_database();
    let db = url.rsplit('/').next().expect("a database name").to_owned();
    psql_at(&url, "CREATE TABLE t (v text)").expect("create a table");

    let standby = primary.standby();
    primary.make_synchronous(&standby);
    assert!(standby.is_standby());
    assert_eq!(
        primary.psql("postgres", "SELECT sync_state FROM pg_stat_replication"),
        "sync"
    );

    // Standby first: the URL skips it, read-only, for the primary.
    let both = Cluster::multi_host_url(&[&standby, &primary], &db);
    psql_at(&both, "INSERT INTO t VALUES ('before')").expect("a write through the multi-host URL");
    standby.wait_for_replay_of(&primary);
    assert_eq!(standby.psql(&db, "SELECT v FROM t"), "before");
    let read_only = psql_at(&standby.url(&db), "INSERT INTO t VALUES ('no')")
        .expect_err("a standby refuses writes");
    assert!(read_only.contains("read-only transaction"), "{read_only}");

    primary.kill9();
    standby.promote();
    assert!(!standby.is_standby());
    let after = Cluster::multi_host_url(&[&primary, &standby], &db);
    assert_eq!(
        psql_at(
            &after,
            "INSERT INTO t VALUES ('after'); SELECT string_agg(v, ',' ORDER BY v) FROM t"
        )
        .as_deref(),
        Ok("after,before")
    );
}

#[test]
fn tests_running_at_once_each_get_a_database_of_their_own_from_the_shared_cluster() {
    let urls: Vec<String> = std::thread::scope(|s| {
        let makers: Vec<_> = (0..8)
            .map(|i| {
                s.spawn(move || {
                    let url = Cluster::shared().new_database();
                    psql_at(
                        &url,
                        &format!("CREATE TABLE t (v int); INSERT INTO t VALUES ({i})"),
                    )
                    .expect("a write in a fresh database");
                    url
                })
            })
            .collect();
        makers
            .into_iter()
            .map(|m| m.join().expect("a maker"))
            .collect()
    });
    for (i, url) in urls.iter().enumerate() {
        assert_eq!(
            psql_at(url, "SELECT v FROM t").as_deref(),
            Ok(i.to_string().as_str())
        );
    }
    let mut distinct = urls.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), urls.len());
}

/// Run only as a child of the test below: starts this process's shared cluster,
/// says where it lives, and exits without any cleanup of its own.
#[test]
#[ignore = "a helper: run by the_shared_cluster_is_removed_after_its_test_process_exits"]
fn shared_cluster_of_a_child_process() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let cluster = Cluster::shared();
    assert!(std::ptr::eq(cluster, Cluster::shared()), "one per process");
    let url = cluster.new_database();
    psql_at(&url, "SELECT 1").expect("the shared cluster answers");
    // On lines of their own: the harness prints the test's name before them.
    println!("\ndir={}", cluster.dir().display());
    println!("pid={}", postmaster_pid(cluster));
}

#[test]
fn the_shared_cluster_is_removed_after_its_test_process_exits() {
    let out = tempfile::NamedTempFile::new().expect("a temp file");
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            "server::postgres_kit::shared_cluster_of_a_child_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::null())
        .stdout(out.reopen().expect("reopen"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn this test binary");
    let mut status = None;
    wait_until("the child test exits", Duration::from_secs(60), || {
        status = child.try_wait().expect("wait");
        status.is_some()
    });
    assert!(status.is_some_and(|s| s.success()), "child test failed");

    let printed = std::fs::read_to_string(out.path()).expect("the child's output");
    let field = |key: &str| {
        printed
            .lines()
            .find_map(|l| Some(l.split_once(key)?.1))
            .unwrap_or_else(|| panic!("no {key} in {printed}"))
            .to_owned()
    };
    let dir = PathBuf::from(field("dir="));
    let pid: i32 = field("pid=").parse().expect("a pid");
    wait_until(
        "the watchdog removes the cluster",
        Duration::from_secs(20),
        || !dir.exists() && !running(pid),
    );
}
