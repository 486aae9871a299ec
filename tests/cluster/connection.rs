//! README "Several nodes": how a node reaches PostgreSQL. The password from a
//! file and never in a log line, TLS checked by rustls (`require` encrypts,
//! `verify-full` also checks the certificate), `otsd check` on a bad URL, and
//! the schema: two nodes starting together migrate once, and a newer schema
//! is refused naming both versions.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::postgres::Cluster;
use crate::common::*;

/// A node of `url`'s database with its own data directory under `dir`.
fn node(dir: &Path, name: &str, url: &str) -> Otsd {
    Otsd::new(dir)
        .data_dir(&dir.join(name))
        .env("OTSD_DATABASE_URL", url)
        .env("OTSD_MASTER_KEY", &"ab".repeat(32))
}

#[tokio::test]
async fn the_password_comes_from_a_file_and_never_reaches_the_log() {
    let cluster = Cluster::shared();
    let (url, password) = cluster.new_database_password_apart();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("db-password");
    std::fs::write(&file, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let server = node(tmp.path(), "a", &url)
        .env("OTSD_DATABASE_PASSWORD_FILE", file.to_str().unwrap())
        .env("OTSD_LOG_LEVEL", "debug")
        .start();
    let meta = server.share(&[("secret", "through a file")]).await;
    assert_eq!(
        server.reveal_value(text(&meta, "secret_key"), None).await,
        "through a file"
    );
    let log = server.stop().stderr;
    assert!(log.contains("using PostgreSQL at"), "{log}");
    assert!(
        !log.contains(&password),
        "the password is in the log:\n{log}"
    );

    // In the URL itself, it is shown as *** too.
    let with_password = url.replacen("otsd@", &format!("otsd:{password}@"), 1);
    let server = node(tmp.path(), "b", &with_password).start();
    let log = server.stop().stderr;
    assert!(log.contains("otsd:***@"), "{log}");
    assert!(
        !log.contains(&password),
        "the password is in the log:\n{log}"
    );

    // A wrong password is refused at once, not waited out, and not shown.
    let wrong = url.replacen("otsd@", "otsd:not-the-password@", 1);
    let refused = node(tmp.path(), "c", &wrong).run();
    assert!(!refused.status.success());
    assert!(
        refused.elapsed < std::time::Duration::from_secs(20),
        "{:?}",
        refused.elapsed
    );
    assert!(
        refused.stderr.contains("password authentication failed"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("not-the-password"),
        "{}",
        refused.stderr
    );
}

#[test]
fn check_names_a_bad_database_url_without_repeating_its_password() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [
        "mysql://otsd:hunter2@db/otsd",
        "postgres://otsd:hunter2@db:5432/otsd?sslmode=sometimes",
        "postgres://otsd:hunter2@db:notaport/otsd",
    ] {
        let done = Otsd::bare(tmp.path())
            .env("OTSD_DATABASE_URL", bad)
            .arg("check")
            .run();
        assert!(!done.status.success(), "{bad}: refused");
        let said = format!("{}{}", done.stdout, done.stderr);
        assert!(
            said.contains("database_url"),
            "{bad}: names the key:\n{said}"
        );
        assert!(
            !said.contains("hunter2"),
            "{bad}: repeats the password:\n{said}"
        );
    }
    let done = Otsd::bare(tmp.path())
        .env(
            "OTSD_DATABASE_URL",
            "postgres://otsd@db1:5432,db2:5432/otsd?target_session_attrs=read-write",
        )
        .arg("check")
        .run();
    assert!(
        done.status.success(),
        "a multi-host URL passes: {}",
        done.stderr
    );
}

#[tokio::test]
async fn two_nodes_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let cluster = Cluster::shared();
    let db = cluster.create_database();
    let url = cluster.url(&db);
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (node(tmp.path(), "a", &url), node(tmp.path(), "b", &url));
    let (a, b) = std::thread::scope(|s| {
        let first = s.spawn(|| a.start());
        let second = s.spawn(|| b.start());
        (first.join().unwrap(), second.join().unwrap())
    });
    let meta = a.share(&[("secret", "made on a")]).await;
    assert_eq!(
        b.reveal_value(text(&meta, "secret_key"), None).await,
        "made on a"
    );
    let newest = otsd::store::SCHEMA_VERSION;
    let (a_log, b_log) = (a.stop().stderr, b.stop().stderr);
    let migrated = |log: &str| log.contains(&format!("schema migrated to version {newest}"));
    assert!(
        migrated(&a_log) != migrated(&b_log),
        "one node migrated, the other waited:\n{a_log}\n{b_log}"
    );
    assert_eq!(
        cluster.psql(&db, "SELECT count(*), max(version) FROM otsd_schema"),
        format!("1|{newest}")
    );

    cluster.psql(&db, "UPDATE otsd_schema SET version = 99");
    let refused = node(tmp.path(), "c", &url).run();
    assert!(!refused.status.success());
    assert!(
        refused.stderr.contains("schema version 99")
            && refused.stderr.contains(&format!("otsd's {newest}")),
        "names both versions:\n{}",
        refused.stderr
    );
}

/// A CA and a server certificate for 127.0.0.1 (and `localhost`), made with
/// openssl in `dir`: `(ca.pem, server.crt, server.key)`.
fn certificates(
    dir: &Path,
    name: &str,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let at = |f: &str| dir.join(format!("{name}-{f}"));
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (ca_key, ca, key, csr, crt, ext) = (
        at("ca.key"),
        at("ca.pem"),
        at("server.key"),
        at("server.csr"),
        at("server.crt"),
        at("ext.cnf"),
    );
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &format!("/CN={name} test CA"),
        "-keyout",
        &s(&ca_key),
        "-out",
        &s(&ca),
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &s(&key),
        "-out",
        &s(&csr),
    ]);
    std::fs::write(&ext, "subjectAltName = IP:127.0.0.1, DNS:localhost\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &s(&csr),
        "-CA",
        &s(&ca),
        "-CAkey",
        &s(&ca_key),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &s(&ext),
        "-out",
        &s(&crt),
    ]);
    (ca, crt, key)
}

#[tokio::test]
async fn tls_require_encrypts_and_verify_full_checks_the_certificate() {
    use std::os::unix::fs::MetadataExt;
    let cluster = Cluster::start();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (ca, crt, key) = certificates(tmp.path(), "good");
    let (other_ca, _, _) = certificates(tmp.path(), "other");
    let data = cluster.data_dir();
    let owner = std::fs::metadata(&data).unwrap();
    for (from, to) in [(&crt, "server.crt"), (&key, "server.key")] {
        let target = data.join(to);
        std::fs::copy(from, &target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&target, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
    let conf = data.join("postgresql.conf");
    let mut settings = std::fs::read_to_string(&conf).unwrap();
    settings.push_str("\nssl = on\n");
    std::fs::write(&conf, settings).unwrap();
    cluster.restart();
    let db = cluster.create_database();
    let url = cluster.url(&db);
    let encrypted = || {
        cluster.psql(
            &db,
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.usename = 'otsd'",
        )
    };

    let server = node(tmp.path(), "require", &format!("{url}?sslmode=require")).start();
    let meta = server.share(&[("secret", "over TLS")]).await;
    assert_eq!(encrypted(), "t", "the node's connections are encrypted");
    server.stop();

    let checked = format!("{url}?sslmode=verify-full&sslrootcert={}", ca.display());
    let server = node(tmp.path(), "verified", &checked).start();
    assert_eq!(
        server.reveal_value(text(&meta, "secret_key"), None).await,
        "over TLS"
    );
    assert_eq!(encrypted(), "t");
    server.stop();

    // A certificate from another authority is refused, at once.
    let wrong = format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        other_ca.display()
    );
    let refused = node(tmp.path(), "wrong-ca", &wrong).run();
    assert!(!refused.status.success(), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("certificate") || refused.stderr.contains("TLS"),
        "says why:\n{}",
        refused.stderr
    );
    assert!(refused.elapsed < std::time::Duration::from_secs(20));
}
