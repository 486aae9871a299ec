//! Spec §3 retrieve: one POST reveals and destroys; the answer carries the value,
//! the key and the link's origin; a missing or wrong passphrase answers exactly like
//! an unknown key and leaves the secret in place.

use crate::common::*;
use serde_json::json;

#[tokio::test]
async fn reveal_returns_value_key_and_the_servers_own_origin() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "the value")]).await;
    let key = text(&meta, "secret_key");

    let body = ok_json(app.reveal(key, None).await).await;

    assert_eq!(
        body,
        json!({"value": "the value", "secret_key": key, "share_domain": app.address})
    );
    assert!(app.address.starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn reveal_never_shows_the_metadata_key() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "v")]).await;

    let resp = app.reveal(text(&meta, "secret_key"), None).await;
    let raw = resp.text().await.unwrap();

    assert!(!raw.contains(text(&meta, "metadata_key")), "{raw}");
}

#[tokio::test]
async fn share_domain_is_the_configured_base_url() {
    let app = spawn_app_with(|s| s.base_url = "https://secrets.example.com".into()).await;
    let meta = app.share(&[("secret", "behind a proxy")]).await;

    let body = ok_json(app.reveal(text(&meta, "secret_key"), None).await).await;

    assert_eq!(body["share_domain"], "https://secrets.example.com");
    assert_eq!(body["value"], "behind a proxy");
}

#[tokio::test]
async fn a_forged_host_header_does_not_change_share_domain() {
    for base_url in ["", "https://secrets.example.com"] {
        let app = spawn_app_with(|s| s.base_url = base_url.into()).await;
        let expected = if base_url.is_empty() {
            app.address.clone()
        } else {
            base_url.to_owned()
        };
        let meta = app.share(&[("secret", "forged")]).await;
        let key = text(&meta, "secret_key");

        let resp = app
            .post(&format!("/api/v1/secret/{key}"))
            .header("host", "evil.example.net")
            .header("x-forwarded-host", "evil.example.net")
            .header("x-forwarded-proto", "gopher")
            .header("forwarded", "host=evil.example.net;proto=gopher")
            .await;

        let body = ok_json(resp).await;
        assert_eq!(body["share_domain"], expected.as_str());
        assert_eq!(body["value"], "forged");
    }
}

#[tokio::test]
async fn unicode_and_multiline_values_round_trip_exactly() {
    let app = spawn_app().await;
    let values = [
        "Grüße, 世界! 🔐🗝️ Ελληνικά عربى",
        "line one\nline two\r\nline three\n",
        "  leading and trailing spaces  ",
        "\ttabs\tand \"quotes\" and 'apostrophes' and \\backslashes\\",
        "a+b=c&d=e%20f?g#h",
        "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n\n",
        "\u{0}nul and \u{7f} del",
        "x",
    ];

    for value in values {
        let meta = app.share(&[("secret", value)]).await;
        let body = ok_json(app.reveal(text(&meta, "secret_key"), None).await).await;
        assert_eq!(text(&body, "value"), value);
    }
    for value in values {
        let meta = ok_json(
            app.post_json("/api/v1/share", &json!({"secret": value}))
                .await,
        )
        .await;
        let body = ok_json(app.reveal(text(&meta, "secret_key"), None).await).await;
        assert_eq!(text(&body, "value"), value, "through JSON");
    }
}

#[tokio::test]
async fn a_missing_or_wrong_passphrase_is_unknown_secret_and_keeps_it() {
    let app = spawn_app().await;
    let meta = app
        .share(&[("secret", "guarded value"), ("passphrase", "correct horse")])
        .await;
    let key = text(&meta, "secret_key");

    for attempt in [None, Some(""), Some("wrong horse"), Some("Correct horse")] {
        let body = assert_error(app.reveal(key, attempt).await, 404, "Unknown secret").await;
        assert_eq!(
            body,
            json!({"message": "Unknown secret", "secret_key": key}),
            "{attempt:?}"
        );
    }

    let receipt = ok_json(app.metadata(text(&meta, "metadata_key")).await).await;
    assert_eq!(receipt["state"], "new", "failed attempts do not consume it");
    let body = ok_json(app.reveal(key, Some("correct horse")).await).await;
    assert_eq!(body["value"], "guarded value");
    assert_error(
        app.reveal(key, Some("correct horse")).await,
        404,
        "Unknown secret",
    )
    .await;
}

#[tokio::test]
async fn a_passphrase_is_ignored_for_a_secret_without_one() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "open")]).await;

    let body = ok_json(
        app.reveal(text(&meta, "secret_key"), Some("anything"))
            .await,
    )
    .await;

    assert_eq!(body["value"], "open");
}

#[tokio::test]
async fn an_unknown_key_is_unknown_secret_echoing_the_key() {
    let app = spawn_app().await;

    for key in [
        "0123456789abcdefghijklmnopqrstu",
        "short",
        "NOT-one-of-ours",
    ] {
        let body = assert_error(app.reveal(key, None).await, 404, "Unknown secret").await;
        assert_eq!(
            body,
            json!({"message": "Unknown secret", "secret_key": key})
        );
    }
}

#[tokio::test]
async fn a_wrong_passphrase_answers_exactly_like_an_unknown_key() {
    let app = spawn_app().await;
    let meta = app
        .share(&[("secret", "s"), ("passphrase", "right one")])
        .await;
    let key = text(&meta, "secret_key");
    let unknown = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";

    let wrong = app.reveal(key, Some("wrong one")).await;
    let missing = app.reveal(unknown, Some("wrong one")).await;

    assert_eq!(wrong.status(), missing.status());
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    for name in ["x-ots-intended-status", "content-type", "cache-control"] {
        assert_eq!(header(&wrong, name), header(&missing, name), "{name}");
    }
    let wrong: serde_json::Value = wrong.json().await.unwrap();
    let missing: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(
        wrong,
        json!({"message": "Unknown secret", "secret_key": key})
    );
    assert_eq!(
        missing,
        json!({"message": "Unknown secret", "secret_key": unknown})
    );
}

#[tokio::test]
async fn the_metadata_key_does_not_reveal_the_secret() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "s")]).await;
    let mkey = text(&meta, "metadata_key");

    let body = assert_error(app.reveal(mkey, None).await, 404, "Unknown secret").await;

    assert_eq!(body["secret_key"], mkey);
    let body = ok_json(app.reveal(text(&meta, "secret_key"), None).await).await;
    assert_eq!(body["value"], "s");
}

/// Keys carry their record's id (docs/api-notes.md), so a key one character off,
/// or one of the other kind, may name a real record. It must still open nothing,
/// answer exactly like a key no server issued, and change nothing.
#[tokio::test]
async fn a_mistyped_forged_or_other_kind_key_answers_exactly_like_an_unknown_key() {
    let app = spawn_app().await;
    let meta = app.share(&[("secret", "still here")]).await;
    let (skey, mkey) = (text(&meta, "secret_key"), text(&meta, "metadata_key"));
    let swap_char = |key: &str, at: usize| {
        let mut chars: Vec<char> = key.chars().collect();
        chars[at] = if chars[at] == '0' { '1' } else { '0' };
        chars.into_iter().collect::<String>()
    };
    let near_misses = [
        swap_char(skey, KEY_CHARS - 1),
        swap_char(skey, 0),
        swap_char(skey, KEY_CHARS / 2),
        skey.to_uppercase(),
        skey[..KEY_CHARS - 1].to_owned(),
        format!("{skey}0"),
        mkey.to_owned(),
    ];
    let unknown = "0".repeat(KEY_CHARS);
    let expected = answer_of(app.reveal(&unknown, None).await).await;

    for key in &near_misses {
        let answer = answer_of(app.reveal(key, None).await).await;
        assert_eq!(
            answer.replace(key.as_str(), "KEY"),
            expected.replace(unknown.as_str(), "KEY"),
            "reveal with {key:?}"
        );
    }
    let expected = answer_of(app.metadata(&unknown).await).await;
    let answer = answer_of(app.metadata(skey).await).await;
    assert_eq!(
        answer.replace(skey, "KEY"),
        expected.replace(unknown.as_str(), "KEY"),
        "a secret key used as a metadata key"
    );
    let answer = answer_of(app.burn(skey, None).await).await;
    let expected = answer_of(app.burn(&unknown, None).await).await;
    assert_eq!(
        answer.replace(skey, "KEY"),
        expected.replace(unknown.as_str(), "KEY")
    );

    let body = ok_json(app.reveal(skey, None).await).await;
    assert_eq!(body["value"], "still here", "nothing was changed");
}

/// Status, the headers a client could tell apart, and the body, as one string.
async fn answer_of(resp: reqwest::Response) -> String {
    let mut answer = format!("{}", resp.status());
    for name in ["x-ots-intended-status", "content-type", "cache-control"] {
        let value = resp
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned());
        answer.push_str(&format!(" {name}={value:?}"));
    }
    answer.push(' ');
    answer.push_str(&resp.text().await.unwrap());
    answer
}
