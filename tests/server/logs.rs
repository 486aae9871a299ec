//! Spec §5: no key, value, passphrase or full URL of a secret is ever written to
//! the log. A whole lifecycle runs against the real binary, then its complete
//! stderr is searched for every sensitive string the test used or was given.

use serde_json::{Value, json};

use crate::common::*;

/// Runs share (body, query string, JSON), generate, metadata, reveal with a wrong
/// then the right passphrase, burn, and reads of unknown keys. Returns every
/// string that must not reach the log, with a label for the report.
async fn lifecycle(server: &Server) -> Vec<(&'static str, String)> {
    let mut secrets = Vec::new();

    // 1. Form body, with a passphrase.
    let value1 = unique("LeakCanaryValueOne");
    let pass1 = unique("LeakCanaryPassOne");
    let r1 = server
        .share(&[("secret", &value1), ("passphrase", &pass1), ("ttl", "600")])
        .await;
    let (sk1, mk1) = (
        text(&r1, "secret_key").to_owned(),
        text(&r1, "metadata_key").to_owned(),
    );

    // 2. Parameters in the query string of a POST with an empty body.
    let value2 = unique("LeakCanaryValueTwo");
    let pass2 = unique("LeakCanaryPassTwo");
    let params = [("secret", value2.as_str()), ("passphrase", pass2.as_str())];
    let r2 = ok_json(server.post_query(SHARE, &params).await).await;
    let (sk2, mk2) = (
        text(&r2, "secret_key").to_owned(),
        text(&r2, "metadata_key").to_owned(),
    );

    // 3. A flat JSON body.
    let value3 = unique("LeakCanaryValueJson");
    let r3 = ok_json(server.post_json(CREATE, &json!({ "secret": value3 })).await).await;
    let (sk3, mk3) = (
        text(&r3, "secret_key").to_owned(),
        text(&r3, "metadata_key").to_owned(),
    );

    // 4. Generate, with a passphrase.
    let pass4 = unique("LeakCanaryPassGen");
    let r4 = ok_json(
        server
            .post_form(
                "/api/v1/generate",
                &[("passphrase", &pass4), ("length", "32")],
            )
            .await,
    )
    .await;
    let (sk4, mk4, generated) = (
        text(&r4, "secret_key").to_owned(),
        text(&r4, "metadata_key").to_owned(),
        text(&r4, "value").to_owned(),
    );

    // 5. Receipts, by GET and POST and through the alias.
    for mk in [&mk1, &mk2, &mk3, &mk4] {
        ok_json(server.metadata(mk).await).await;
        ok_json(
            server
                .post_form(&format!("/api/v1/metadata/{mk}"), &[])
                .await,
        )
        .await;
    }

    // 6. Wrong passphrase, then the right one.
    let wrong = unique("LeakCanaryWrongPass");
    assert_unknown_secret(server.reveal(&sk1, Some(&wrong)).await, &sk1).await;
    assert_eq!(server.reveal_value(&sk1, Some(&pass1)).await, value1);

    // 7. Burn with the passphrase; a second burn is refused.
    let burned: Value = ok_json(server.burn(&mk2, Some(&pass2)).await).await;
    assert_eq!(burned["state"]["state"], "burned");
    assert_unknown_secret(server.burn(&mk2, Some(&pass2)).await, &mk2).await;

    // 8. Reveal with the passphrase in the query string; the plain one by form.
    let resp = server
        .post_query(&format!("/api/v1/secret/{sk4}"), &[("passphrase", &pass4)])
        .await;
    assert_eq!(text(&ok_json(resp).await, "value"), generated);
    assert_eq!(server.reveal_value(&sk3, None).await, value3);

    // 9. Keys nobody issued: reveal, receipt, burn.
    let unknown = unissued_key();
    assert_unknown_secret(server.reveal(&unknown, None).await, &unknown).await;
    let unknown_mk = unissued_key();
    assert_unknown_secret(server.metadata(&unknown_mk).await, &unknown_mk).await;
    assert_unknown_secret(server.burn(&unknown_mk, None).await, &unknown_mk).await;

    // 10. The web pages that carry keys in their paths.
    let r5 = server.share(&[("secret", "page-visit")]).await;
    let (sk5, mk5) = (
        text(&r5, "secret_key").to_owned(),
        text(&r5, "metadata_key").to_owned(),
    );
    for path in [format!("/secret/{sk5}"), format!("/private/{mk5}")] {
        let resp = server.get(&path).await;
        assert_eq!(resp.status(), 200, "GET {path}");
    }

    secrets.extend([
        ("value (form)", value1),
        ("value (query string)", value2),
        ("value (JSON)", value3),
        ("generated value", generated),
        ("passphrase (form)", pass1),
        ("passphrase (query string)", pass2),
        ("passphrase (generate)", pass4),
        ("wrong passphrase", wrong),
        ("unknown secret key", unknown),
        ("unknown metadata key", unknown_mk),
    ]);
    for (sk, mk) in [(sk1, mk1), (sk2, mk2), (sk3, mk3), (sk4, mk4), (sk5, mk5)] {
        secrets.push(("secret key", sk));
        secrets.push(("metadata key", mk));
    }
    secrets
}

/// Runs the lifecycle at `level` (None: the default), stops the server and checks
/// its whole stderr.
async fn no_secret_in_the_log(level: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    // With the access log on, so that every request's own line is searched too.
    let mut otsd = Otsd::new(tmp.path())
        .without_env("OTSD_LOG_LEVEL")
        .env("OTSD_ACCESS_LOG", "true");
    if let Some(level) = level {
        otsd = otsd.env("OTSD_LOG_LEVEL", level);
    }
    let server = otsd.start();
    let secrets = lifecycle(&server).await;
    let log = server.stop().stderr;

    assert!(log.contains("stopped cleanly"), "the whole log: {log}");
    assert!(
        log.contains("POST /api/v1/share") && log.contains("/api/v1/secret/{key}"),
        "the access log is on (route patterns only); log:\n{log}"
    );
    let leaks: Vec<String> = secrets
        .iter()
        .filter(|(_, needle)| log.contains(needle.as_str()))
        .map(|(what, needle)| {
            let lines: Vec<&str> = log
                .lines()
                .filter(|l| l.contains(needle.as_str()))
                .collect();
            format!("{what} {needle:?} in:\n  {}", lines.join("\n  "))
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "log level {level:?} leaked {} of {} sensitive strings:\n{}",
        leaks.len(),
        secrets.len(),
        leaks.join("\n")
    );
}

#[tokio::test]
async fn logs_never_contain_keys_values_or_passphrases() {
    no_secret_in_the_log(None).await;
}

#[tokio::test]
async fn logs_never_contain_keys_values_or_passphrases_at_debug_level() {
    no_secret_in_the_log(Some("debug")).await;
}
