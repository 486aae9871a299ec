//! A node killed with `kill -9` under load loses nothing it acknowledged: the
//! database, not the node, holds every secret, and each reveals once through
//! another node.

use std::time::Duration;

use super::kit::*;
use crate::common::postgres::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_create_acknowledged_by_a_node_killed_under_load_reveals_once_on_another() {
    let tmp = tempfile::tempdir().unwrap();
    let url = Cluster::shared().new_database();
    let key = master_key_file(tmp.path());
    let a = node(tmp.path(), "a", &url, &key);
    let b = node(tmp.path(), "b", &url, &key);
    let (node_a, node_b) = (a.start(), b.start());

    let load = Load::start(
        &[node_a.client.clone(), node_b.client.clone()],
        3,
        400,
        Duration::from_secs(3),
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = tokio::task::spawn_blocking(move || node_a.kill9())
        .await
        .unwrap();
    let (made, refused) = load.finish().await;

    let on_a = made.iter().filter(|m| m.by == 0).count();
    let on_b = made.len() - on_a;
    assert!(
        on_a > 0 && on_b > 0,
        "both nodes acknowledged creates ({on_a}, {on_b})"
    );
    assert!(
        refused > 0,
        "creates sent to the killed node after the kill were not acknowledged:\n{log}"
    );

    // What A acknowledged reveals on B; what B acknowledged on A, started again.
    let node_a = a.start();
    let other = |by: usize| {
        if by == 0 {
            node_b.client.clone()
        } else {
            node_a.client.clone()
        }
    };
    let same = |by: usize| {
        if by == 0 {
            node_a.client.clone()
        } else {
            node_b.client.clone()
        }
    };
    reveal_each_exactly_once(&made, other, same).await;
    eprintln!("{on_a} acknowledged by the killed node, {on_b} by the other, {refused} refused");
}
