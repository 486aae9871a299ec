//! From `database_url` to a pool: the libpq URL forms, the password from a
//! file, TLS with rustls, and messages that never show the password.
//!
//! tokio-postgres reads libpq's URLs and key-value strings, several hosts
//! included (`postgres://u@a:5432,b:5432/otsd?target_session_attrs=read-write`
//! tries each in turn and keeps the first that takes writes, so a node finds a
//! promoted standby without a config change). It knows `sslmode` `disable`,
//! `prefer` and `require` only; `verify-ca` and `verify-full`, and
//! `sslrootcert`, are taken out of the string here and done with rustls.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::super::StoreError;

/// How to reach PostgreSQL: plain data from the settings.
#[derive(Clone)]
pub struct PostgresOptions {
    /// A libpq URL (`postgres://…`, `postgresql://…`) or key-value string.
    pub url: String,
    /// The password, when it is not in the URL (`database_password_file`).
    pub password: Option<zeroize::Zeroizing<String>>,
    /// Connections this node keeps at most.
    pub pool_size: usize,
    /// How long a start waits for the database to answer before giving up.
    pub connect_wait: Duration,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &redact(&self.url))
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

/// How strictly the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verify {
    /// `disable`, `prefer`, `require` (libpq's meaning: encrypted when asked
    /// for, the certificate not checked).
    Nothing,
    /// `verify-ca`: signed by a trusted authority.
    Authority,
    /// `verify-full`: that, and issued for the host connected to.
    Full,
}

/// Whether `url` is one `database_url` may hold (a PostgreSQL URL or a
/// key-value string that tokio-postgres reads). The message never repeats the
/// string, which may hold a password.
pub fn check_url(url: &str) -> Result<(), String> {
    parse(url).map(|_| ())
}

/// The URL with its password replaced by `***`, for logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // A key-value string: drop any `password=…` pair.
        return url
            .split_whitespace()
            .map(|pair| {
                if pair.starts_with("password=") {
                    "password=***"
                } else {
                    pair
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((user, hosts)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{hosts}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=***".to_owned(),
                    _ => pair.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("&");
            format!("{path}?{query}")
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The tokio-postgres config, the certificate check asked for and any
/// `sslrootcert`.
fn parse(url: &str) -> Result<(tokio_postgres::Config, Verify, Option<String>), String> {
    let is_url = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let mut verify = Verify::Nothing;
    let mut root = None;
    let mut kept = String::with_capacity(url.len());
    if is_url {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        kept.push_str(base);
        let mut first = true;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (key, value) {
                ("sslmode", "verify-ca") => verify = Verify::Authority,
                ("sslmode", "verify-full") => verify = Verify::Full,
                ("sslrootcert", path) => root = Some(decode(path)),
                _ => {
                    kept.push(if first { '?' } else { '&' });
                    kept.push_str(pair);
                    first = false;
                    continue;
                }
            }
            // A verify mode is `require` to tokio-postgres; rustls checks.
            if key == "sslmode" {
                kept.push(if first { '?' } else { '&' });
                kept.push_str("sslmode=require");
                first = false;
            }
        }
    } else if url.contains('=') {
        for pair in url.split_whitespace() {
            match pair.split_once('=') {
                Some(("sslmode", "verify-ca")) => {
                    verify = Verify::Authority;
                    kept.push_str(" sslmode=require");
                }
                Some(("sslmode", "verify-full")) => {
                    verify = Verify::Full;
                    kept.push_str(" sslmode=require");
                }
                Some(("sslrootcert", path)) => root = Some(path.to_owned()),
                _ => {
                    kept.push(' ');
                    kept.push_str(pair);
                }
            }
        }
    } else {
        return Err("it is neither a postgres:// (or postgresql://) URL nor a \
                    key-value connection string"
            .into());
    }
    let config: tokio_postgres::Config =
        kept.trim().parse().map_err(|e: tokio_postgres::Error| {
            // tokio-postgres names the part it could not read, never a value.
            format!("it is not a connection string PostgreSQL reads ({e})")
        })?;
    if config.get_hosts().is_empty() {
        return Err("it names no host".into());
    }
    if config.get_dbname().is_none() {
        return Err("it names no database".into());
    }
    Ok((config, verify, root))
}

/// `%2F` and friends in a URL's query value.
fn decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8_lossy()
        .into_owned()
}

/// A pool of connections for `options` (none is opened yet). Connections are
/// checked before reuse, so one that a database restart closed is replaced
/// rather than handed out; waits for a connection are bounded.
pub(super) fn pool(options: &PostgresOptions) -> Result<Pool, StoreError> {
    let (mut config, verify, root) = parse(&options.url).map_err(StoreError::Schema)?;
    if let Some(password) = &options.password {
        config.password(password.as_bytes());
    }
    // Each host of a multi-host URL gets its own connect timeout, tried in
    // turn: a pool's wait for a new connection must outlast them all, or a
    // primary that silently drops packets would use it up before the
    // promoted standby behind it is tried.
    let per_host = Duration::from_secs(3);
    config.connect_timeout(per_host);
    config.keepalives_idle(Duration::from_secs(30));
    config.application_name("otsd");
    let hosts = u32::try_from(config.get_hosts().len()).unwrap_or(u32::MAX);
    let tls = MakeRustlsConnect::new(tls_config(verify, root.as_deref())?);
    let manager = Manager::from_config(
        config,
        tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Verified,
        },
    );
    let limit = Some(Duration::from_secs(5));
    let create = per_host.saturating_mul(hosts.max(1)) + Duration::from_secs(2);
    Pool::builder(manager)
        .max_size(options.pool_size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(create.max(Duration::from_secs(5))))
        .create_timeout(Some(create))
        .recycle_timeout(limit)
        .build()
        .map_err(|e| StoreError::Schema(format!("cannot make a connection pool: {e}")))
}

fn tls_config(verify: Verify, root: Option<&str>) -> Result<rustls::ClientConfig, StoreError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Schema(format!("TLS: {e}")))?;
    if verify == Verify::Nothing {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    match root {
        Some(path) => {
            use rustls::pki_types::pem::PemObject;
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| StoreError::Schema(format!("cannot read sslrootcert {path}: {e}")))?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    StoreError::Schema(format!("cannot read sslrootcert {path}: {e}"))
                })?;
                roots.add(cert).map_err(|e| {
                    StoreError::Schema(format!("sslrootcert {path} holds a bad certificate: {e}"))
                })?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let roots = Arc::new(roots);
    let checked = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
        .build()
        .map_err(|e| StoreError::Schema(format!("TLS: {e}")))?;
    let builder = builder.dangerous();
    Ok(match verify {
        Verify::Full => builder.with_custom_certificate_verifier(checked),
        _ => builder.with_custom_certificate_verifier(Arc::new(AnyName(checked))),
    }
    .with_no_client_auth())
}

/// `require`: the channel is encrypted and its handshake signed, but whose
/// certificate it is is not checked (libpq's meaning of the mode).
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted authority; the name in the
/// certificate is not compared with the host.
#[derive(Debug)]
struct AnyName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_reaches_a_log_line() {
        assert_eq!(
            redact("postgres://otsd:s3cret@db1:5432,db2:5432/otsd?target_session_attrs=read-write"),
            "postgres://otsd:***@db1:5432,db2:5432/otsd?target_session_attrs=read-write"
        );
        assert_eq!(
            redact("postgresql://otsd@db/otsd?password=s3cret&sslmode=require"),
            "postgresql://otsd@db/otsd?password=***&sslmode=require"
        );
        assert_eq!(
            redact("host=db user=otsd password=s3cret dbname=otsd"),
            "host=db user=otsd password=*** dbname=otsd"
        );
    }

    #[test]
    fn the_libpq_forms_are_read_and_verify_modes_are_kept_for_rustls() {
        let (config, verify, root) = parse(
            "postgres://otsd:pw@127.0.0.1:5432,127.0.0.1:5433/otsd?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(config.get_hosts().len(), 2);
        assert_eq!(config.get_ports(), [5432, 5433]);
        assert_eq!(
            config.get_target_session_attrs(),
            tokio_postgres::config::TargetSessionAttrs::ReadWrite
        );
        assert_eq!(
            config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        assert_eq!(
            (verify, root.as_deref()),
            (Verify::Full, Some("/etc/ca.pem"))
        );
        let (_, verify, _) = parse("host=db dbname=otsd sslmode=verify-ca").unwrap();
        assert_eq!(verify, Verify::Authority);
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        for bad in [
            "mysql://u:hunter2@db/otsd",
            "postgres://u:hunter2@db/otsd?nonsense=hunter2",
            "postgres://u:hunter2@/otsd",
        ] {
            let err = check_url(bad).unwrap_err();
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
