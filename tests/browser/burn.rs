//! "Burn this secret" from the receipt: a confirm step, then a POST.

use crate::browser::support::*;

#[tokio::test]
async fn burning_from_the_receipt_asks_first_then_destroys_the_secret() {
    let lab = Lab::new("burn").await;
    let sender = lab.browser("sender").await;
    let created = create_secret(
        &lab,
        &sender,
        &Form {
            secret: "to be burned",
            ..Form::default()
        },
    )
    .await;

    // The button leads to a confirm step; Cancel goes back and burns nothing.
    button(&sender, "Burn this secret").await.click().await;
    let confirm_url = format!("{}/burn", created.receipt_url);
    sender
        .wait_url("the confirm step", |u| u == confirm_url)
        .await;
    assert_eq!(sender.find("h1").await.text().await, "Burn this secret?");
    assert!(
        sender.try_find("#passphrase").await.is_none(),
        "no passphrase asked for a secret without one"
    );
    sender.screenshot("confirm").await;
    button(&sender, "Cancel").await.click().await;
    sender
        .wait_url("the receipt", |u| u == created.receipt_url)
        .await;
    assert_eq!(receipt_state(&sender).await, "new", "Cancel burned nothing");

    // Confirm: burned, and the receipt says so.
    button(&sender, "Burn this secret").await.click().await;
    button(&sender, "Yes, burn this secret").await.click().await;
    sender
        .wait_url("back on the receipt", |u| u == created.receipt_url)
        .await;
    assert_eq!(receipt_state(&sender).await, "burned");
    let badge = sender.find("span.state").await.text().await;
    assert_eq!(badge, "Burned");
    let when = sender.find("span.state-detail").await.text().await;
    assert!(when.ends_with(" UTC"), "burned, with a time: {when:?}");
    assert!(
        sender.try_find("#link").await.is_none(),
        "no share link once burned"
    );
    assert!(
        sender.find_all("a.button").await.is_empty(),
        "nothing left to burn"
    );
    sender.screenshot("burned").await;
    assert_eq!(
        lab.api_receipt(&created.metadata_key).await["state"],
        "burned"
    );

    // The link no longer works.
    let recipient = lab.browser("recipient").await;
    recipient.goto(&created.link).await;
    assert_gone(&recipient).await;
    recipient.screenshot("link-after-burn").await;

    // The confirm step of a burned secret just shows the receipt.
    sender.goto(&confirm_url).await;
    sender
        .wait_url("the receipt", |u| u == created.receipt_url)
        .await;
}

#[tokio::test]
async fn burning_a_secret_with_a_passphrase_needs_the_passphrase() {
    let lab = Lab::new("burn-passphrase").await;
    let sender = lab.browser("sender").await;
    let created = create_secret(
        &lab,
        &sender,
        &Form {
            secret: "guarded",
            passphrase: Some("open sesame"),
            ..Form::default()
        },
    )
    .await;
    button(&sender, "Burn this secret").await.click().await;
    sender.find("#passphrase").await.send_keys("wrong").await;
    button(&sender, "Yes, burn this secret").await.click().await;
    let error = sender.find("p.error").await.text().await;
    assert!(
        error.contains("passphrase is not right"),
        "a wrong passphrase is reported: {error:?}"
    );
    sender.find("#passphrase").await;
    sender.screenshot("wrong-passphrase").await;
    assert_eq!(
        lab.api_receipt(&created.metadata_key).await["state"],
        "new",
        "a wrong passphrase burns nothing"
    );

    sender
        .find("#passphrase")
        .await
        .send_keys("open sesame")
        .await;
    button(&sender, "Yes, burn this secret").await.click().await;
    sender
        .wait_url("back on the receipt", |u| u == created.receipt_url)
        .await;
    assert_eq!(receipt_state(&sender).await, "burned");
    sender.screenshot("burned").await;

    let resp = lab
        .app
        .reveal(&created.secret_key, Some("open sesame"))
        .await;
    assert_eq!(resp.status(), 404, "the burned secret cannot be revealed");
}
