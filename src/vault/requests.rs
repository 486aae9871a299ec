//! The request lifecycle ("request a secret"): a requester asks, the holder of
//! the request link answers once, the requester reveals the answer once or
//! cancels.
//!
//! A request's note and answer are sealed under a random answer key. The record
//! keeps that key sealed twice: under the request key, so an answer can be
//! sealed while the request is open (that copy goes with the answer), and under
//! the private key, so only the requester can open the answer. Every change is
//! one compare-and-swap (see `store::requests`), on disk when it returns `Ok`.

use super::{Vault, utf8_text as text};
use crate::clock::unix_now;
use crate::crypto::{AnswerKey, Holder, KeyKind, Sealed};
use crate::domain::{Note, PrivateKey, RequestKey, SecretValue, Ttl};
use crate::error::Error;
use crate::store::{Closing, FetchedRequest, RequestRecord, RequestState, StoreError};

/// Everything needed to store a new request, validated by the service.
#[derive(Debug)]
pub struct NewRequest {
    pub owner: String,
    pub note: Option<Note>,
    pub ttl: Ttl,
}

/// Where a request stands, as its requester sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// Open: the request link takes one answer.
    Waiting,
    /// Answered: the answer can be revealed once.
    Answered,
    Revealed,
    Cancelled,
    /// Nobody answered in time, or the answer was not read in time.
    Expired,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Answered => "answered",
            Self::Revealed => "revealed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// Whether the requester can still act on it (reveal or cancel).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Waiting | Self::Answered)
    }
}

/// What the requester's private link shows.
#[derive(Debug)]
pub struct PrivateView {
    pub owner: String,
    pub private_key: PrivateKey,
    /// `Some` while the request waits for its answer.
    pub request_key: Option<RequestKey>,
    /// The note, while anything of the request is kept.
    pub note: Option<Note>,
    pub status: RequestStatus,
    pub ttl: u64,
    pub created: u64,
    pub updated: u64,
    pub answered: Option<u64>,
    /// When what is live ends: the request link while waiting, the answer once
    /// answered; `None` once closed or expired.
    pub live_until: Option<u64>,
}

/// Where a request stands as its request link sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// It takes an answer.
    Open,
    /// It was answered (whether or not the answer was read since).
    Answered,
    /// Unknown, cancelled or expired.
    Gone,
}

/// What the request link shows to whoever may answer it.
#[derive(Debug)]
pub struct OpenRequest {
    pub note: Option<Note>,
    pub created: u64,
    /// When the request link stops taking an answer.
    pub open_until: u64,
}

impl Vault {
    /// Seals and stores a new request. Durable when `Ok`.
    pub async fn create_request(&self, new: NewRequest) -> Result<PrivateView, Error> {
        let now = unix_now();
        let id = self.store.new_id().await?;
        let keys = self.keyring.issue_request_keys(id);
        let answer_key = AnswerKey::generate();
        let ttl = new.ttl.seconds();
        let sealed_note = new
            .note
            .as_ref()
            .map(|note| {
                self.keyring
                    .seal_under(&answer_key, Sealed::Note, id, note.expose().as_bytes())
            })
            .transpose()?;
        let sealed_private_key = (new.owner != crate::domain::ANONYMOUS)
            .then(|| self.keyring.seal_private_key(id, &keys.private))
            .transpose()?;
        let record = RequestRecord {
            request_check: keys.request_check,
            private_check: keys.private_check,
            owner: new.owner,
            ttl,
            created: now,
            updated: now,
            answered: None,
            state: RequestState::Waiting,
            open_until: now + ttl,
            answer_until: None,
            expires_at: now + 2 * ttl,
            key_for_request: Some(self.keyring.seal_answer_key(
                Holder::Request(&keys.request),
                id,
                &answer_key,
            )?),
            key_for_private: Some(self.keyring.seal_answer_key(
                Holder::Private(&keys.private),
                id,
                &answer_key,
            )?),
            sealed_request_key: Some(self.keyring.seal_request_key(
                &keys.private,
                id,
                &keys.request,
            )?),
            sealed_note,
            sealed_answer: None,
            sealed_private_key,
        };
        self.store.insert_request(id, &record).await?;
        Ok(describe(
            keys.private,
            Some(keys.request),
            new.note,
            &record,
            now,
        ))
    }

    /// The open request a request link names; anything else (unknown,
    /// answered, cancelled, expired) is `UnknownRequest`. Changes nothing.
    pub async fn open_request(&self, key: &RequestKey) -> Result<OpenRequest, Error> {
        let (read, answer_key) = self.open_for_answer(key).await?;
        Ok(OpenRequest {
            note: self.note(&answer_key, &read)?,
            created: read.record.created,
            open_until: read.record.open_until,
        })
    }

    /// Where the request a request link names stands for whoever holds that
    /// link: what its confirmation page needs. Changes nothing.
    pub async fn asked(&self, key: &RequestKey) -> Result<Asked, Error> {
        let now = unix_now();
        Ok(
            match self
                .find_request(KeyKind::Request, key.expose(), now)
                .await?
            {
                Some(read) if read.record.is_open(now) => Asked::Open,
                Some(read) if read.record.answered.is_some() => Asked::Answered,
                _ => Asked::Gone,
            },
        )
    }

    /// Seals `value` as the request's one answer. Exactly one caller per
    /// request gets `Ok`, and then the answer is on disk; every other one, and
    /// any once the request is closed, gets `UnknownRequest`.
    pub async fn answer(&self, key: &RequestKey, value: SecretValue) -> Result<(), Error> {
        let (read, answer_key) = self.open_for_answer(key).await?;
        let sealed = self.keyring.seal_under(
            &answer_key,
            Sealed::Answer,
            read.id,
            value.expose().as_bytes(),
        )?;
        self.store
            .answer_request(&read, unix_now(), sealed)
            .await?
            .ok_or(Error::UnknownRequest)?;
        Ok(())
    }

    /// The request as its requester sees it. Reading it changes nothing.
    /// An account's requests (newest first, at most `limit`), as their
    /// requester sees each: their private keys are kept sealed for the
    /// account, and opened here.
    pub async fn requests_of(&self, owner: &str, limit: usize) -> Result<Vec<PrivateView>, Error> {
        let now = unix_now();
        let mut views = Vec::new();
        for (id, record) in self.store.requests_of(owner, limit, now).await? {
            let Some(key) = record
                .sealed_private_key
                .as_deref()
                .and_then(|sealed| self.keyring.open_private_key(id, sealed))
            else {
                continue;
            };
            match self.private_view(&key).await {
                Ok(view) => views.push(view),
                // Gone since the listing: left out.
                Err(Error::UnknownRequest) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(views)
    }

    pub async fn private_view(&self, key: &PrivateKey) -> Result<PrivateView, Error> {
        let now = unix_now();
        let read = self
            .find_request(KeyKind::Private, key.expose(), now)
            .await?
            .ok_or(Error::UnknownRequest)?;
        self.present_private_view(key, &read, now)
    }

    /// Reveals the answer and destroys it, with everything else sealed in the
    /// request. Exactly one caller gets `Ok`, once it is on disk. Before an
    /// answer arrived: `NoAnswerYet`, and the request stays open.
    pub async fn reveal_answer(&self, key: &PrivateKey) -> Result<SecretValue, Error> {
        let now = unix_now();
        let read = self
            .find_request(KeyKind::Private, key.expose(), now)
            .await?
            .ok_or(Error::UnknownRequest)?;
        if read.record.is_open(now) {
            return Err(Error::NoAnswerYet);
        }
        if !read.record.has_answer(now) {
            return Err(Error::UnknownRequest);
        }
        let answer_key = self.answer_key(Holder::Private(key), &read)?;
        let sealed = read
            .record
            .sealed_answer
            .as_deref()
            .ok_or(StoreError::Corrupt)?;
        let mut plain = self
            .keyring
            .open_under(&answer_key, Sealed::Answer, read.id, sealed)
            .ok_or(StoreError::Corrupt)?;
        let value = text(&mut plain)?;
        self.store
            .close_request(&read, unix_now(), Closing::Revealed)
            .await?
            .ok_or(Error::UnknownRequest)?;
        Ok(SecretValue::from_trusted(value))
    }

    /// Cancels a request that waits or holds an unread answer (which goes
    /// unread). Anything else is `UnknownRequest`. Durable when `Ok`.
    pub async fn cancel(&self, key: &PrivateKey) -> Result<PrivateView, Error> {
        let now = unix_now();
        let read = self
            .find_request(KeyKind::Private, key.expose(), now)
            .await?
            .ok_or(Error::UnknownRequest)?;
        let note = self
            .answer_key(Holder::Private(key), &read)
            .ok()
            .map(|answer_key| self.note(&answer_key, &read))
            .transpose()?
            .flatten();
        let cancelled = self
            .store
            .close_request(&read, now, Closing::Cancelled)
            .await?
            .ok_or(Error::UnknownRequest)?;
        Ok(describe(key.clone(), None, note, &cancelled, now))
    }

    /// The open request a request key names, with its answer key opened:
    /// anything not open is `UnknownRequest`.
    async fn open_for_answer(
        &self,
        key: &RequestKey,
    ) -> Result<(FetchedRequest, AnswerKey), Error> {
        let now = unix_now();
        let read = self
            .find_request(KeyKind::Request, key.expose(), now)
            .await?
            .filter(|read| read.record.is_open(now))
            .ok_or(Error::UnknownRequest)?;
        let answer_key = self.answer_key(Holder::Request(key), &read)?;
        Ok((read, answer_key))
    }

    /// The request a key of `kind` opens (see `Vault::find` for secrets).
    async fn find_request(
        &self,
        kind: KeyKind,
        key: &str,
        now: u64,
    ) -> Result<Option<FetchedRequest>, Error> {
        let Some(id) = self.keyring.locate(kind, key) else {
            return Ok(None);
        };
        let Some(read) = self.store.get_request(id, now).await? else {
            return Ok(None);
        };
        let check = match kind {
            KeyKind::Request => &read.record.request_check,
            KeyKind::Private => &read.record.private_check,
            KeyKind::Secret | KeyKind::Receipt => return Ok(None),
        };
        Ok(self.keyring.verify(kind, key, check).then_some(read))
    }

    /// The answer key, opened from the copy `holder` has.
    fn answer_key(&self, holder: Holder<'_>, read: &FetchedRequest) -> Result<AnswerKey, Error> {
        let copy = match holder {
            Holder::Request(_) => &read.record.key_for_request,
            Holder::Private(_) => &read.record.key_for_private,
        };
        let sealed = copy.as_deref().ok_or(StoreError::Corrupt)?;
        Ok(self
            .keyring
            .open_answer_key(holder, read.id, sealed)
            .ok_or(StoreError::Corrupt)?)
    }

    /// The request's note, if it has one and it is still kept.
    fn note(&self, answer_key: &AnswerKey, read: &FetchedRequest) -> Result<Option<Note>, Error> {
        let Some(sealed) = read.record.sealed_note.as_deref() else {
            return Ok(None);
        };
        let mut plain = self
            .keyring
            .open_under(answer_key, Sealed::Note, read.id, sealed)
            .ok_or(StoreError::Corrupt)?;
        Ok(Some(Note::from_trusted(text(&mut plain)?)))
    }

    fn present_private_view(
        &self,
        key: &PrivateKey,
        read: &FetchedRequest,
        now: u64,
    ) -> Result<PrivateView, Error> {
        let (id, record) = (read.id, &read.record);
        // The answer key is opened only for a note to read.
        let note = match (&record.key_for_private, &record.sealed_note) {
            (Some(_), Some(_)) => self.note(&self.answer_key(Holder::Private(key), read)?, read)?,
            _ => None,
        };
        let request_key = if record.is_open(now) {
            record
                .sealed_request_key
                .as_deref()
                .and_then(|sealed| self.keyring.open_request_key(key, id, sealed))
        } else {
            None
        };
        Ok(describe(key.clone(), request_key, note, record, now))
    }
}

/// The requester's view of a record whose keys and note are opened.
fn describe(
    private_key: PrivateKey,
    request_key: Option<RequestKey>,
    note: Option<Note>,
    record: &RequestRecord,
    now: u64,
) -> PrivateView {
    let status = if record.is_expired(now) {
        RequestStatus::Expired
    } else {
        match record.state {
            RequestState::Waiting => RequestStatus::Waiting,
            RequestState::Answered => RequestStatus::Answered,
            RequestState::Revealed => RequestStatus::Revealed,
            RequestState::Cancelled => RequestStatus::Cancelled,
        }
    };
    let live_until = match status {
        RequestStatus::Waiting => Some(record.open_until),
        RequestStatus::Answered => record.answer_until,
        _ => None,
    };
    PrivateView {
        owner: record.owner.clone(),
        private_key,
        request_key,
        note,
        status,
        ttl: record.ttl,
        created: record.created,
        updated: record.updated,
        answered: record.answered,
        live_until,
    }
}
