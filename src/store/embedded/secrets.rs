//! Secrets: one record each, its two indexes, and every change of its state as
//! one compare-and-swap of that record.

use sled::IVec;

use super::chunked::Read;

use super::copy::Part;
use super::records::{decode, encode};
use super::{Amendment, Fetched, Guess, Record, SecretRecord, Settlement, StoreError, Version};
use super::{Open, SledStore};
use crate::crypto::RecordId;

impl SledStore {
    /// Stores a new secret under `id` (from [`SledStore::new_id`]). Durable only after
    /// [`SledStore::commit`].
    ///
    /// The id is fresh, so nothing can conflict. A crash can only interrupt a
    /// create that was not yet acknowledged: the index entries are written first,
    /// so whatever part of it reached the disk is found and removed by the reaper.
    pub fn insert(&self, id: RecordId, record: &SecretRecord) -> Result<(), StoreError> {
        let _writing = self.writing();
        let bytes = encode(record)?;
        self.expect_at(record.secret_expires_at, id)?;
        if let Some(key) = owner_key(record, id) {
            self.current()?.owners.insert(&key, &[][..])?;
            self.changed(Part::Owners, &key);
        }
        self.current()?.secrets.insert(&id_key(id), &bytes)?;
        self.changed(Part::Secrets, &id_key(id));
        self.tally.created();
        Ok(())
    }

    /// The record stored under `id`, unless there is none or it has expired at
    /// `now` (twice its secret's TTL). Whether the secret itself is still live is
    /// [`SecretRecord::is_live`].
    pub fn get(&self, id: RecordId, now: u64) -> Result<Option<Fetched>, StoreError> {
        read_record(&*self.current()?, id, now)
    }

    /// Settles a live secret (its reveal or its burn), starting from the record as
    /// `read`: in one compare-and-swap of its record the state changes and the
    /// sealed value and sealed secret key are dropped. Exactly one caller per
    /// secret gets the record as written; every other (concurrent or later) call,
    /// and any call once the secret expired at `now`, gets `None`. A record changed
    /// since it was read is read again and decided afresh. Durable only after
    /// [`SledStore::commit`].
    pub fn settle(
        &self,
        read: &Fetched,
        now: u64,
        how: Settlement,
    ) -> Result<Option<SecretRecord>, StoreError> {
        let _writing = self.writing();
        let settled = self.update(
            Part::Secrets,
            read.id,
            read.version.sled(),
            |record: &mut SecretRecord| record.settle(now, how),
        )?;
        if settled.is_some() {
            self.tally.settled();
        }
        Ok(settled)
    }

    /// Moves a secret from `new` to `viewed` (its page was opened). Not durable on
    /// its own: losing it in a crash only loses a hint.
    pub fn mark_viewed(&self, read: &Fetched, now: u64) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.update(
            Part::Secrets,
            read.id,
            read.version.sled(),
            |record: &mut SecretRecord| record.mark_viewed(now),
        )?;
        Ok(())
    }

    /// Applies `amendment` from the record as `read` (see
    /// [`crate::store::Store::amend`]): one compare-and-swap. Durable only
    /// after [`SledStore::commit`].
    pub fn amend(
        &self,
        read: &Fetched,
        now: u64,
        amendment: &Amendment,
    ) -> Result<Option<SecretRecord>, StoreError> {
        let _writing = self.writing();
        self.update(
            Part::Secrets,
            read.id,
            read.version.sled(),
            |record: &mut SecretRecord| record.amend(now, amendment),
        )
    }

    /// Counts a passphrase guess against secret `id` unless it has had
    /// `limit` (see [`crate::store::Store::guess`]): one atomic update of its
    /// count. Not flushed on its own: a crash forgets at most the guesses of
    /// the last moment, as it would forget a rate limiter's.
    pub fn guess(&self, id: RecordId, limit: u32) -> Result<Guess, StoreError> {
        let _writing = self.writing();
        let mut counted = false;
        self.current()?
            .guesses
            .fetch_and_update(id_key(id), |old| {
                let n = old
                    .and_then(|b| b.try_into().ok())
                    .map_or(0, u32::from_be_bytes);
                counted = n < limit;
                Some(n.saturating_add(u32::from(counted)).to_be_bytes().to_vec())
            })?;
        Ok(if counted {
            Guess::Counted
        } else {
            Guess::Exhausted
        })
    }

    /// Removes a secret entirely, as if never made: the undo of `insert` when the
    /// create could not be completed (email not sent). The expiry entry goes last,
    /// so whatever a crash leaves behind the reaper finds.
    pub fn discard(&self, id: RecordId) -> Result<(), StoreError> {
        let _writing = self.writing();
        if let Some(read) = self.current()?.secrets.get(&id_key(id))? {
            let record: SecretRecord = decode(read.bytes())?;
            if let Some(key) = owner_key(&record, id) {
                self.current()?.owners.remove(&key)?;
                self.changed(Part::Owners, &key);
            }
            self.current()?.guesses.remove(id_key(id))?;
            if self.current()?.secrets.remove(&id_key(id))? {
                self.tally.removed(record.sealed_value.is_some());
            }
            self.changed(Part::Secrets, &id_key(id));
            for due in [
                expiry_key(record.secret_expires_at, id),
                expiry_key(record.expires_at, id),
            ] {
                self.current()?.expiry.remove(due)?;
                self.changed(Part::Expiry, &due);
            }
        }
        Ok(())
    }

    /// Handles at most `limit` expiry entries due at `now`; returns how many.
    ///
    /// At a secret's expiry its sealed value is dropped and its entry moves to the
    /// record's own expiry; there the record and its listing go. Entries are in
    /// time order, then id order, so a second's worth of secrets is read in the
    /// order it was written. Each entry is removed last: a crash part-way leaves it,
    /// and the next round does the rest.
    pub fn purge_expired(&self, now: u64, limit: usize) -> Result<usize, StoreError> {
        let _writing = self.writing();
        let upper = now.saturating_add(1).to_be_bytes();
        let due: Vec<IVec> = self
            .current()?
            .expiry
            .range(..&upper[..])
            .keys()
            .take(limit)
            .collect::<Result<_, _>>()?;
        for entry in &due {
            let id = entry
                .get(8..16)
                .and_then(|id| id.try_into().ok())
                .map(|id| RecordId::new(u64::from_be_bytes(id)))
                .ok_or(StoreError::Corrupt)?;
            if let Some(read) = self.current()?.secrets.get(&id_key(id))? {
                let record: SecretRecord = decode(read.bytes())?;
                if record.expires_at <= now {
                    if let Some(key) = owner_key(&record, id) {
                        self.current()?.owners.remove(&key)?;
                        self.changed(Part::Owners, &key);
                    }
                    self.changed(Part::Secrets, &id_key(id));
                    self.current()?.guesses.remove(id_key(id))?;
                    if self.current()?.secrets.remove(&id_key(id))? {
                        let unread = record.sealed_value.is_some();
                        self.tally.removed(unread);
                        if unread {
                            self.tally.expired.inc();
                        }
                    }
                } else {
                    // A revealed or burned record has nothing to drop.
                    if self
                        .update(Part::Secrets, id, Some(read), SecretRecord::drop_sealed)?
                        .is_some()
                    {
                        self.tally.settled();
                        self.tally.expired.inc();
                    }
                    self.expect_at(record.expires_at, id)?;
                }
            } else if let Some(read) = self.current()?.requests.get(&id_key(id))? {
                // Ids are one sequence: an id that is no secret's may be a request's.
                self.reap_request(id, read, now)?;
            }
            self.current()?.expiry.remove(entry)?;
            self.changed(Part::Expiry, entry);
        }
        Ok(due.len())
    }

    /// `(records still holding a sealed value, records)`, expired or not; for tests.
    /// Reads the whole tree.
    pub fn counts(&self) -> Result<(usize, usize), StoreError> {
        let mut counts = (0, 0);
        for entry in self.current()?.secrets.values() {
            let record: SecretRecord = decode(&entry?)?;
            counts.0 += usize::from(record.sealed_value.is_some());
            counts.1 += 1;
        }
        Ok(counts)
    }

    /// The newest records of `owner` that have not expired at `now`, newest
    /// first, at most `limit`.
    pub fn recent(&self, owner: &str, limit: usize, now: u64) -> Result<Vec<Fetched>, StoreError> {
        let Some(account) = self.account(owner)? else {
            return Ok(Vec::new());
        };
        let prefix = owner_prefix(owner);
        let mut out = Vec::new();
        // One database for the whole walk: a compaction's swap waits for the
        // readers that hold the old one, so a reader must not wait for the slot
        // while it holds it.
        let open = self.current()?;
        for key in open.owners.scan_prefix(&prefix).keys().rev() {
            let key = key?;
            let id = key
                .get(prefix.len()..)
                .and_then(|id| id.try_into().ok())
                .map(|id| RecordId::new(u64::from_be_bytes(id)))
                .ok_or(StoreError::Corrupt)?;
            if id.get() <= account.listed_from {
                break; // made before this account existed: an earlier holder's
            }
            if let Some(stored) = read_record(&open, id, now)? {
                out.push(stored);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Indexes record `id` (a secret's or a request's) as due at `due`.
    pub(super) fn expect_at(&self, due: u64, id: RecordId) -> Result<(), StoreError> {
        let key = expiry_key(due, id);
        self.current()?.expiry.insert(key, &[][..])?;
        self.changed(Part::Expiry, &key);
        Ok(())
    }

    /// Applies `change` to the record of `part` under `id` atomically: a
    /// compare-and-swap from `current` (the bytes last read, or read now when
    /// `None`), retried from a fresh read when another write got there first.
    /// `change` says whether it changed anything. The record as written, or
    /// `None` if it is missing or `change` left it alone (then nothing is
    /// written).
    pub(super) fn update<T: Record>(
        &self,
        part: Part,
        id: RecordId,
        mut current: Option<Read>,
        change: impl Fn(&mut T) -> bool,
    ) -> Result<Option<T>, StoreError> {
        let key = id_key(id);
        loop {
            let open = self.current()?;
            let tree = open.records(part);
            let old = match current.take() {
                Some(read) => read,
                None => match tree.get(&key)? {
                    Some(read) => read,
                    None => return Ok(None),
                },
            };
            let mut record: T = decode(old.bytes())?;
            if !change(&mut record) {
                return Ok(None);
            }
            let new = encode(&record)?;
            if tree.compare_and_swap(&key, &old, &new)? {
                self.changed(part, &key);
                return Ok(Some(record));
            }
        }
    }
}

/// The record under `id` in `open`, unless missing or expired at `now`.
fn read_record(open: &Open, id: RecordId, now: u64) -> Result<Option<Fetched>, StoreError> {
    let Some(read) = open.secrets.get(&id_key(id))? else {
        return Ok(None);
    };
    let record: SecretRecord = decode(read.bytes())?;
    Ok((now < record.expires_at).then_some(Fetched {
        id,
        record,
        version: Version::Sled(read),
    }))
}

pub(super) fn id_key(id: RecordId) -> [u8; 8] {
    id.get().to_be_bytes()
}

fn expiry_key(due: u64, id: RecordId) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&due.to_be_bytes());
    key[8..].copy_from_slice(&id_key(id));
    key
}

/// The owner-index key of an account's record; `None` for anonymous records
/// (nobody can list those).
fn owner_key(record: &SecretRecord, id: RecordId) -> Option<Vec<u8>> {
    record.sealed_receipt_key.as_ref()?;
    let mut key = owner_prefix(&record.owner);
    key.extend_from_slice(&id_key(id));
    Some(key)
}

/// `name ‖ 0`: the start of every `owners` key of one account.
pub(super) fn owner_prefix(owner: &str) -> Vec<u8> {
    let mut prefix = owner.as_bytes().to_vec();
    prefix.push(0);
    prefix
}

/// An anonymous secret made at `now`, with a sealed value of `len` bytes; for
/// the store's tests.
#[cfg(test)]
pub(super) fn sample_record(now: u64, ttl: u64, len: usize) -> SecretRecord {
    SecretRecord {
        secret_check: [1; 16],
        receipt_check: [2; 16],
        owner: "anon".into(),
        sealed_value: Some(vec![7; len]),
        stretch: None,
        sealed_secret_key: Some(vec![9; 40]),
        sealed_receipt_key: None,
        ttl,
        created: now,
        updated: now,
        received: None,
        state: crate::store::StoredState::New,
        secret_expires_at: now + ttl,
        expires_at: now + 2 * ttl,
        recipients: Vec::new(),
        share_domain: String::new(),
        kind: crate::store::Kind::Conceal,
        previewed: None,
        sealed_memo: None,
        handover: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_000_000;

    use super::super::open_temp as open;
    use crate::store::StoredState;

    /// Stores a fresh anonymous secret (ttl 100 s); its id.
    fn create(store: &SledStore) -> RecordId {
        let id = store.new_id().unwrap();
        store.insert(id, &sample_record(NOW, 100, 40)).unwrap();
        id
    }

    /// Reads the record (as the vault does) and settles it from that read.
    fn settle(store: &SledStore, id: RecordId, now: u64, how: Settlement) -> bool {
        match store.get(id, now).unwrap() {
            Some(read) => store.settle(&read, now, how).unwrap().is_some(),
            None => false,
        }
    }

    fn reveal(store: &SledStore, id: RecordId, now: u64) -> bool {
        settle(store, id, now, Settlement::Received)
    }

    fn view(store: &SledStore, id: RecordId, now: u64) {
        store
            .mark_viewed(&store.get(id, now).unwrap().unwrap(), now)
            .unwrap();
    }

    fn record(store: &SledStore, id: RecordId) -> SecretRecord {
        store.get(id, NOW).unwrap().unwrap().record
    }

    fn commit(store: &SledStore) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(store.commit()).unwrap();
    }

    fn blob_files(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir.join("db/blobs")).map_or(0, |entries| entries.count())
    }

    /// sled writes a blob file, which a power cut can leave cut short (see
    /// `chunked`), for any node over ~128 KiB: otsd's records never make one,
    /// from concurrent writers of values up to 300 kB, through views, reveals
    /// and burns, and every one reads back whole.
    #[test]
    fn long_secrets_from_many_writers_leave_sled_no_blob_file_to_write() {
        let (dir, store) = open();
        let writers: Vec<_> = (0..4)
            .map(|writer| {
                let store = store.clone();
                std::thread::spawn(move || {
                    (0..60)
                        .map(|n| {
                            let len = [40, 4_000, 10_000, 100_000, 300_000][(writer + n) % 5];
                            let id = store.new_id().unwrap();
                            store.insert(id, &sample_record(NOW, 100, len)).unwrap();
                            (id, len)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let made: Vec<(RecordId, usize)> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        commit(&store);
        for (n, (id, len)) in made.iter().enumerate() {
            assert_eq!(record(&store, *id).sealed_value.unwrap().len(), *len);
            match n % 3 {
                0 => view(&store, *id, NOW + 1),
                1 => assert!(reveal(&store, *id, NOW + 1)),
                _ => assert!(settle(&store, *id, NOW + 1, Settlement::Burned)),
            }
        }
        commit(&store);
        assert_eq!(blob_files(dir.path()), 0, "sled wrote a blob file");
        let (unread, all) = store.counts().unwrap();
        assert_eq!((unread, all), (made.len().div_ceil(3), made.len()));
    }

    /// A database written before chunks (format 2) holds long records whole:
    /// opening it moves them into chunks and marks it format 4.
    #[test]
    fn a_format_2_database_with_long_records_is_converted_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (long, short) = (RecordId::new(10), RecordId::new(11));
        {
            let store = SledStore::open(&path, 1 << 20).unwrap();
            let open = store.current().unwrap();
            let plain = open.db.open_tree("secrets").unwrap();
            for (id, len) in [(long, 50_000), (short, 40)] {
                plain
                    .insert(id_key(id), encode(&sample_record(NOW, 100, len)).unwrap())
                    .unwrap();
            }
            open.db.insert(b"otsd.format", &b"2"[..]).unwrap();
            drop(open);
            commit(&store);
        }
        let store = SledStore::open(&path, 1 << 20).unwrap();
        assert_eq!(record(&store, long).sealed_value.unwrap().len(), 50_000);
        assert_eq!(record(&store, short).sealed_value.unwrap().len(), 40);
        let open = store.current().unwrap();
        assert_eq!(&*open.db.get(b"otsd.format").unwrap().unwrap(), b"4");
        let stored = open.db.open_tree("secrets").unwrap();
        assert!(stored.get(id_key(long)).unwrap().unwrap().len() < 64);
        assert!(reveal(&store, long, NOW + 1));
    }

    #[test]
    fn ids_increase() {
        let (_dir, store) = open();
        let (a, b) = (create(&store), create(&store));
        assert!(a < b);
    }

    #[test]
    fn a_reveal_settles_the_record_and_drops_the_value_once() {
        let (_dir, store) = open();
        let id = create(&store);
        assert!(reveal(&store, id, NOW + 1));
        let settled = record(&store, id);
        assert_eq!(settled.state, StoredState::Received);
        assert_eq!(settled.received, Some(NOW + 1));
        assert_eq!(
            (settled.sealed_value, settled.sealed_secret_key),
            (None, None)
        );
        assert!(!reveal(&store, id, NOW + 2));
        assert!(!settle(&store, id, NOW + 2, Settlement::Burned));
        assert_eq!(record(&store, id).state, StoredState::Received);
    }

    #[test]
    fn a_burned_secret_cannot_be_revealed() {
        let (_dir, store) = open();
        let id = create(&store);
        let read = store.get(id, NOW + 1).unwrap().unwrap();
        let burned = store.settle(&read, NOW + 1, Settlement::Burned).unwrap();
        assert_eq!(burned.unwrap().state, StoredState::Burned);
        assert!(!reveal(&store, id, NOW + 1));
        assert_eq!(record(&store, id).sealed_value, None);
    }

    #[test]
    fn an_expired_secret_is_neither_revealed_nor_burned() {
        let (_dir, store) = open();
        let id = create(&store);
        assert!(!reveal(&store, id, NOW + 100));
        assert!(!settle(&store, id, NOW + 100, Settlement::Burned));
        assert_eq!(record(&store, id).state, StoredState::New);
        assert!(
            store.get(id, NOW + 200).unwrap().is_none(),
            "the record too"
        );
    }

    #[test]
    fn viewing_moves_only_a_new_secret_and_a_reveal_still_wins() {
        let (_dir, store) = open();
        let id = create(&store);
        view(&store, id, NOW + 1);
        assert_eq!(record(&store, id).state, StoredState::Viewed);
        assert!(reveal(&store, id, NOW + 2));
        view(&store, id, NOW + 3);
        assert_eq!(record(&store, id).state, StoredState::Received);
    }

    /// A record that changed after it was read (here: viewed) is read again, and
    /// the settlement is decided on what is there now.
    #[test]
    fn a_settlement_from_a_stale_read_is_decided_afresh() {
        let (_dir, store) = open();
        let id = create(&store);
        let stale = store.get(id, NOW).unwrap().unwrap();
        view(&store, id, NOW);
        let settled = store.settle(&stale, NOW, Settlement::Received).unwrap();
        assert_eq!(settled.unwrap().state, StoredState::Received);
        assert!(
            store
                .settle(&stale, NOW, Settlement::Burned)
                .unwrap()
                .is_none()
        );
    }

    /// Reveals, burns and views from many threads at once, over many secrets: each
    /// secret is settled by exactly one of them.
    #[test]
    fn concurrent_reveals_burns_and_views_have_exactly_one_winner_per_secret() {
        let (_dir, store) = open();
        let ids: Vec<_> = (0..40).map(|_| create(&store)).collect();
        let winners = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for thread in 0..9 {
                let (store, ids, winners) = (&store, &ids, &winners);
                scope.spawn(move || {
                    for &id in ids {
                        let how = match thread % 3 {
                            0 => Settlement::Received,
                            1 => Settlement::Burned,
                            _ => {
                                view(store, id, NOW);
                                continue;
                            }
                        };
                        if settle(store, id, NOW, how) {
                            winners.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        assert_eq!(winners.into_inner(), ids.len());
        for &id in &ids {
            let settled = record(&store, id);
            assert!(matches!(
                settled.state,
                StoredState::Received | StoredState::Burned
            ));
            assert_eq!(settled.sealed_value, None);
        }
    }

    #[test]
    fn the_reaper_drops_the_value_at_expiry_and_the_record_at_twice_the_ttl() {
        let (_dir, store) = open();
        let id = create(&store);
        let discarded = create(&store);
        store.discard(discarded).unwrap();
        assert_eq!(store.counts().unwrap(), (1, 1));
        assert_eq!(store.purge_expired(NOW + 99, 100).unwrap(), 0);
        assert_eq!(store.purge_expired(NOW + 100, 100).unwrap(), 1);
        assert_eq!(store.counts().unwrap(), (0, 1));
        let expired = store.get(id, NOW + 100).unwrap().unwrap().record;
        assert_eq!(expired.sealed_secret_key, None);
        assert_eq!(store.purge_expired(NOW + 199, 100).unwrap(), 0, "moved on");
        assert_eq!(store.purge_expired(NOW + 200, 100).unwrap(), 1);
        assert_eq!(store.counts().unwrap(), (0, 0));
        assert!(store.current().unwrap().expiry.is_empty());
    }

    /// What a crash between writing the record's second expiry entry and removing
    /// its first leaves: both. The record is still handled once at each.
    #[test]
    fn an_entry_left_twice_by_a_crash_is_harmless() {
        let (_dir, store) = open();
        let id = create(&store);
        store
            .current()
            .unwrap()
            .expiry
            .insert(expiry_key(NOW + 200, id), &[][..])
            .unwrap();
        assert_eq!(store.purge_expired(NOW + 100, 100).unwrap(), 1);
        assert_eq!(store.current().unwrap().expiry.len(), 1);
        assert_eq!(store.purge_expired(NOW + 200, 100).unwrap(), 1);
        assert_eq!(store.counts().unwrap(), (0, 0));
        assert!(store.current().unwrap().expiry.is_empty());
    }
}
