//! The state every HTTP handler shares, and the request rules API and web pages
//! have in common (limits by caller, rate limits, validation of new secrets).

use super::{ApiError, Caller, Params};
use crate::accounts::Accounts;
use crate::domain::{CallerLimits, Passphrase, SecretValue, Ttl};
use crate::mail::{Invitation, Mailer, obfuscate, parse_address};
use crate::ratelimit::{Action, IpNet, RateLimiter, Subject};
use crate::vault::{NewSecret, Receipt, Vault, VaultError, unix_now};
use lettre::Address;

/// A validated request to create a secret, with whom to email its link.
#[derive(Debug)]
pub struct Creation {
    pub secret: NewSecret,
    pub recipient: Option<Address>,
}

/// Everything the HTTP handlers (API and web pages) share.
pub struct AppState {
    pub vault: Vault,
    pub accounts: Accounts,
    pub limiter: RateLimiter,
    /// Accounts skip the create, reveal and metadata limits.
    pub exempt_accounts: bool,
    pub trusted_proxies: Vec<IpNet>,
    /// `false`: only accounts may create secrets.
    pub anonymous_create: bool,
    pub anonymous: CallerLimits,
    pub authenticated: CallerLimits,
    /// The SMTP relay; `None` when email is not configured.
    pub mailer: Option<Mailer>,
    /// Expiry choices (seconds) offered by the web form.
    pub ttl_choices: Vec<u64>,
    /// Scheme and host (and optional path prefix) of every link, without a trailing
    /// slash. Never taken from the request's `Host` header.
    pub base_url: String,
    /// Custom domains an account may pass as `share_domain`.
    pub share_domains: Vec<String>,
}

impl AppState {
    /// The limits that apply to `caller`.
    pub fn limits(&self, caller: &Caller) -> &CallerLimits {
        if caller.is_anonymous() {
            &self.anonymous
        } else {
            &self.authenticated
        }
    }

    /// Counts one `action` for the caller (its address, and its account), or
    /// refuses the request without counting when a limit is reached. Email is
    /// counted per account only: accounts behind one address (a proxy, a NAT)
    /// each have their own allowance, and anonymous callers cannot send any.
    pub fn rate_limit(&self, action: Action, caller: &Caller) -> Result<(), ApiError> {
        if self.exempt_accounts && !caller.is_anonymous() && action != Action::Email {
            return Ok(());
        }
        let mut subjects = Vec::with_capacity(2);
        if action != Action::Email {
            subjects.push(Subject::Ip(caller.ip));
        }
        if let Some(account) = &caller.account {
            subjects.push(Subject::Account(account.as_str().to_owned()));
        }
        self.limiter
            .hit(action, &subjects, unix_now())
            .map_err(|_| ApiError::RateLimited)
    }

    /// Runs a passphrase attempt on the secret or receipt named `key`, unless this
    /// address has used up its failed attempts on it (then `Err(RateLimited)`);
    /// counts the attempt when the passphrase was wrong. The inner result is the
    /// attempt's own, so the web pages can tell a wrong passphrase apart.
    pub async fn passphrase_attempt<T>(
        &self,
        caller: &Caller,
        key: &str,
        attempt: impl Future<Output = Result<T, VaultError>>,
    ) -> Result<Result<T, VaultError>, ApiError> {
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        let mut id = [0u8; 32];
        id.copy_from_slice(digest.as_ref());
        let subject = [Subject::SecretFromIp(id, caller.ip)];
        let now = unix_now();
        // Counted before the attempt (and given back unless it failed), so that
        // concurrent guesses cannot all pass the limit before any is counted.
        self.limiter
            .hit(Action::FailedPassphrase, &subject, now)
            .map_err(|_| ApiError::RateLimited)?;
        let result = attempt.await;
        if !matches!(
            result,
            Err(VaultError::WrongPassphrase { .. } | VaultError::IncorrectPassphrase)
        ) {
            self.limiter
                .release(Action::FailedPassphrase, &subject, now);
        }
        Ok(result)
    }

    /// `scheme://host` of the server's own links (the base URL without its path).
    pub fn origin(&self) -> &str {
        let after_scheme = self.base_url.find("://").map_or(0, |i| i + 3);
        let end = self.base_url[after_scheme..]
            .find('/')
            .map_or(self.base_url.len(), |i| after_scheme + i);
        &self.base_url[..end]
    }

    /// The host of the server's own links.
    pub fn own_host(&self) -> &str {
        let origin = self.origin();
        origin.find("://").map_or(origin, |i| &origin[i + 3..])
    }

    /// Closed instances refuse anonymous creators; everyone is rate limited.
    pub fn may_create(&self, caller: &Caller) -> Result<(), ApiError> {
        if caller.is_anonymous() && !self.anonymous_create {
            return Err(ApiError::AccountRequiredToCreate);
        }
        self.rate_limit(Action::Create, caller)
    }

    /// The parameters share and generate have in common, checked against the caller's
    /// limits. Nothing is stored unless all of them are valid.
    pub fn new_secret(
        &self,
        caller: &Caller,
        params: &mut Params,
        value: SecretValue,
    ) -> Result<Creation, ApiError> {
        let limits = self.limits(caller);
        let ttl = Ttl::parse(params.get("ttl"), &limits.ttl)?;
        let passphrase = Passphrase::for_new_secret(params.take("passphrase"), &limits.passphrase)?;
        let share_domain = self.share_domain(caller, params.get("share_domain"))?;
        let recipient = self.recipient(caller, params)?;
        Ok(Creation {
            secret: NewSecret {
                custid: caller.custid().to_owned(),
                value,
                passphrase,
                ttl,
                share_domain,
                recipients: recipient.iter().map(obfuscate).collect(),
            },
            recipient,
        })
    }

    /// The first `recipient` (or `recipient[]`): accounts only, a valid address,
    /// SMTP configured, and within the account's email rate limit.
    fn recipient(&self, caller: &Caller, params: &Params) -> Result<Option<Address>, ApiError> {
        let Some(raw) = params
            .all(&["recipient", "recipient[]"])
            .find(|r| !r.trim().is_empty())
        else {
            return Ok(None);
        };
        if caller.is_anonymous() {
            return Err(ApiError::AccountRequiredForEmail);
        }
        if self.mailer.is_none() {
            return Err(ApiError::EmailNotConfigured);
        }
        let address = parse_address(raw)
            .ok_or_else(|| ApiError::UndeliverableEmail(raw.trim().to_owned()))?;
        self.rate_limit(Action::Email, caller)?;
        Ok(Some(address))
    }

    /// Stores a new secret and, when it has a recipient, emails them the link.
    /// Either both happen or neither: if the email cannot be sent (within the SMTP
    /// timeout), the secret is discarded before the error is returned.
    pub async fn create(&self, creation: Creation) -> Result<Receipt, ApiError> {
        let Creation { secret, recipient } = creation;
        let sender = secret.custid.clone();
        let receipt = self.vault.create(secret).await?;
        let (Some(to), Some(mailer)) = (recipient, &self.mailer) else {
            return Ok(receipt);
        };
        let key = receipt.secret_key.as_ref().ok_or(ApiError::Internal)?;
        let link = self.secret_link(&receipt.share_domain, key.expose());
        let invitation = Invitation {
            sender: &sender,
            link: &link,
            expires_in: receipt.ttl,
            passphrase_required: receipt.passphrase_required,
        };
        match mailer.send(&to, &invitation).await {
            Ok(()) => {
                log::info!("emailed a new secret's link to its recipient");
                Ok(receipt)
            }
            Err(err) => {
                log::warn!("emailing a recipient failed ({err}); the new secret was discarded");
                self.vault.discard(&receipt.metadata_key).await?;
                Err(ApiError::EmailFailed)
            }
        }
    }

    /// The `share_domain` parameter: empty or the server's own host means none; an
    /// account may name a domain from the allow-list; anything else is refused.
    fn share_domain(&self, caller: &Caller, raw: Option<&str>) -> Result<String, ApiError> {
        let domain = raw.map(str::trim).unwrap_or_default().to_ascii_lowercase();
        if domain.is_empty() || domain == self.own_host().to_ascii_lowercase() {
            return Ok(String::new());
        }
        if !caller.is_anonymous()
            && self
                .share_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&domain))
        {
            return Ok(domain);
        }
        Err(ApiError::UnknownDomain(domain))
    }

    /// The link that reveals a secret: on its custom share domain, or under the
    /// configured base URL. Never built from the request's `Host` header.
    pub fn secret_link(&self, share_domain: &str, key: &str) -> String {
        if share_domain.is_empty() {
            format!("{}/secret/{key}", self.base_url)
        } else {
            format!("https://{share_domain}/secret/{key}")
        }
    }
}
