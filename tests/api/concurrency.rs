//! Spec §3 retrieve: exactly one caller can ever receive a given secret, even under
//! concurrent requests — and a reveal racing a burn has exactly one winner.

use crate::common::*;
use futures_util::future::join_all;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_hundred_concurrent_reveals_give_the_value_exactly_once() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "only one of you")]).await;
    let key = text(&meta, "secret_key").to_owned();
    let url = app.url(&format!("/api/v1/secret/{key}"));
    // A client per request: separate connections, really in parallel.
    let requests = (0..100).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let resp = reqwest::Client::new()
                .post(url)
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.expect("JSON");
            (status, body)
        })
    });

    let results = tokio::time::timeout(DEADLINE, join_all(requests))
        .await
        .expect("all reveals answer in time");

    let results: Vec<_> = results.into_iter().map(|r| r.expect("task")).collect();
    let winners: Vec<_> = results.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(winners.len(), 1, "exactly one reveal succeeds");
    assert_eq!(winners[0].1["value"], "only one of you");
    let losers = results
        .iter()
        .filter(|(s, b)| *s == 404 && b["message"] == "Unknown secret" && b["secret_key"] == key)
        .count();
    assert_eq!(losers, 99, "every other reveal is Unknown secret");
    let receipt = ok_json(app.metadata(text(&meta, "metadata_key")).await).await;
    assert_eq!(receipt["state"], "received");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reveal_racing_a_burn_has_exactly_one_winner() {
    let app = spawn_app().await;
    let mut reveals_won = 0;
    let mut burns_won = 0;

    for round in 0..20 {
        let value = format!("race {round}");
        let meta = app.share(&[("secret", &value)]).await;
        let (key, mkey) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));
        let reveal_client = reqwest::Client::new();
        let burn_client = reqwest::Client::new();
        let reveal = tokio::spawn(
            reveal_client
                .post(app.url(&format!("/api/v1/secret/{key}")))
                .send(),
        );
        let burn = tokio::spawn(
            burn_client
                .post(app.url(&format!("/api/v1/private/{mkey}/burn")))
                .send(),
        );

        let (reveal, burn) = tokio::time::timeout(DEADLINE, async {
            (reveal.await.unwrap().unwrap(), burn.await.unwrap().unwrap())
        })
        .await
        .expect("both answer in time");

        let reveal_ok = reveal.status() == 200;
        let burn_ok = burn.status() == 200;
        assert!(
            reveal_ok ^ burn_ok,
            "round {round}: exactly one of reveal and burn wins"
        );
        let receipt = ok_json(app.metadata(mkey).await).await;
        if reveal_ok {
            reveals_won += 1;
            assert_eq!(ok_json(reveal).await["value"], value.as_str());
            assert_error(burn, 404, "Unknown secret").await;
            assert_eq!(receipt["state"], "received", "round {round}");
        } else {
            burns_won += 1;
            assert_eq!(ok_json(burn).await["state"]["state"], "burned");
            assert_error(reveal, 404, "Unknown secret").await;
            assert_eq!(receipt["state"], "burned", "round {round}");
        }
    }
    assert_eq!(reveals_won + burns_won, 20);
}
