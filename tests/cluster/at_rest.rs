//! Spec §5 on PostgreSQL: an operator's `pg_dump` of the database the nodes
//! share, taken after they have been used, holds no value, passphrase, key or
//! token, neither as text nor as the hex `pg_dump` writes a `bytea` in.

use super::kit::*;
use crate::common::postgres::Cluster;
use crate::common::*;

/// Both keys of a metadata object, to look for in the dump.
fn keep_keys(meta: &serde_json::Value, needles: &mut Vec<String>) {
    needles.push(text(meta, "secret_key").to_owned());
    needles.push(text(meta, "metadata_key").to_owned());
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_pg_dump_after_activity_on_two_nodes_holds_nothing_secret_in_text_or_hex() {
    let tmp = tempfile::tempdir().unwrap();
    let cluster = Cluster::shared();
    let url = cluster.new_database();
    let key = master_key_file(tmp.path());
    let a = node(tmp.path(), "a", &url, &key).start();
    let b = node(tmp.path(), "b", &url, &key).start();
    let dora = user_add(tmp.path(), &url, &key, "dora");

    let mut needles: Vec<String> = vec![dora.token.clone()];
    let plain = unique("PLAIN-VALUE");
    let meta = a.share(&[("secret", &plain)]).await;
    keep_keys(&meta, &mut needles);
    let guarded = unique("GUARDED-VALUE");
    let passphrase = unique("PASSPHRASE");
    let meta = b
        .share(&[("secret", &guarded), ("passphrase", &passphrase)])
        .await;
    keep_keys(&meta, &mut needles);
    let wrong = unique("WRONG-GUESS");
    a.reveal(text(&meta, "secret_key"), Some(&wrong)).await;
    let owned = unique("OWNED-VALUE");
    let meta = b.as_account(&dora).share(&[("secret", &owned)]).await;
    keep_keys(&meta, &mut needles);
    let revealed = unique("REVEALED-VALUE");
    let meta = a.share(&[("secret", &revealed)]).await;
    keep_keys(&meta, &mut needles);
    assert_eq!(
        b.reveal_value(text(&meta, "secret_key"), None).await,
        revealed
    );
    let burned = unique("BURNED-VALUE");
    let meta = b.share(&[("secret", &burned)]).await;
    keep_keys(&meta, &mut needles);
    ok_json(a.burn(text(&meta, "metadata_key"), None).await).await;
    let generated = ok_json(a.post_form(GENERATE, &[("length", "32")]).await).await;
    keep_keys(&generated, &mut needles);
    needles.push(text(&generated, "value").to_owned());
    // Requests for a secret: one answered on the other node and unread, one
    // answered and read.
    for read in [false, true] {
        let note = unique("NOTE");
        let answer = unique("ANSWER");
        let asked = a.ask(&[("note", &note)]).await;
        let (request, private) = (text(&asked, "request_key"), text(&asked, "private_key"));
        ok_json(b.answer(request, &answer).await).await;
        if read {
            ok_json(a.reveal_answer(private).await).await;
        }
        needles.extend([note, answer, request.to_owned(), private.to_owned()]);
    }
    needles.extend([plain, guarded, passphrase, wrong, owned, revealed, burned]);
    needles.push(std::fs::read_to_string(&key).unwrap().trim().to_owned());

    let dump = cluster.pg_dump(&database_name(&url));
    let dump_text = String::from_utf8_lossy(&dump);
    for table in ["otsd_secrets", "otsd_requests", "otsd_accounts"] {
        assert!(
            dump_text.contains(&format!("COPY public.{table} ")),
            "the dump holds {table}"
        );
    }
    assert!(dump_text.contains("\\x"), "the dump holds bytea, in hex");
    for needle in &needles {
        assert!(
            !contains(&dump, needle.as_bytes()),
            "the pg_dump holds {needle:?} in the clear"
        );
        let in_hex = hex(needle.as_bytes());
        assert!(
            !contains(&dump, in_hex.as_bytes()),
            "the pg_dump holds {needle:?} as bytea hex {in_hex}"
        );
    }
}
