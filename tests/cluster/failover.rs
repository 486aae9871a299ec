//! Failover: the primary dies (`kill -9`) and its synchronous standby is
//! promoted. Nodes on a multi-host URL with `target_session_attrs=read-write`
//! find the new primary by themselves, and since every commit waited for the
//! standby's disk, nothing they acknowledged is lost, a create or a reveal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::kit::*;
use crate::common::postgres::Cluster;
use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_the_primary_dies_and_its_synchronous_standby_is_promoted_nothing_acknowledged_is_lost()
 {
    let primary = Arc::new(Cluster::start());
    let db = primary.create_database();
    let standby = Arc::new(primary.standby());
    primary.make_synchronous(&standby);
    let url = Cluster::multi_host_url(&[&primary, &standby], &db);
    assert!(url.contains("target_session_attrs=read-write"), "{url}");
    let tmp = tempfile::tempdir().unwrap();
    let key = master_key_file(tmp.path());
    let a = node(tmp.path(), "a", &url, &key).start();
    let b = node(tmp.path(), "b", &url, &key).start();
    let (pid_a, pid_b) = (a.pid(), b.pid());

    let load = Load::start(
        &[a.client.clone(), b.client.clone()],
        2,
        1000,
        Duration::from_secs(60),
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Revealed (acknowledged) right before the primary dies: must stay gone.
    let mut revealed = Vec::new();
    for i in 0..5 {
        let (reader, writer) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let meta = writer
            .share(&[("secret", "read before the failover")])
            .await;
        let key = text(&meta, "secret_key").to_owned();
        assert_eq!(
            reader.reveal_value(&key, None).await,
            "read before the failover"
        );
        revealed.push(key);
    }

    let (dying, rising) = (primary.clone(), standby.clone());
    tokio::task::spawn_blocking(move || {
        dying.kill9();
        rising.promote();
    })
    .await
    .unwrap();
    let promoted = Instant::now();
    assert!(!standby.is_standby(), "the standby was promoted");
    for node in [&a, &b] {
        let took = wait_until_ready(node, RECOVERY_LIMIT).await;
        eprintln!("{} ready {took:?} after the promotion", node.address);
    }
    assert_eq!((a.pid(), b.pid()), (pid_a, pid_b));
    assert!(running(pid_a) && running(pid_b), "the same nodes go on");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (made, refused) = load.finish().await;

    let after = made.iter().filter(|m| m.at > promoted).count();
    assert!(
        after > 0,
        "creates are acknowledged after the promotion ({} in all, {refused} refused)",
        made.len()
    );
    // Every secret reads from the new primary (the old one is dead).
    assert_eq!(standby.psql(&db, "SELECT pg_is_in_recovery()"), "f");
    let (node_a, node_b) = (a.client.clone(), b.client.clone());
    let other = |by: usize| {
        if by == 0 {
            node_b.clone()
        } else {
            node_a.clone()
        }
    };
    let same = |by: usize| {
        if by == 0 {
            node_a.clone()
        } else {
            node_b.clone()
        }
    };
    reveal_each_exactly_once(&made, other, same).await;
    for key in &revealed {
        assert_unknown_secret(a.reveal(key, None).await, key).await;
        assert_unknown_secret(b.reveal(key, None).await, key).await;
    }
    eprintln!(
        "{} acknowledged ({after} after the promotion), {refused} refused",
        made.len()
    );
}
