//! API v2 §5 generate: the value in `record.secret.secret_value`, drawn from
//! the `character_sets` asked for (look-alikes left out by default); and the
//! receipt's first v2 read within a minute carries it once more, in
//! `details.secret_value`, which a v1 read never takes.

use serde_json::{Value, json};

use crate::common::*;

const SYMBOLS: &str = "!@#$%^&*()_-+=[]{}|:;\"'<>,.?/~`";
const AMBIGUOUS: &str = "ilo1IO0";
/// How many passwords each rule is checked on.
const DRAWS: usize = 8;

async fn generated(app: &TestApp, secret: Value) -> String {
    let body = app.generate_v2(secret).await;
    text(&body["record"]["secret"], "secret_value").to_owned()
}

#[tokio::test]
async fn a_generated_value_follows_its_character_sets() {
    let app = spawn_app().await;
    let only = |set: &str| {
        let mut sets = json!({
            "uppercase": false, "lowercase": false, "numbers": false, "symbols": false
        });
        sets[set] = json!(true);
        sets
    };

    for _ in 0..DRAWS {
        let value = generated(&app, json!({})).await;
        assert_eq!(value.chars().count(), 12, "{value}");
        assert!(!value.chars().any(|c| AMBIGUOUS.contains(c)), "{value}");
        assert!(value.chars().any(|c| c.is_ascii_uppercase()), "{value}");
        assert!(value.chars().any(|c| c.is_ascii_lowercase()), "{value}");
        assert!(value.chars().any(|c| c.is_ascii_digit()), "{value}");
        assert!(value.chars().any(|c| SYMBOLS.contains(c)), "{value}");

        let digits = generated(
            &app,
            json!({"length": 20, "character_sets": only("numbers")}),
        )
        .await;
        assert_eq!(digits.len(), 20, "{digits}");
        assert!(
            digits
                .chars()
                .all(|c| c.is_ascii_digit() && !"01".contains(c)),
            "{digits}"
        );

        let upper = generated(
            &app,
            json!({"length": "16", "character_sets": only("uppercase")}),
        )
        .await;
        assert_eq!(upper.len(), 16);
        assert!(
            upper
                .chars()
                .all(|c| c.is_ascii_uppercase() && !"IO".contains(c)),
            "{upper}"
        );

        let symbols = generated(&app, json!({"character_sets": only("symbols")})).await;
        assert!(symbols.chars().all(|c| SYMBOLS.contains(c)), "{symbols}");

        let none = generated(
            &app,
            json!({"length": 4, "character_sets": {
                "uppercase": false, "lowercase": false, "numbers": false, "symbols": false
            }}),
        )
        .await;
        assert_eq!(none.len(), 4);
        assert!(
            none.chars()
                .all(|c| (c.is_ascii_alphanumeric() || "*$!?()@#%^".contains(c))
                    && !AMBIGUOUS.contains(c)),
            "{none}"
        );
    }

    // With look-alikes allowed, 128 digits hold a 0 or a 1 all but surely
    // (a chance of 0.8^128 that they do not).
    let with_lookalikes = generated(
        &app,
        json!({"length": 128, "character_sets": {
            "uppercase": false, "lowercase": false, "symbols": false,
            "exclude_ambiguous": false
        }}),
    )
    .await;
    assert!(with_lookalikes.chars().all(|c| c.is_ascii_digit()));
    assert!(with_lookalikes.contains(['0', '1']), "{with_lookalikes}");
}

#[tokio::test]
async fn the_first_receipt_read_carries_the_generated_value_once() {
    let app = spawn_app().await;
    let body = app.generate_v2(json!({})).await;
    let value = text(&body["record"]["secret"], "secret_value").to_owned();
    let (key, rkey) = v2_keys(&body);

    let first = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(first["details"]["secret_value"], value.as_str());
    assert_eq!(first["details"]["show_secret"], true);

    let second = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(second["details"]["secret_value"], Value::Null);
    assert_eq!(second["details"]["show_secret"], false);
    assert!(!second.to_string().contains(&value), "{second}");

    let revealed = v2_ok(app.reveal_v2(&key, None).await).await;
    assert_eq!(revealed["record"]["secret_value"], value.as_str());
}

#[tokio::test]
async fn a_v1_receipt_read_does_not_take_the_generated_value() {
    let app = spawn_app().await;
    let body = app.generate_v2(json!({})).await;
    let value = text(&body["record"]["secret"], "secret_value").to_owned();
    let (_, rkey) = v2_keys(&body);

    for path in [
        format!("/api/v1/private/{rkey}"),
        format!("/api/v1/receipt/{rkey}"),
    ] {
        let v1 = ok_json(app.get(&path).await).await;
        assert!(!v1.to_string().contains(&value), "{path}: {v1}");
    }

    let v2 = v2_ok(app.receipt_v2(&rkey).await).await;
    assert_eq!(v2["details"]["secret_value"], value.as_str());
}

#[tokio::test]
async fn a_concealed_secrets_receipt_never_carries_its_value() {
    let app = spawn_app().await;
    let body = app
        .conceal_v2(json!({"secret": "not for the receipt"}))
        .await;
    let (_, rkey) = v2_keys(&body);

    let read = v2_ok(app.receipt_v2(&rkey).await).await;

    assert_eq!(read["details"]["secret_value"], Value::Null);
    assert!(!read.to_string().contains("not for the receipt"));
}
