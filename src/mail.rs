//! Telling a recipient about a secret by email.
//!
//! The message carries the link and who sent it — never the secret, never the
//! passphrase. Receipts keep only an obfuscated address (`de*****@e*****.com`),
//! and no address is ever logged.
//!
//! TLS is rustls on ring (the crypto otsd already uses, no OpenSSL), trusting the
//! system's CA store so a homelab relay with a local CA works.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// The `[smtp]` settings: the relay for `recipient`. An empty `host` disables
/// email. They live here, beside the one thing that reads them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// Empty: no authentication.
    pub username: String,
    pub password: Redacted,
    /// A file holding the password (overrides `password`).
    pub password_file: PathBuf,
    pub from: String,
    /// Bound on connecting and sending; a slow relay fails the request after it.
    pub timeout_secs: u64,
}

impl Default for SmtpSettings {
    /// Email off (no host); STARTTLS on 587 once a host is set.
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: String::new(),
            password: Redacted::default(),
            password_file: PathBuf::new(),
            from: "otsd <otsd@localhost>".into(),
            timeout_secs: 10,
        }
    }
}

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (usually port 587).
    Starttls,
    /// Implicit TLS (usually port 465).
    Tls,
    /// No TLS at all: only for a relay on the same machine.
    #[serde(rename = "none")]
    Plaintext,
}

/// A configured secret string (the SMTP password): `Debug` redacts it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted(pub String);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why the configured relay cannot be used; each names its setting.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("`smtp.host` cannot be used for TLS")]
    Host(#[source] lettre::transport::smtp::Error),
    #[error("`smtp.password_file` {path} cannot be read")]
    PasswordFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`smtp.from` is not an address")]
    From(#[source] lettre::address::AddressError),
}

/// A configured SMTP relay.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

/// Why a message was not sent. Carries no address.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the SMTP server did not answer in time")]
    Timeout,
    #[error("the SMTP server refused the message ({0})")]
    Refused(&'static str),
    #[error("the SMTP server could not be reached")]
    Unreachable,
    #[error("the message could not be built")]
    Build,
}

/// What the message says.
pub struct Invitation<'a> {
    pub sender: &'a str,
    pub link: &'a str,
    pub expires_in: u64,
    pub passphrase_required: bool,
}

impl Mailer {
    /// The relay the settings name, or `None` when no SMTP host is configured
    /// (email disabled). Built once, when the server starts.
    pub fn new(smtp: &SmtpSettings) -> Result<Option<Self>, MailConfigError> {
        type Transport = AsyncSmtpTransport<Tokio1Executor>;
        if smtp.host.is_empty() {
            return Ok(None);
        }
        let builder = match smtp.security {
            SmtpSecurity::Plaintext => Transport::builder_dangerous(&smtp.host),
            SmtpSecurity::Starttls => {
                Transport::starttls_relay(&smtp.host).map_err(MailConfigError::Host)?
            }
            SmtpSecurity::Tls => Transport::relay(&smtp.host).map_err(MailConfigError::Host)?,
        };
        let timeout = Duration::from_secs(smtp.timeout_secs.max(1));
        let mut builder = builder.port(smtp.port).timeout(Some(timeout));
        let password = if smtp.password_file.as_os_str().is_empty() {
            smtp.password.0.clone()
        } else {
            let text = Zeroizing::new(std::fs::read_to_string(&smtp.password_file).map_err(
                |source| MailConfigError::PasswordFile {
                    path: smtp.password_file.clone(),
                    source,
                },
            )?);
            text.trim_end().to_owned()
        };
        if !smtp.username.is_empty() {
            builder = builder.credentials(Credentials::new(smtp.username.clone(), password));
        }
        let from = smtp
            .from
            .parse::<Mailbox>()
            .map_err(MailConfigError::From)?;
        Ok(Some(Self {
            transport: builder.build(),
            from,
            timeout,
        }))
    }

    /// Sends one plain, friendly message with the link. Bounded by the configured
    /// timeout however the SMTP server behaves.
    pub async fn send(&self, to: &Address, invitation: &Invitation<'_>) -> Result<(), MailError> {
        let passphrase = if invitation.passphrase_required {
            "\nYou will also need a passphrase, which the sender will give you another way.\n"
        } else {
            ""
        };
        let body = format!(
            "Hello,\n\n{sender} has sent you a secret. It can be viewed only once, at this link:\n\n\
             {link}\n{passphrase}\nThe link stops working after it is opened and the secret \
             revealed, or in {expires}, whichever comes first.\n\n\
             If you were not expecting this, you can ignore this message.\n",
            sender = invitation.sender,
            link = invitation.link,
            expires = crate::format::duration(invitation.expires_in),
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to.clone()))
            .subject(format!("{} sent you a secret", invitation.sender))
            // Generated from a random id and the host name: mail without one scores as spam.
            .message_id(None)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|_| MailError::Build)?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_) => Err(MailError::Timeout),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_timeout() => Err(MailError::Timeout),
            Ok(Err(e)) if e.is_permanent() => Err(MailError::Refused("permanent")),
            Ok(Err(e)) if e.is_transient() => Err(MailError::Refused("transient")),
            Ok(Err(_)) => Err(MailError::Unreachable),
        }
    }
}

/// A recipient address, if it is one.
pub fn parse_address(raw: &str) -> Option<Address> {
    raw.trim().parse::<Address>().ok()
}

/// `de*****@e*****.com`: enough for the creator to recognise, too little to use.
pub fn obfuscate(address: &Address) -> String {
    let prefix = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let domain = address.domain();
    let tld = domain.rsplit_once('.').map_or("", |(_, tld)| tld);
    let tld = if tld.is_empty() {
        String::new()
    } else {
        format!(".{tld}")
    };
    format!(
        "{}*****@{}*****{tld}",
        prefix(address.user(), 2),
        prefix(domain, 1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_obfuscated_like_onetime_secret_does() {
        let a = parse_address("delano@example.com").unwrap();
        assert_eq!(obfuscate(&a), "de*****@e*****.com");
        let b = parse_address("x@mail.example.org").unwrap();
        assert_eq!(obfuscate(&b), "x*****@m*****.org");
        assert!(parse_address("not an address").is_none());
        assert!(parse_address("a@").is_none());
    }
}
