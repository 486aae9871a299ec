//! The service both faces call: the rules the v1 API and the web pages share.
//!
//! A handler parses what it was sent (a [`Caller`], a key, a [`Share`] or
//! [`Generate`] request) and calls one operation here; the operation applies
//! every rule in one place — who may create, rate limits, caller limits, share
//! domains, recipients, email-then-rollback, failed-passphrase counting — and
//! returns one typed outcome: the result, or the one [`Error`] each face renders
//! its own way. Underneath, the [`Vault`] keeps the secret lifecycle and its
//! durability.

use lettre::Address;
use zeroize::Zeroizing;

use crate::accounts::{AccountName, Accounts};
use crate::clock::unix_now;
use crate::domain::{
    ANONYMOUS, CallerLimits, CharacterSets, GeneratedLength, Memo, Note, Passphrase, PrivateKey,
    ReceiptKey, RequestKey, SecretKey, SecretValue, ShareDomain, Ttl, generate_password,
    generate_with,
};
use crate::error::Error;
use crate::mail::{Invitation, Mailer, obfuscate, parse_address};
use crate::oidc::{Oidc, Pending};
use crate::ratelimit::{Action, RateLimiter, Subject};
use crate::sessions::{Sessions, Started};
use crate::telemetry::Metrics;
use crate::vault::{
    Asked, Kind, Look, NewRequest, NewSecret, OpenRequest, PrivateView, Receipt, Revealed,
    SecretFacts, Vault,
};

/// How many receipts `recent` lists at most.
const RECENT_LIMIT: usize = 500;

/// How many keys one status request may ask about (v2 bulk status).
pub const MAX_STATUS_KEYS: usize = 100;

/// The caller of one request: an account or anonymous, and the client address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: Option<AccountName>,
    /// The peer, or the forwarded client when the peer is a trusted proxy.
    pub ip: std::net::IpAddr,
}

impl Caller {
    /// The owner recorded on what this caller creates: the account's name,
    /// or [`crate::domain::ANONYMOUS`].
    pub fn owner(&self) -> &str {
        self.account.as_ref().map_or(ANONYMOUS, AccountName::as_str)
    }

    pub fn is_anonymous(&self) -> bool {
        self.account.is_none()
    }

    /// The account, or `Not authorized` for operations that need one.
    pub fn require_account(&self) -> Result<&AccountName, Error> {
        self.account.as_ref().ok_or(Error::NotAuthorized)
    }
}

/// What `share` and `generate` have in common, as the client sent it. The
/// service checks each against the caller's limits. What may be secret is wiped
/// when dropped, on every path (refused requests too).
#[derive(Default)]
pub struct SecretOptions {
    pub ttl: Option<String>,
    pub passphrase: Option<Zeroizing<String>>,
    pub share_domain: Option<String>,
    /// The first non-blank `recipient`.
    pub recipient: Option<String>,
}

/// Store a value the client sent.
pub struct Share {
    pub secret: Option<Zeroizing<String>>,
    pub options: SecretOptions,
}

/// Store a generated password.
pub struct Generate {
    pub password: Password,
    pub options: SecretOptions,
}

/// What password to generate.
pub enum Password {
    /// v1's and the pages': `length` clamped into 4..=128, every class.
    Default { length: Option<String> },
    /// v2's: `length` refused outside 4..=128, the classes chosen.
    Chosen {
        length: Option<String>,
        sets: CharacterSets,
    },
}

/// A generated password, stored: the receipt, and the value (shown once).
pub struct Generated {
    pub receipt: Receipt,
    pub value: SecretValue,
}

/// A burned secret: its receipt, and the first characters of its key.
pub struct Burned {
    pub receipt: Receipt,
    pub secret_shortkey: String,
}

/// What the reveal page may show before anything is revealed.
pub struct Preview {
    pub passphrase_required: bool,
}

/// Ask for a secret ("request a secret"), as the client sent it.
#[derive(Default)]
pub struct Ask {
    /// What is asked for, shown to whoever answers.
    pub note: Option<String>,
    pub ttl: Option<String>,
}

/// Who may create, and the limits each kind of caller gets.
pub struct Policy {
    /// `false`: only accounts may create secrets.
    pub anonymous_create: bool,
    /// Accounts skip the create, reveal and metadata rate limits.
    pub exempt_accounts: bool,
    pub anonymous: CallerLimits,
    pub authenticated: CallerLimits,
    /// Custom domains an account may pass as `share_domain`.
    pub share_domains: Vec<String>,
}

impl Policy {
    /// The limits that apply to `caller`.
    pub fn limits(&self, caller: &Caller) -> &CallerLimits {
        if caller.is_anonymous() {
            &self.anonymous
        } else {
            &self.authenticated
        }
    }
}

/// Where links point: the configured base URL, never the request's `Host`.
pub struct Links {
    /// Scheme and host (and optional path prefix), without a trailing slash.
    base_url: String,
}

impl Links {
    pub fn new(base_url: String) -> Self {
        Self { base_url }
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

    /// The origin a secret is revealed on: its custom share domain, or ours.
    pub fn origin_of(&self, share_domain: Option<&ShareDomain>) -> String {
        match share_domain {
            None => self.origin().to_owned(),
            Some(domain) => format!("https://{}", domain.as_str()),
        }
    }

    /// The link that reveals a secret: on its custom share domain, or under the
    /// configured base URL.
    pub fn secret(&self, share_domain: Option<&ShareDomain>, key: &SecretKey) -> String {
        match share_domain {
            None => format!("{}/secret/{}", self.base_url, key.expose()),
            Some(domain) => format!("https://{}/secret/{}", domain.as_str(), key.expose()),
        }
    }

    /// A page of the server's own, `path` without its leading slash.
    pub fn page(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url)
    }

    /// The request link: what a requester sends to whoever is to answer.
    pub fn request(&self, key: &RequestKey) -> String {
        format!("{}/ask/{}", self.base_url, key.expose())
    }

    /// The requester's private link to a request and its answer.
    pub fn private(&self, key: &PrivateKey) -> String {
        format!("{}/request/{}", self.base_url, key.expose())
    }

    /// The link to the secret of a receipt, while it has one.
    pub fn secret_of(&self, receipt: &Receipt) -> Option<String> {
        let key = receipt.secret_key.as_ref()?;
        Some(self.secret(receipt.share_domain.as_ref(), key))
    }
}

/// The one service behind the API and the pages. Built once, by
/// `app::Application::build`; handlers call its operations.
pub struct Service {
    pub(crate) vault: Vault,
    pub(crate) accounts: Accounts,
    pub(crate) limiter: RateLimiter,
    /// The SMTP relay; `None` when email is not configured.
    pub(crate) mailer: Option<Mailer>,
    pub(crate) policy: Policy,
    pub(crate) links: Links,
    /// What `/metrics` shows of the service's work.
    pub(crate) metrics: Metrics,
    /// Web sessions, and how people sign in on the pages.
    pub(crate) sessions: Sessions,
    pub(crate) sign_in: SignIn,
}

/// How people may sign in on the pages.
pub struct SignIn {
    /// With an account's password (`otsd user password`).
    pub password: bool,
    /// With the OpenID provider; `None` when single sign-on is off.
    pub oidc: Option<Oidc>,
}

/// The most requests "My secrets" lists.
const MY_REQUESTS_LIMIT: usize = 200;

/// A validated request to create a secret, with whom to email its link.
struct Creation {
    secret: NewSecret,
    recipient: Option<Address>,
}

impl Service {
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn links(&self) -> &Links {
        &self.links
    }

    /// Whether the service can serve requests (see `Store::readiness`).
    pub async fn readiness(&self) -> Result<(), String> {
        self.vault.readiness().await
    }

    /// Whether secrets can be stored now: `false` while the database cannot
    /// write (a full disk) and until it is reopened (see `Store::is_available`).
    pub fn can_store(&self) -> bool {
        self.vault.can_store()
    }

    /// The account these credentials name, or `Not authorized`. (The anonymous
    /// `Basic Og==` never gets here: see `request::caller`.)
    pub async fn authenticate(&self, name: &str, token: &str) -> Result<AccountName, Error> {
        match self.accounts.authenticate(name, token).await {
            Ok(Some(account)) => Ok(account),
            Ok(None) => Err(Error::NotAuthorized),
            Err(err) if err.is_unavailable() => Err(Error::StorageUnavailable),
            Err(err) => {
                log::error!("checking credentials failed: {err}");
                Err(Error::Internal)
            }
        }
    }

    /// `share`: stores the value the client sent.
    pub async fn share(&self, caller: &Caller, request: Share) -> Result<Receipt, Error> {
        self.may_create(caller)?;
        let max = self.policy.limits(caller).max_secret_bytes;
        let value = SecretValue::parse(request.secret.map(unwrap_zeroizing), max)?;
        let creation = self.new_secret(caller, request.options, value, Kind::Conceal)?;
        let receipt = self.create(creation).await?;
        self.metrics.secrets_created.inc();
        Ok(receipt)
    }

    /// `generate`: stores a generated password and hands it back once.
    pub async fn generate(&self, caller: &Caller, request: Generate) -> Result<Generated, Error> {
        self.may_create(caller)?;
        let value = match request.password {
            Password::Default { length } => {
                generate_password(GeneratedLength::parse(length.as_deref())?)
            }
            Password::Chosen { length, sets } => {
                generate_with(GeneratedLength::parse_strict(length.as_deref())?, &sets)
            }
        };
        let creation = self.new_secret(caller, request.options, value.clone(), Kind::Generate)?;
        let receipt = self.create(creation).await?;
        self.metrics.secrets_created.inc();
        Ok(Generated { receipt, value })
    }

    /// Reveals and destroys the secret. A missing or wrong passphrase is
    /// [`Error::WrongPassphraseToReveal`] and counts as a failed attempt.
    pub async fn reveal(
        &self,
        caller: &Caller,
        key: &SecretKey,
        passphrase: Option<Passphrase>,
    ) -> Result<Revealed, Error> {
        self.rate_limit(Action::Reveal, caller)?;
        let revealed = self
            .passphrase_attempt(
                caller,
                key.expose(),
                passphrase.is_some(),
                self.vault.reveal(key, passphrase),
            )
            .await?;
        self.metrics.secrets_revealed.inc();
        Ok(revealed)
    }

    /// What the reveal page shows before the reveal, and marks the receipt
    /// `viewed`. Reveals nothing, consumes nothing.
    pub async fn preview(&self, caller: &Caller, key: &SecretKey) -> Result<Preview, Error> {
        self.rate_limit(Action::Reveal, caller)?;
        let passphrase_required = self
            .vault
            .peek(key)
            .await?
            .ok_or_else(|| Error::unknown(key.expose()))?;
        self.vault.mark_viewed(key).await?;
        Ok(Preview {
            passphrase_required,
        })
    }

    /// The receipt. Reading it changes nothing.
    pub async fn receipt(&self, caller: &Caller, key: &ReceiptKey) -> Result<Receipt, Error> {
        self.rate_limit(Action::Metadata, caller)?;
        self.vault.receipt(key, false).await
    }

    /// The receipt, with a generated value still waiting for its creator
    /// (v2: the first read within a minute of a generate takes it).
    pub async fn receipt_with_handover(
        &self,
        caller: &Caller,
        key: &ReceiptKey,
    ) -> Result<Receipt, Error> {
        self.rate_limit(Action::Metadata, caller)?;
        self.vault.receipt(key, true).await
    }

    /// Sets or clears (blank) a receipt's memo. Only the account that made
    /// the secret may: the receipt key alone lets its holder read and burn,
    /// not write.
    pub async fn set_memo(
        &self,
        caller: &Caller,
        key: &ReceiptKey,
        memo: Option<&str>,
    ) -> Result<Receipt, Error> {
        self.rate_limit(Action::Metadata, caller)?;
        let receipt = self.vault.receipt(key, false).await?;
        let owns = caller
            .account
            .as_ref()
            .is_some_and(|account| account.as_str() == receipt.owner);
        if !owns {
            return Err(Error::NotReceiptOwner);
        }
        let memo = Memo::parse(memo);
        self.vault
            .set_memo(key, memo.as_ref().map(Memo::as_str))
            .await
    }

    /// A live secret without its value, or `None`: v2's preview
    /// ([`Look::Preview`], which notes the first one) and status
    /// ([`Look::Status`]). Never consumes it.
    pub async fn look(
        &self,
        caller: &Caller,
        key: &SecretKey,
        look: Look,
    ) -> Result<Option<SecretFacts>, Error> {
        self.rate_limit(Action::Reveal, caller)?;
        self.vault.look(key, look).await
    }

    /// The live secrets among `keys` (at most [`MAX_STATUS_KEYS`]), in the
    /// order asked; unknown, gone and malformed keys are left out. One
    /// request counts once against the rate limit.
    pub async fn statuses(
        &self,
        caller: &Caller,
        keys: &[String],
    ) -> Result<Vec<SecretFacts>, Error> {
        if keys.len() > MAX_STATUS_KEYS {
            return Err(Error::TooManyIdentifiers(MAX_STATUS_KEYS));
        }
        self.rate_limit(Action::Reveal, caller)?;
        let mut found = Vec::new();
        for key in keys.iter().filter_map(|raw| SecretKey::from_path(raw)) {
            if let Some(facts) = self.vault.look(&key, Look::Status).await? {
                found.push(facts);
            }
        }
        Ok(found)
    }

    /// Burns the unread secret. A secret with a passphrase needs it: a missing or
    /// wrong one is [`Error::WrongPassphraseToBurn`] and counts as a failed attempt.
    pub async fn burn(
        &self,
        caller: &Caller,
        key: &ReceiptKey,
        passphrase: Option<Passphrase>,
    ) -> Result<Burned, Error> {
        self.rate_limit(Action::Metadata, caller)?;
        let (receipt, secret_shortkey) = self
            .passphrase_attempt(
                caller,
                key.expose(),
                passphrase.is_some(),
                self.vault.burn(key, passphrase),
            )
            .await?;
        self.metrics.secrets_burned.inc();
        Ok(Burned {
            receipt,
            secret_shortkey,
        })
    }

    /// The caller's receipts, newest first, without secret keys. Accounts only.
    pub async fn recent(&self, caller: &Caller) -> Result<Vec<Receipt>, Error> {
        let account = caller.require_account()?;
        self.rate_limit(Action::Metadata, caller)?;
        self.vault.recent(account.as_str(), RECENT_LIMIT).await
    }

    /// Asks for a secret: a request link to send out and a private link to
    /// read the answer with. Who may ask, and the limits, are those of `share`.
    pub async fn ask(&self, caller: &Caller, ask: Ask) -> Result<PrivateView, Error> {
        self.may_create(caller)?;
        let ttl = Ttl::parse(ask.ttl.as_deref(), &self.policy.limits(caller).ttl)?;
        let request = NewRequest {
            owner: caller.owner().to_owned(),
            note: Note::parse(ask.note)?,
            ttl,
        };
        let view = self.vault.create_request(request).await?;
        self.metrics.requests_created.inc();
        Ok(view)
    }

    /// What a request link shows before it is answered. Changes nothing.
    pub async fn open_request(
        &self,
        caller: &Caller,
        key: &RequestKey,
    ) -> Result<OpenRequest, Error> {
        self.rate_limit(Action::Reveal, caller)?;
        self.vault.open_request(key).await
    }

    /// Where a request link's request stands (open, answered, gone).
    pub async fn asked(&self, caller: &Caller, key: &RequestKey) -> Result<Asked, Error> {
        self.rate_limit(Action::Reveal, caller)?;
        self.vault.asked(key).await
    }

    /// Answers a request, once. Anyone holding the request link may answer
    /// (also on a server where only accounts create), within the create rate
    /// limit and the caller's size limit for a secret.
    pub async fn answer(
        &self,
        caller: &Caller,
        key: &RequestKey,
        secret: Option<Zeroizing<String>>,
    ) -> Result<(), Error> {
        self.rate_limit(Action::Create, caller)?;
        let max = self.policy.limits(caller).max_secret_bytes;
        let value = SecretValue::parse(secret.map(unwrap_zeroizing), max)?;
        self.vault.answer(key, value).await?;
        self.metrics.requests_answered.inc();
        Ok(())
    }

    /// The request as its requester sees it. Changes nothing.
    pub async fn private_view(
        &self,
        caller: &Caller,
        key: &PrivateKey,
    ) -> Result<PrivateView, Error> {
        self.rate_limit(Action::Metadata, caller)?;
        self.vault.private_view(key).await
    }

    /// Reveals a request's answer and destroys it.
    pub async fn reveal_answer(
        &self,
        caller: &Caller,
        key: &PrivateKey,
    ) -> Result<SecretValue, Error> {
        self.rate_limit(Action::Reveal, caller)?;
        self.vault.reveal_answer(key).await
    }

    /// Cancels a request (and any unread answer).
    pub async fn cancel_request(
        &self,
        caller: &Caller,
        key: &PrivateKey,
    ) -> Result<PrivateView, Error> {
        self.rate_limit(Action::Metadata, caller)?;
        self.vault.cancel(key).await
    }

    // ---- signing in on the pages ----

    /// Whether people may sign in with a password, and with single sign-on.
    pub fn sign_in_ways(&self) -> (bool, bool) {
        (self.sign_in.password, self.sign_in.oidc.is_some())
    }

    /// Signs in with an account's web password: a session, or
    /// `SignInFailed` alike for an unknown name, an account without a
    /// password and a wrong one (each takes one Argon2id check). Failures are
    /// counted per address and per account name; past the limit, refused
    /// (`RateLimited`) before any check, the right password included.
    pub async fn sign_in_with_password(
        &self,
        caller: &Caller,
        name: &str,
        password: Zeroizing<String>,
    ) -> Result<Started, Error> {
        if !self.sign_in.password {
            return Err(Error::NotFound);
        }
        let subjects = [
            Subject::Ip(caller.ip),
            Subject::Account(name.trim().to_ascii_lowercase()),
        ];
        let now = unix_now();
        // Counted before the check and given back when it succeeds, so that
        // guesses sent at once cannot all pass the limit.
        self.limiter
            .hit(Action::FailedSignIn, &subjects, now)
            .map_err(|limited| self.rate_limited(limited))?;
        let Some(password) = crate::accounts::Password::attempt(password) else {
            return Err(Error::SignInFailed);
        };
        let account = self
            .accounts
            .check_password(name.trim(), password)
            .await?
            .ok_or(Error::SignInFailed)?;
        self.limiter.release(Action::FailedSignIn, &subjects, now);
        self.start_session(&account).await
    }

    /// A session for `account`, durably.
    async fn start_session(&self, account: &AccountName) -> Result<Started, Error> {
        let started = self
            .sessions
            .start(account)
            .await?
            .ok_or(Error::SignInFailed)?;
        log::info!("account {account} signed in on the pages");
        Ok(started)
    }

    /// The account a session cookie is signed in as, if its session lives.
    pub async fn session(&self, cookie: &str) -> Result<Option<AccountName>, Error> {
        Ok(self.sessions.find(cookie).await?)
    }

    /// How long a new session's cookie should live, in seconds.
    pub fn session_max_age(&self) -> u64 {
        self.sessions.policy().max
    }

    /// Ends a session (sign-out).
    pub async fn sign_out(&self, cookie: &str) -> Result<(), Error> {
        Ok(self.sessions.end(cookie).await?)
    }

    /// Starts a single sign-on: where to send the person, and what to keep
    /// (sealed, in their browser) until they come back.
    /// Returns the provider's URL and the pending cookie's (sealed) value.
    pub async fn begin_single_sign_on(&self, caller: &Caller) -> Result<(String, String), Error> {
        let oidc = self.sign_in.oidc.as_ref().ok_or(Error::NotFound)?;
        self.rate_limit(Action::Metadata, caller)?;
        let (url, pending) = oidc.begin().await.map_err(|refusal| {
            log::warn!("single sign-on could not start: {refusal}");
            Error::SingleSignOn(refusal)
        })?;
        let cookie = self
            .sessions
            .seal_pending(&pending)
            .ok_or(Error::Internal)?;
        Ok((url, cookie))
    }

    /// Finishes a single sign-on: the provider's answer checked, the person
    /// admitted by the `[oidc]` rules, their account found (bound to their
    /// identity at its first single sign-on) or, with `provision`, made; then
    /// a session.
    ///
    /// `pending` is the pending cookie's value as it came back (a missing or
    /// forged one is refused like a wrong `state`).
    pub async fn finish_single_sign_on(
        &self,
        caller: &Caller,
        pending: &str,
        code: &str,
        state: &str,
        iss: Option<&str>,
    ) -> Result<Started, Error> {
        let oidc = self.sign_in.oidc.as_ref().ok_or(Error::NotFound)?;
        self.rate_limit(Action::Metadata, caller)?;
        let pending: Pending = self
            .sessions
            .open_pending(pending)
            .ok_or(Error::SingleSignOn(crate::oidc::Refusal::State))?;
        let pending = &pending;
        let identity = oidc
            .finish(pending, code, state, iss)
            .await
            .map_err(|refusal| {
                log::info!("a single sign-on was refused: {refusal}");
                Error::SingleSignOn(refusal)
            })?;
        let refused = |refusal| Error::SingleSignOn(refusal);
        let name = AccountName::parse(&identity.username)
            .map_err(|_| refused(crate::oidc::Refusal::NoName))?;
        match self.accounts.record(name.as_str()).await? {
            Some(record) => match record.oidc_subject.as_deref() {
                Some(bound) if bound == identity.subject => {}
                // Someone else at the provider (or another provider) under
                // the same name: not this account.
                Some(_) => return Err(refused(crate::oidc::Refusal::NoName)),
                None => self
                    .accounts
                    .bind(&name, &identity.subject)
                    .await
                    .map_err(|e| crate::error::internal(&e))?,
            },
            None if oidc.config().provision => {
                self.accounts
                    .provision(&name, &identity.subject)
                    .await
                    .map_err(|e| crate::error::internal(&e))?
                    .ok_or(Error::SignInFailed)?;
                log::info!("account {name} made at its first single sign-on");
            }
            None => return Err(refused(crate::oidc::Refusal::NoAccount)),
        }
        self.start_session(&name).await
    }

    /// A new API token for the signed-in account (shown once); the old one
    /// stops working, and every session of the account ends: the one that
    /// asked goes on in the new session returned.
    pub async fn renew_token(
        &self,
        caller: &Caller,
    ) -> Result<(crate::accounts::Issued, Started), Error> {
        let account = caller.require_account()?;
        self.rate_limit(Action::Metadata, caller)?;
        let issued = self
            .accounts
            .rotate(account)
            .await
            .map_err(|e| crate::error::internal(&e))?;
        let started = self.start_session(account).await?;
        Ok((issued, started))
    }

    /// The signed-in account's extid: the name the official client sends
    /// for it, shown on the account's page.
    pub async fn my_extid(&self, caller: &Caller) -> Result<String, Error> {
        let account = caller.require_account()?;
        let record = self.accounts.record(account.as_str()).await?;
        record.map(|r| r.extid).ok_or(Error::NotAuthorized)
    }

    /// Whether a secret's link can be emailed (SMTP is configured), so the
    /// pages offer a recipient field to those who may use it.
    pub fn email_configured(&self) -> bool {
        self.mailer.is_some()
    }

    /// The signed-in account's requests for a secret, newest first.
    pub async fn my_requests(&self, caller: &Caller) -> Result<Vec<PrivateView>, Error> {
        let account = caller.require_account()?;
        self.rate_limit(Action::Metadata, caller)?;
        self.vault
            .requests_of(account.as_str(), MY_REQUESTS_LIMIT)
            .await
    }

    /// Counts one `action` for the caller (its address, and its account), or
    /// refuses the request without counting when a limit is reached. Email is
    /// counted per account only: accounts behind one address (a proxy, a NAT)
    /// each have their own allowance, and anonymous callers cannot send any.
    fn rate_limit(&self, action: Action, caller: &Caller) -> Result<(), Error> {
        if self.policy.exempt_accounts && !caller.is_anonymous() && action != Action::Email {
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
            .map_err(|limited| self.rate_limited(limited))
    }

    /// Runs a passphrase attempt on the secret or receipt named `key`, unless this
    /// address has used up its failed attempts on it (then `PassphraseLocked`);
    /// counts the attempt when the passphrase was wrong or missing.
    ///
    /// Only an attempt that fails on the passphrase ever stays counted, so reads
    /// of unknown keys or of secrets without a passphrase use none of this
    /// allowance. A guess (a passphrase given) is counted before it is tried and
    /// given back unless it failed, so that concurrent guesses cannot all pass the
    /// limit before any is counted; a request without a passphrase guesses
    /// nothing, so it is counted only once it has failed for want of one.
    async fn passphrase_attempt<T>(
        &self,
        caller: &Caller,
        key: &str,
        guesses: bool,
        attempt: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
        let mut id = [0u8; 32];
        id.copy_from_slice(digest.as_ref());
        let subject = [Subject::SecretFromIp(id, caller.ip)];
        let now = unix_now();
        let locked = |limited: crate::ratelimit::Limited| {
            self.metrics.rate_limited.inc();
            Error::PassphraseLocked {
                retry_after: limited.retry_after,
            }
        };
        if guesses {
            self.limiter
                .hit(Action::FailedPassphrase, &subject, now)
                .map_err(locked)?;
        }
        let result = attempt.await;
        let failed = matches!(
            result,
            Err(Error::WrongPassphraseToReveal { .. } | Error::WrongPassphraseToBurn)
        );
        if failed {
            self.metrics.failed_passphrases.inc();
            if !guesses {
                self.limiter
                    .hit(Action::FailedPassphrase, &subject, now)
                    .map_err(locked)?;
            }
        } else if guesses {
            self.limiter
                .release(Action::FailedPassphrase, &subject, now);
        }
        result
    }

    /// `RateLimited`, counted.
    fn rate_limited(&self, limited: crate::ratelimit::Limited) -> Error {
        self.metrics.rate_limited.inc();
        Error::RateLimited {
            retry_after: limited.retry_after,
        }
    }

    /// Closed instances refuse anonymous creators; everyone is rate limited.
    fn may_create(&self, caller: &Caller) -> Result<(), Error> {
        if caller.is_anonymous() && !self.policy.anonymous_create {
            return Err(Error::AccountRequiredToCreate);
        }
        self.rate_limit(Action::Create, caller)
    }

    /// The options share and generate have in common, checked against the
    /// caller's limits. Nothing is stored unless all of them are valid.
    fn new_secret(
        &self,
        caller: &Caller,
        options: SecretOptions,
        value: SecretValue,
        kind: Kind,
    ) -> Result<Creation, Error> {
        let limits = self.policy.limits(caller);
        let ttl = Ttl::parse(options.ttl.as_deref(), &limits.ttl)?;
        let passphrase = Passphrase::for_new_secret(
            options.passphrase.map(unwrap_zeroizing),
            &limits.passphrase,
        )?;
        let share_domain = self.share_domain(caller, options.share_domain.as_deref())?;
        let recipient = self.recipient(caller, options.recipient)?;
        Ok(Creation {
            secret: NewSecret {
                owner: caller.owner().to_owned(),
                value,
                passphrase,
                ttl,
                share_domain,
                recipients: recipient.iter().map(obfuscate).collect(),
                kind,
            },
            recipient,
        })
    }

    /// The recipient: accounts only, a valid address, SMTP configured, and within
    /// the account's email rate limit.
    fn recipient(&self, caller: &Caller, raw: Option<String>) -> Result<Option<Address>, Error> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        if caller.is_anonymous() {
            return Err(Error::AccountRequiredForEmail);
        }
        if self.mailer.is_none() {
            return Err(Error::EmailNotConfigured);
        }
        let address =
            parse_address(&raw).ok_or_else(|| Error::UndeliverableEmail(raw.trim().to_owned()))?;
        self.rate_limit(Action::Email, caller)?;
        Ok(Some(address))
    }

    /// The `share_domain` parameter: empty or the server's own host means none; an
    /// account may name a domain from the allow-list; anything else is refused.
    fn share_domain(
        &self,
        caller: &Caller,
        raw: Option<&str>,
    ) -> Result<Option<ShareDomain>, Error> {
        let domain = raw.map(str::trim).unwrap_or_default().to_ascii_lowercase();
        if domain.is_empty() || domain == self.links.own_host().to_ascii_lowercase() {
            return Ok(None);
        }
        let listed = self
            .policy
            .share_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&domain));
        match (listed, caller.is_anonymous()) {
            (true, false) => Ok(ShareDomain::new(domain)),
            (true, true) => Err(Error::DomainNotPermitted(domain)),
            (false, _) => Err(Error::UnknownDomain(domain)),
        }
    }

    /// Stores a new secret and, when it has a recipient, emails them the link.
    /// Either both happen or neither: if the email cannot be sent (within the SMTP
    /// timeout), the secret is discarded before the error is returned.
    async fn create(&self, creation: Creation) -> Result<Receipt, Error> {
        let Creation { secret, recipient } = creation;
        let sender = secret.owner.clone();
        let receipt = self.vault.create(secret).await?;
        let (Some(to), Some(mailer)) = (recipient, &self.mailer) else {
            return Ok(receipt);
        };
        let link = self.links.secret_of(&receipt).ok_or(Error::Internal)?;
        let invitation = Invitation {
            sender: &sender,
            link: &link,
            expires_in: receipt.ttl,
            passphrase_required: receipt.passphrase_required,
        };
        match mailer.send(&to, &invitation).await {
            Ok(()) => {
                log::info!("emailed a new secret's link to its recipient");
                self.metrics.emails_sent.inc();
                Ok(receipt)
            }
            Err(err) => {
                self.metrics.emails_failed.inc();
                log::warn!("emailing a recipient failed ({err}); the new secret was discarded");
                self.vault.discard(&receipt.receipt_key).await?;
                Err(Error::EmailFailed)
            }
        }
    }
}

/// Moves the text out of its wrapper for a domain type that wipes it in turn
/// (the buffer moves; no copy is left behind).
fn unwrap_zeroizing(mut text: Zeroizing<String>) -> String {
    std::mem::take(&mut *text)
}
