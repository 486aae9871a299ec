//! API v2 §11: one store for v1 and v2. Either API reveals (once across both),
//! burns and lists what the other made; v1 has the reference's `/receipt`
//! aliases.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_secret_made_with_v1_reveals_with_v2_and_the_reverse() {
    let app = spawn_app().await;

    let v1 = app.share(&[("secret", "made by v1")]).await;
    let revealed = v2_ok(app.reveal_v2(text(&v1, "secret_key"), None).await).await;
    assert_eq!(revealed["record"]["secret_value"], "made by v1");
    let receipt = v2_ok(app.receipt_v2(text(&v1, "metadata_key")).await).await;
    assert_eq!(receipt["record"]["state"], "revealed");
    assert_eq!(receipt["record"]["kind"], "conceal");

    let v2 = app.conceal_v2(json!({"secret": "made by v2"})).await;
    let (key, rkey) = v2_keys(&v2);
    assert_eq!(app.reveal_value(&key, None).await, "made by v2");
    let receipt = ok_json(app.metadata(&rkey).await).await;
    assert_eq!(receipt["state"], "received");
    v2_unknown(app.reveal_v2(&key, None).await).await;
}

#[tokio::test]
async fn v2_burns_a_v1_secret_and_v1_burns_a_v2_secret() {
    let app = spawn_app().await;

    let v1 = app.share(&[("secret", "s"), ("passphrase", "pw")]).await;
    let burned = v2_ok(app.burn_v2(text(&v1, "metadata_key"), Some("pw")).await).await;
    assert_eq!(burned["record"]["state"], "burned");
    assert_unknown_secret(
        app.reveal(text(&v1, "secret_key"), Some("pw")).await,
        text(&v1, "secret_key"),
    )
    .await;

    let v2 = app.conceal_v2(json!({"secret": "s"})).await;
    let (key, rkey) = v2_keys(&v2);
    let burned = ok_json(app.post(&format!("/api/v1/receipt/{rkey}/burn")).await).await;
    assert_eq!(burned["state"]["state"], "burned");
    v2_unknown(app.reveal_v2(&key, None).await).await;
    let receipt = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(receipt["record"]["state"], "burned");
}

#[tokio::test]
async fn v1s_receipt_aliases_read_list_and_burn() {
    let app = spawn_app().await;
    let alice = add_account(&app, "alice");
    let client = app.as_account(&alice);
    let v2 = client.conceal_v2(json!({"secret": "s"})).await;
    let (_, rkey) = v2_keys(&v2);

    let got = ok_json(client.get(&format!("/api/v1/receipt/{rkey}")).await).await;
    let posted = ok_json(client.post(&format!("/api/v1/receipt/{rkey}")).await).await;
    assert_eq!(got["metadata_key"], rkey.as_str());
    assert_eq!(posted["metadata_key"], rkey.as_str());
    assert_eq!(got["state"], "new");

    let recent = ok_json(client.get("/api/v1/receipt/recent").await).await;
    let listed = recent.as_array().expect("v1 recent is an array");
    assert_eq!(listed.len(), 1, "{recent}");
    assert_eq!(listed[0]["custid"], "alice");

    let burned = ok_json(client.post(&format!("/api/v1/receipt/{rkey}/burn")).await).await;
    assert_eq!(burned["state"]["state"], "burned");
    assert_not_authorized(app.get("/api/v1/receipt/recent").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reveals_across_v1_and_v2_have_exactly_one_winner() {
    const EACH: usize = 10;
    let app = spawn_app().await;

    for round in 0..3 {
        let value = format!("one winner, round {round}");
        let created = app.conceal_v2(json!({"secret": value})).await;
        let (key, rkey) = v2_keys(&created);
        let v1 = app.url(&format!("/api/v1/secret/{key}"));
        let v2_url = app.url(&v2(&format!("/secret/{key}/reveal")));
        // A client per request: separate connections, really in parallel.
        let requests = (0..2 * EACH).map(|i| {
            let (url, body) = if i % 2 == 0 {
                (v1.clone(), None)
            } else {
                (v2_url.clone(), Some(json!({"continue": true})))
            };
            tokio::spawn(async move {
                let mut request = reqwest::Client::new().post(url);
                if let Some(body) = body {
                    request = request.json(&body);
                }
                let resp = request.send().await.expect("an answer");
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().await.expect("JSON");
                (i % 2 == 0, status, body)
            })
        });

        let results = tokio::time::timeout(Duration::from_secs(30), join_all(requests))
            .await
            .expect("every reveal answers in time");

        let results: Vec<_> = results.into_iter().map(|r| r.expect("task")).collect();
        let winners: Vec<_> = results.iter().filter(|(_, s, _)| *s == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let (by_v1, _, body) = winners[0];
        let got = if *by_v1 {
            &body["value"]
        } else {
            &body["record"]["secret_value"]
        };
        assert_eq!(got, value.as_str());
        for (by_v1, status, body) in &results {
            if *status == 200 {
                continue;
            }
            assert_eq!(*status, 404, "{body}");
            if *by_v1 {
                assert_eq!(body["message"], UNKNOWN_SECRET);
            } else {
                assert_eq!(
                    *body,
                    json!({"error": "Unknown secret", "error_type": "RecordNotFound"})
                );
            }
        }
        let receipt = v2_ok(app.receipt_v2(&rkey).await).await;
        assert_eq!(receipt["record"]["state"], "revealed");
    }
}
