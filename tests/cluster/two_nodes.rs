//! Two nodes over one database act as one server: a secret made on one reveals
//! on the other, once; of concurrent reveals and burns spread over both, one
//! wins; wrong passphrases are counted with the secret, whichever node they
//! reach; an account added on the command line works everywhere.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::Value;

use super::kit::*;
use crate::common::postgres::Cluster;
use crate::common::*;

/// Two nodes on a fresh database of the shared cluster, and the master key file.
/// Keep `_tmp` bound for the whole test: it holds the nodes' data directories.
struct Two {
    a: Server,
    b: Server,
    url: String,
    key: std::path::PathBuf,
    _tmp: tempfile::TempDir,
}

fn two_nodes() -> Two {
    let tmp = tempfile::tempdir().unwrap();
    let url = Cluster::shared().new_database();
    let key = master_key_file(tmp.path());
    let a = node(tmp.path(), "a", &url, &key).start();
    let b = node(tmp.path(), "b", &url, &key).start();
    Two {
        a,
        b,
        url,
        key,
        _tmp: tmp,
    }
}

#[tokio::test]
async fn a_secret_made_on_one_node_reveals_on_the_other_and_then_on_neither() {
    let Two { a, b, _tmp, .. } = two_nodes();
    let value = unique("made-on-a-");

    let meta = a.share(&[("secret", &value)]).await;
    let (secret_key, metadata_key) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));

    assert_eq!(b.reveal_value(secret_key, None).await, value);
    assert_unknown_secret(a.reveal(secret_key, None).await, secret_key).await;
    assert_unknown_secret(b.reveal(secret_key, None).await, secret_key).await;
    let receipt = ok_json(a.metadata(metadata_key).await).await;
    assert_eq!(receipt["state"], "received", "A sees what B did: {receipt}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_200_concurrent_reveals_over_two_nodes_exactly_one_gets_the_value() {
    let Two { a, b, _tmp, .. } = two_nodes();
    let value = unique("contended-");
    let meta = a.share(&[("secret", &value)]).await;
    let secret_key = text(&meta, "secret_key").to_owned();

    let nodes = [a.client.clone(), b.client.clone()];
    let reveals = (0..200).map(|i| {
        let (client, key) = (nodes[i % 2].clone(), secret_key.clone());
        tokio::spawn(async move {
            let resp = client.reveal(&key, None).await;
            let status = resp.status().as_u16();
            let intended = resp
                .headers()
                .get("x-ots-intended-status")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: Value = resp.json().await.expect("a JSON body");
            (status, intended, body)
        })
    });
    let answers: Vec<_> = join_all(reveals)
        .await
        .into_iter()
        .map(|r| r.expect("a reveal task"))
        .collect();

    let winners: Vec<_> = answers.iter().filter(|(s, ..)| *s == 200).collect();
    assert_eq!(winners.len(), 1, "exactly one reveal wins: {winners:?}");
    assert_eq!(winners[0].2["value"], value.as_str());
    for (status, intended, body) in answers.iter().filter(|(s, ..)| *s != 200) {
        assert_eq!(*status, 404, "{body}");
        assert_eq!(intended.as_deref(), Some("404"), "every loser: {body}");
        assert_eq!(body["message"], UNKNOWN_SECRET, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reveal_racing_a_burn_on_the_other_node_leaves_exactly_one_winner() {
    let Two { a, b, _tmp, .. } = two_nodes();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut rounds = 0;
    let (mut reveals_won, mut burns_won) = (0, 0);
    while rounds < 40 && Instant::now() < deadline {
        // The sides swap nodes every round.
        let (revealer, burner) = if rounds % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let value = unique("raced-");
        let meta = revealer.share(&[("secret", &value)]).await;
        let (secret_key, metadata_key) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));

        let (revealed, burned) = tokio::join!(
            revealer.reveal(secret_key, None).send(),
            burner.burn(metadata_key, None).send()
        );
        let (revealed, burned) = (revealed.status() == 200, burned.status() == 200);
        assert!(
            revealed != burned,
            "round {rounds}: exactly one of reveal ({revealed}) and burn ({burned}) wins"
        );
        let receipt = ok_json(burner.metadata(metadata_key).await).await;
        let state = if revealed { "received" } else { "burned" };
        assert_eq!(receipt["state"], state, "round {rounds}: {receipt}");
        assert_unknown_secret(burner.reveal(secret_key, None).await, secret_key).await;
        reveals_won += usize::from(revealed);
        burns_won += usize::from(burned);
        rounds += 1;
    }
    assert!(rounds >= 10, "only {rounds} rounds within the time");
    eprintln!("{rounds} rounds: {reveals_won} reveals won, {burns_won} burns won");
}

#[tokio::test]
async fn wrong_passphrases_are_counted_across_nodes_and_lock_the_secret() {
    let Two { a, b, _tmp, .. } = two_nodes();
    let value = unique("guarded-");
    let passphrase = unique("right-");
    let meta = a
        .share(&[("secret", &value), ("passphrase", &passphrase)])
        .await;
    let (secret_key, metadata_key) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));

    // Three wrong guesses on each node: five are allowed per secret, all nodes
    // together (rate limits are off, so no node counts anything of its own).
    let mut answers = Vec::new();
    for node in [&a, &b] {
        for _ in 0..3 {
            let resp = node.reveal(secret_key, Some("wrong")).await;
            answers.push(
                resp.headers()["x-ots-intended-status"]
                    .to_str()
                    .unwrap()
                    .to_owned(),
            );
            assert_eq!(resp.status(), 404);
        }
    }
    assert_eq!(
        answers,
        ["404", "404", "404", "404", "404", "429"],
        "the sixth wrong guess, the third on node B, finds the secret locked"
    );

    // Now even the right passphrase is refused, on either node, to reveal or burn.
    for node in [&a, &b] {
        assert_rate_limited(node.reveal(secret_key, Some(&passphrase)).await).await;
        assert_rate_limited(node.burn(metadata_key, Some(&passphrase)).await).await;
    }
    let receipt = ok_json(b.metadata(metadata_key).await).await;
    assert_ne!(
        receipt["state"], "received",
        "nothing was revealed: {receipt}"
    );
    assert_ne!(receipt["state"], "burned", "nothing was burned: {receipt}");
}

#[tokio::test]
async fn an_account_added_on_the_command_line_works_on_both_nodes() {
    let Two {
        a,
        b,
        url,
        key,
        _tmp: tmp,
    } = two_nodes();

    // No server involved: the command works on the database itself.
    let carol = user_add(tmp.path(), &url, &key, "carol");

    for node in [&a, &b] {
        // 200 here, 401 intended for a wrong token (below).
        ok_json(node.as_account(&carol).get(AUTHCHECK).await).await;
    }
    let meta = a.as_account(&carol).share(&[("secret", "carol's")]).await;
    let recent = ok_json(b.as_account(&carol).get(RECENT[0]).await).await;
    assert!(
        recent.to_string().contains(text(&meta, "metadata_key")),
        "B lists what carol made on A: {recent}"
    );
    let wrong = Account::new("carol", "not-her-token");
    assert_not_authorized(b.as_account(&wrong).get(AUTHCHECK).await).await;
}
