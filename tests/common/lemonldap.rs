//! A second real OpenID provider on loopback, for the README's LemonLDAP::NG
//! recipe: Debian's LemonLDAP::NG portal (`liblemonldap-ng-portal-perl`, which
//! `lemonldap-ng` pulls in), with its built-in "Demo" users and the OpenID
//! Connect issuer on, run by `tests/lemonldap/serve.pl`.
//!
//! - The configuration is the recipe's, in LemonLDAP::NG's own file format (an
//!   `lmConf-1.json` in a File configuration backend, found through a
//!   `lemonldap-ng.ini` in a temp dir); [`configuration`] names each setting
//!   as the Manager shows it. The signing key is made fresh for each run.
//! - The portal listens on `127.0.0.1` only, plain HTTP; its issuer is
//!   `http://127.0.0.1:<port>`. Sessions and caches live in the temp dir, so it
//!   runs as any user and touches nothing of a system installation.
//! - Every wait is bounded. Its process group is killed when the [`Portal`] is
//!   dropped, and it exits by itself once the test process is gone however it
//!   ended: its stdin is a pipe whose other end only this handle holds.
//!
//! Not re-exported from the kit: used as `lemonldap::Portal` and so on.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::app::spawning;
use super::oidc::Output;
use super::ports::free_port;

/// How long the portal may take to print `READY` (Perl loading LemonLDAP::NG
/// and making an RSA key on a busy machine).
pub const START_LIMIT: Duration = Duration::from_secs(30);
const EXIT_LIMIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(20);
/// A file the portal package installs: present means installed.
const PORTAL_MODULE: &str = "/usr/share/perl5/Lemonldap/NG/Portal/Main.pm";
const HINT: &str = "the LemonLDAP::NG recipe's test runs Debian's LemonLDAP::NG portal \
    on loopback (apt-get install liblemonldap-ng-portal-perl, which lemonldap-ng pulls in; \
    see .ci/run)";

/// One of the Demo authentication backend's built-in people (LemonLDAP::NG's
/// `Lemonldap::NG::Portal::UserDB::Demo`): the login is the password too.
#[derive(Clone, Copy, Debug)]
pub struct DemoUser {
    pub login: &'static str,
    pub password: &'static str,
    pub email: &'static str,
    pub groups: &'static [&'static str],
}

/// Doctor Who: a time lord.
pub const DWHO: DemoUser = DemoUser {
    login: "dwho",
    password: "dwho",
    email: "dwho@badwolf.org",
    groups: &["timelords", "users"],
};

/// Rose Tyler: an earthling, same mail domain.
pub const RTYLER: DemoUser = DemoUser {
    login: "rtyler",
    password: "rtyler",
    email: "rtyler@badwolf.org",
    groups: &["earthlings", "users"],
};

/// The relying party registered at the portal (otsd).
#[derive(Clone, Debug)]
pub struct RelyingParty {
    pub client_id: String,
    pub client_secret: String,
    /// `<base_url>/auth/oidc/callback`: the only redirect it accepts.
    pub redirect_uri: String,
}

/// A running portal; killed (with its whole process group) when dropped.
pub struct Portal {
    child: Child,
    /// Held only so that it closes (and the portal exits) with this handle.
    _stdin: Option<ChildStdin>,
    issuer: String,
    stderr: Output,
    /// The ini, the configuration and the sessions live here.
    _dir: tempfile::TempDir,
}

impl Portal {
    /// Starts a portal with `rp` registered and waits (at most
    /// [`START_LIMIT`]) until it listens. Panics with its log if it does not,
    /// or with a hint when LemonLDAP::NG is not installed.
    pub fn start(rp: &RelyingParty) -> Self {
        assert!(
            Path::new(PORTAL_MODULE).is_file(),
            "{PORTAL_MODULE} is missing; {HINT}"
        );
        let port = free_port();
        let issuer = format!("http://127.0.0.1:{port}");
        let dir = tempfile::tempdir().expect("temp dir");
        write_configuration(dir.path(), &issuer, rp);

        let mut cmd = Command::new("perl");
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .arg(script())
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = {
            let _spawning = spawning();
            cmd.spawn()
                .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; {HINT}"))
        };
        let stdin = child.stdin.take();
        let stdout = Output::read_from(child.stdout.take().expect("stdout"));
        let stderr = Output::read_from(child.stderr.take().expect("stderr"));
        let mut portal = Self {
            child,
            _stdin: stdin,
            issuer,
            stderr,
            _dir: dir,
        };
        let ready = format!("READY {}\n", portal.issuer);
        let deadline = Instant::now() + START_LIMIT;
        loop {
            let out = stdout.text();
            if out.contains(&ready) {
                return portal;
            }
            if let Ok(Some(status)) = portal.child.try_wait() {
                portal.stderr.wait_closed(Duration::from_secs(2));
                panic!(
                    "the LemonLDAP::NG portal exited ({status}) instead of starting; {HINT}; stderr:\n{}",
                    portal.log()
                );
            }
            if Instant::now() >= deadline {
                portal.kill();
                panic!(
                    "the LemonLDAP::NG portal did not print READY within {START_LIMIT:?}; stdout:\n{out}\nstderr:\n{}",
                    portal.log()
                );
            }
            stdout.wait_past(out.len(), POLL);
        }
    }

    /// `http://127.0.0.1:<port>`: the portal's URL and its issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// What the portal has logged so far (its warnings and errors, such as
    /// "Wrong credentials for otsd").
    pub fn log(&self) -> String {
        self.stderr.text()
    }

    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let group = rustix::process::Pid::from_child(&self.child);
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let deadline = Instant::now() + EXIT_LIMIT;
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `tests/lemonldap/serve.pl` in this checkout.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lemonldap/serve.pl")
}

/// Writes `lemonldap-ng.ini` and `conf/lmConf-1.json` into `dir`, with the
/// directories the portal keeps its sessions and caches in.
fn write_configuration(dir: &Path, issuer: &str, rp: &RelyingParty) {
    for sub in [
        "conf",
        "sessions/lock",
        "psessions/lock",
        "cache",
        "notifications",
    ] {
        std::fs::create_dir_all(dir.join(sub)).expect("the portal's directories");
    }
    let ini = format!(
        "[all]\nlogLevel = warn\n\n\
         [configuration]\ntype = File\ndirName = {conf}\n\n\
         [portal]\nstaticPrefix = /static\n\
         templateDir = /usr/share/lemonldap-ng/portal/templates\nlanguages = en\n",
        conf = dir.join("conf").display()
    );
    std::fs::write(dir.join("lemonldap-ng.ini"), ini).expect("write lemonldap-ng.ini");
    let conf = configuration(dir, issuer, rp);
    std::fs::write(
        dir.join("conf/lmConf-1.json"),
        serde_json::to_string_pretty(&conf).expect("JSON"),
    )
    .expect("write lmConf-1.json");
}

/// The portal's configuration: the README recipe's settings (named here as
/// the Manager shows them), and what a portal outside `/var/lib` needs.
/// `serve.pl` adds the signing keys.
pub fn configuration(dir: &Path, issuer: &str, rp: &RelyingParty) -> Value {
    let at = |sub: &str| dir.join(sub).display().to_string();
    let file_storage = |sub: &str| {
        json!({
            "Directory": at(sub),
            "LockDirectory": at(&format!("{sub}/lock")),
        })
    };
    json!({
        "cfgNum": 1,
        "cfgAuthor": "otsd tests",
        "cfgDate": "1700000000",
        "cfgVersion": "2.16.1",
        // The Demo backend: its built-in people, their `mail`, `cn` and groups.
        "authentication": "Demo",
        "userDB": "Same",
        "passwordDB": "Demo",
        "demoExportedVars": {"cn": "cn", "mail": "mail", "uid": "uid"},
        "exportedVars": {},
        "portal": format!("{issuer}/"),
        "domain": "127.0.0.1",
        "cookieName": "lemonldap",
        "securedCookie": 0,
        // Where sessions and caches go (the defaults are under /var).
        "globalStorage": "Apache::Session::File",
        "globalStorageOptions": file_storage("sessions"),
        "persistentStorage": "Apache::Session::File",
        "persistentStorageOptions": file_storage("psessions"),
        "localSessionStorage": "Cache::FileCache",
        "localSessionStorageOptions": {
            "cache_root": at("cache"),
            "cache_depth": 3,
            "default_expires_in": 600,
            "directory_umask": "007",
            "namespace": "lemonldap-ng-sessions",
        },
        "notificationStorage": "File",
        "notificationStorageOptions": {"dirName": at("notifications")},
        // No protected applications (the defaults' `default: deny` rule
        // belongs to a handler this portal does not run).
        "locationRules": {},
        "exportedHeaders": {},
        "macros": {},
        "groups": {},

        // The recipe. General Parameters → Issuer modules → OpenID Connect →
        // Activation: On.
        "issuerDBOpenIDConnectActivation": 1,
        // OpenID Connect Service → Issuer identifier.
        "oidcServiceMetaDataIssuer": issuer,
        // OpenID Connect Service → Security → Keys → Signing key ID (the keys
        // themselves: serve.pl).
        "oidcServiceKeyIdSig": "otsd-test",
        // OpenID Connect Relying Parties → otsd.
        "oidcRPMetaDataOptions": {"otsd": {
            // Options → Basic.
            "oidcRPMetaDataOptionsClientID": rp.client_id,
            "oidcRPMetaDataOptionsClientSecret": rp.client_secret,
            "oidcRPMetaDataOptionsRedirectUris": rp.redirect_uri,
            // Options → Advanced.
            "oidcRPMetaDataOptionsBypassConsent": 1,
            "oidcRPMetaDataOptionsIDTokenForceClaims": 1,
            "oidcRPMetaDataOptionsUserIDAttr": "uid",
            // Options → Security.
            "oidcRPMetaDataOptionsIDTokenSignAlg": "RS256",
            "oidcRPMetaDataOptionsRequirePKCE": 1,
        }},
        // Exported attributes (claims): claim → variable;type;array.
        "oidcRPMetaDataExportedVars": {"otsd": {
            "email": "mail",
            "email_verified": "email_verified;bool",
            "name": "cn",
            "preferred_username": "uid",
            "groups": "groups;string;always",
        }},
        // Macros: the directory's addresses are the organisation's own.
        "oidcRPMetaDataMacros": {"otsd": {"email_verified": "1"}},
        // Options → Scopes → Scope values content: the `groups` scope.
        "oidcRPMetaDataOptionsExtraClaims": {"otsd": {"groups": "groups"}},
    })
}
