//! Requests for a secret: one record each in `requests`, sharing the `expiry`
//! index with secrets, and every change of state one compare-and-swap of the
//! record, so concurrent answers (or an answer and a cancel) have exactly one
//! winner and no crash leaves half of a change.

use super::chunked::Read;

use super::SledStore;
use super::copy::Part;
use super::records::{decode, encode};
use super::secrets::id_key;
use super::{Closing, FetchedRequest, RequestRecord, StoreError, Version};
use crate::crypto::RecordId;

impl SledStore {
    /// Stores a new request under `id` (from [`SledStore::new_id`]): its expiry
    /// entry first, so whatever part of it a crash leaves is found by the
    /// reaper. Durable only after [`SledStore::commit`].
    pub fn insert_request(&self, id: RecordId, record: &RequestRecord) -> Result<(), StoreError> {
        let _writing = self.writing();
        let bytes = encode(record)?;
        self.expect_at(record.due(), id)?;
        self.current()?.requests.insert(&id_key(id), &bytes)?;
        self.changed(Part::Requests, &id_key(id));
        Ok(())
    }

    /// The request under `id`, unless there is none or its record has expired
    /// at `now`.
    pub fn get_request(
        &self,
        id: RecordId,
        now: u64,
    ) -> Result<Option<FetchedRequest>, StoreError> {
        let Some(read) = self.current()?.requests.get(&id_key(id))? else {
            return Ok(None);
        };
        let record: RequestRecord = decode(read.bytes())?;
        Ok((now < record.expires_at).then_some(FetchedRequest {
            id,
            record,
            version: Version::Sled(read),
        }))
    }

    /// Takes the one answer of an open request: `sealed_answer` goes in, the
    /// request key's copy of the answer key goes out, in one compare-and-swap.
    /// Exactly one caller per request gets the record as written; every other
    /// (concurrent or later) call, and any once the request closed or expired
    /// at `now`, gets `None`. The answer can be read for the request's TTL from
    /// `now`. Durable only after [`SledStore::commit`].
    pub fn answer_request(
        &self,
        read: &FetchedRequest,
        now: u64,
        sealed_answer: Vec<u8>,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let _writing = self.writing();
        let answer_until = now.saturating_add(read.record.ttl);
        // Indexed before the record says so (a lost race leaves an entry the
        // reaper passes over).
        self.expect_at(answer_until, read.id)?;
        self.update(
            Part::Requests,
            read.id,
            read.version.sled(),
            |record: &mut RequestRecord| record.answer(now, &sealed_answer),
        )
    }

    /// Closes a request for its requester, dropping everything sealed in it:
    /// `Revealed` needs an answer to be there, `Cancelled` a request that is
    /// open or answered. One caller wins, as for [`SledStore::answer_request`].
    pub fn close_request(
        &self,
        read: &FetchedRequest,
        now: u64,
        how: Closing,
    ) -> Result<Option<RequestRecord>, StoreError> {
        let _writing = self.writing();
        self.update(
            Part::Requests,
            read.id,
            read.version.sled(),
            |record: &mut RequestRecord| record.close(now, how),
        )
    }

    /// The reaper's step for a request whose expiry entry is due at `now`: the
    /// record goes at its end; before that, whatever is sealed goes once its
    /// time is up, and the next due time is indexed. (The caller removes the
    /// entry it came from.)
    pub(super) fn reap_request(
        &self,
        id: RecordId,
        read: Read,
        now: u64,
    ) -> Result<(), StoreError> {
        let record: RequestRecord = decode(read.bytes())?;
        if record.expires_at <= now {
            self.changed(Part::Requests, &id_key(id));
            self.current()?.requests.remove(&id_key(id))?;
            return Ok(());
        }
        let dropped = self.update(Part::Requests, id, Some(read), |r: &mut RequestRecord| {
            r.is_expired(now) && r.drop_sealed()
        })?;
        let due = dropped.as_ref().unwrap_or(&record).due();
        self.expect_at(due.max(now.saturating_add(1)), id)
    }

    /// The requests `owner` can list (made by the account, not expired at
    /// `now`), newest first, at most `limit`. Reads every request: requests
    /// are few, and only an account's own page asks.
    pub fn requests_of(
        &self,
        owner: &str,
        limit: usize,
        now: u64,
    ) -> Result<Vec<(RecordId, RequestRecord)>, StoreError> {
        // Only what the account made since it was made (a removed account's
        // requests are not its successor's of the same name).
        let Some(account) = self.account(owner)? else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for entry in self.current()?.requests.iter() {
            let (key, bytes) = entry?;
            let record: RequestRecord = decode(&bytes)?;
            if record.owner == owner
                && record.sealed_private_key.is_some()
                && now < record.expires_at
                && let Some(id) = key.as_ref().try_into().ok().map(u64::from_be_bytes)
                && id > account.listed_from
            {
                found.push((RecordId::new(id), record));
            }
        }
        found.sort_by_key(|(id, _)| std::cmp::Reverse(id.get()));
        found.truncate(limit);
        Ok(found)
    }

    /// `(requests still holding anything sealed, requests)`, expired or not;
    /// for tests. Reads the whole tree.
    pub fn request_counts(&self) -> Result<(usize, usize), StoreError> {
        let mut counts = (0, 0);
        for entry in self.current()?.requests.values() {
            let record: RequestRecord = decode(&entry?)?;
            counts.0 += usize::from(record.holds_sealed());
            counts.1 += 1;
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_000_000;
    const TTL: u64 = 100;

    use super::super::open_temp as open;
    use crate::store::RequestState;

    fn create(store: &SledStore) -> RecordId {
        let id = store.new_id().unwrap();
        let record = RequestRecord {
            request_check: [1; 16],
            private_check: [2; 16],
            owner: "anon".into(),
            ttl: TTL,
            created: NOW,
            updated: NOW,
            answered: None,
            state: RequestState::Waiting,
            open_until: NOW + TTL,
            answer_until: None,
            expires_at: NOW + 2 * TTL,
            key_for_request: Some(vec![3; 60]),
            key_for_private: Some(vec![4; 60]),
            sealed_request_key: Some(vec![5; 80]),
            sealed_note: Some(vec![6; 40]),
            sealed_answer: None,
            sealed_private_key: None,
        };
        store.insert_request(id, &record).unwrap();
        id
    }

    fn read(store: &SledStore, id: RecordId, now: u64) -> FetchedRequest {
        store.get_request(id, now).unwrap().unwrap()
    }

    fn answer(store: &SledStore, id: RecordId, now: u64) -> bool {
        match store.get_request(id, now).unwrap() {
            Some(read) => store
                .answer_request(&read, now, vec![8; 50])
                .unwrap()
                .is_some(),
            None => false,
        }
    }

    #[test]
    fn an_answer_is_taken_once_and_the_request_keys_copy_goes_with_it() {
        let (_dir, store) = open();
        let id = create(&store);
        assert!(answer(&store, id, NOW + 10));
        let answered = read(&store, id, NOW + 10).record;
        assert_eq!(answered.state, RequestState::Answered);
        assert_eq!(answered.answered, Some(NOW + 10));
        assert_eq!(answered.answer_until, Some(NOW + 10 + TTL));
        assert_eq!(answered.expires_at, NOW + 10 + 2 * TTL);
        assert_eq!(answered.key_for_request, None);
        assert_eq!(answered.sealed_request_key, None);
        assert!(answered.key_for_private.is_some() && answered.sealed_answer.is_some());
        assert!(!answer(&store, id, NOW + 11), "a second answer is refused");
        assert!(answered.has_answer(NOW + 11));
    }

    /// Answers from many threads at once, over many requests: each request
    /// takes exactly one.
    #[test]
    fn concurrent_answers_have_exactly_one_winner_per_request() {
        let (_dir, store) = open();
        let ids: Vec<_> = (0..30).map(|_| create(&store)).collect();
        let winners = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                let (store, ids, winners) = (&store, &ids, &winners);
                scope.spawn(move || {
                    for &id in ids {
                        if answer(store, id, NOW) {
                            winners.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        assert_eq!(winners.into_inner(), ids.len());
    }

    #[test]
    fn a_cancelled_request_takes_no_answer() {
        let (_dir, store) = open();
        let id = create(&store);
        let waiting = read(&store, id, NOW);
        let cancelled = store
            .close_request(&waiting, NOW, Closing::Cancelled)
            .unwrap()
            .unwrap();
        assert_eq!(cancelled.state, RequestState::Cancelled);
        assert!(!cancelled.holds_sealed());
        assert!(!answer(&store, id, NOW), "not even from the stale read");
        assert!(
            store
                .answer_request(&waiting, NOW, vec![1])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn revealing_needs_an_answer_and_drops_everything_sealed() {
        let (_dir, store) = open();
        let id = create(&store);
        let waiting = read(&store, id, NOW);
        assert!(
            store
                .close_request(&waiting, NOW, Closing::Revealed)
                .unwrap()
                .is_none()
        );
        assert!(answer(&store, id, NOW + 1));
        let answered = read(&store, id, NOW + 1);
        let revealed = store
            .close_request(&answered, NOW + 2, Closing::Revealed)
            .unwrap()
            .unwrap();
        assert_eq!(revealed.state, RequestState::Revealed);
        assert!(!revealed.holds_sealed());
        assert!(
            store
                .close_request(&answered, NOW + 3, Closing::Revealed)
                .unwrap()
                .is_none(),
            "once"
        );
        assert!(
            store
                .close_request(&answered, NOW + 3, Closing::Cancelled)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_reaper_drops_an_unanswered_request_at_its_end_and_the_record_a_ttl_later() {
        let (_dir, store) = open();
        let id = create(&store);
        assert_eq!(store.purge_expired(NOW + TTL - 1, 100).unwrap(), 0);
        assert!(!answer(&store, id, NOW + TTL), "closed at its end");
        assert_eq!(store.purge_expired(NOW + TTL, 100).unwrap(), 1);
        assert_eq!(store.request_counts().unwrap(), (0, 1));
        assert_eq!(store.purge_expired(NOW + 2 * TTL - 1, 100).unwrap(), 0);
        assert_eq!(store.purge_expired(NOW + 2 * TTL, 100).unwrap(), 1);
        assert_eq!(store.request_counts().unwrap(), (0, 0));
        assert!(store.current().unwrap().expiry.is_empty());
    }

    #[test]
    fn an_answer_outlives_the_request_by_its_ttl_then_goes() {
        let (_dir, store) = open();
        let id = create(&store);
        assert!(answer(&store, id, NOW + 90));
        // The entry at the request's end finds an answer still to be read.
        assert_eq!(store.purge_expired(NOW + TTL, 100).unwrap(), 1);
        assert_eq!(store.request_counts().unwrap(), (1, 1));
        assert!(read(&store, id, NOW + TTL).record.has_answer(NOW + TTL));
        assert_eq!(store.purge_expired(NOW + 90 + TTL, 100).unwrap(), 1);
        assert_eq!(store.request_counts().unwrap(), (0, 1));
        store.purge_expired(NOW + 90 + 2 * TTL, 100).unwrap();
        assert_eq!(store.request_counts().unwrap(), (0, 0));
        assert!(store.current().unwrap().expiry.is_empty());
    }
}
