//! Accounts: one record per name. Each change is flushed before it returns
//! (accounts change rarely, and an acknowledged token must survive a crash).

use super::copy::Part;
use super::durable::Flusher;
use super::records::{decode, encode};
use super::secrets::owner_prefix;
use super::{AccountRecord, SledStore, StoreError};
use std::collections::HashMap;

/// The extid → name index of `accounts`, giving an extid to every account
/// that has none (one written before extids existed), durably, first.
pub(super) fn index_extids(
    accounts: &sled::Tree,
    flusher: &Flusher,
) -> Result<HashMap<String, String>, StoreError> {
    let mut index = HashMap::new();
    let mut given = 0;
    for entry in accounts.iter() {
        let (name, bytes) = entry?;
        let mut record: AccountRecord = decode(&bytes)?;
        if record.extid.is_empty() {
            record.extid = crate::store::new_extid();
            accounts.insert(&name, encode(&record)?)?;
            given += 1;
        }
        index.insert(record.extid, String::from_utf8_lossy(&name).into_owned());
    }
    if given > 0 {
        flusher.flush()?;
        log::info!(
            "gave {} their extid (the name the official client sends)",
            crate::format::count(given, "account", "accounts")
        );
    }
    Ok(index)
}

impl SledStore {
    /// Creates an account; `false` (and no change) if the name is taken. Durable
    /// when it returns.
    pub fn create_account(&self, name: &str, record: &AccountRecord) -> Result<bool, StoreError> {
        let _writing = self.writing();
        let swapped = self.current()?.accounts.compare_and_swap(
            name.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(record)?),
        )?;
        self.changed(Part::Accounts, name.as_bytes());
        self.current()?.flusher.flush()?;
        if swapped.is_ok() {
            self.index_extid(name, None, Some(record));
        }
        Ok(swapped.is_ok())
    }

    /// Replaces an existing account's record; `false` if there is no such account.
    /// Durable when it returns.
    pub fn update_account(&self, name: &str, record: &AccountRecord) -> Result<bool, StoreError> {
        let _writing = self.writing();
        let bytes = encode(record)?;
        let old = self
            .current()?
            .accounts
            .fetch_and_update(name.as_bytes(), |old| old.map(|_| bytes.clone()))?;
        self.changed(Part::Accounts, name.as_bytes());
        self.current()?.flusher.flush()?;
        let old: Option<AccountRecord> = old.map(|b| decode(&b)).transpose()?;
        if old.is_some() {
            self.index_extid(name, old.as_ref(), Some(record));
        }
        Ok(old.is_some())
    }

    /// Deletes an account; `false` if there was none. Durable when it returns.
    pub fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        let _writing = self.writing();
        // The name may later be given to someone else: its listing goes (the
        // receipts stay readable by their keys). `listed_from` hides whatever a
        // crash or a racing create leaves behind here.
        let mut unlist = sled::Batch::default();
        for key in self
            .current()?
            .owners
            .scan_prefix(owner_prefix(name))
            .keys()
        {
            let key = key?;
            self.changed(Part::Owners, &key);
            unlist.remove(key);
        }
        self.current()?.owners.apply_batch(unlist)?;
        let removed = self.current()?.accounts.remove(name.as_bytes())?;
        self.changed(Part::Accounts, name.as_bytes());
        self.current()?.flusher.flush()?;
        let removed: Option<AccountRecord> = removed.map(|b| decode(&b)).transpose()?;
        if removed.is_some() {
            self.index_extid(name, removed.as_ref(), None);
        }
        Ok(removed.is_some())
    }

    /// One account's record.
    pub fn account(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.current()?
            .accounts
            .get(name.as_bytes())?
            .map(|b| decode(&b))
            .transpose()
    }

    /// The account whose extid is `extid`, with its name. The record itself
    /// must carry the extid: the index only says where to look.
    pub fn account_by_extid(
        &self,
        extid: &str,
    ) -> Result<Option<(String, AccountRecord)>, StoreError> {
        let open = self.current()?;
        let name = open
            .extids
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(extid)
            .cloned();
        let Some(name) = name else {
            return Ok(None);
        };
        Ok(self
            .account(&name)?
            .filter(|record| record.extid == extid)
            .map(|record| (name, record)))
    }

    /// Moves the index from `old`'s extid to `new`'s.
    fn index_extid(&self, name: &str, old: Option<&AccountRecord>, new: Option<&AccountRecord>) {
        let Ok(open) = self.current() else {
            return;
        };
        let mut index = open.extids.write().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = old {
            index.remove(&old.extid);
        }
        if let Some(new) = new {
            index.insert(new.extid.clone(), name.to_owned());
        }
    }

    /// Every account, by name.
    pub fn accounts(&self) -> Result<Vec<(String, AccountRecord)>, StoreError> {
        self.current()?
            .accounts
            .iter()
            .map(|entry| {
                let (name, bytes) = entry?;
                Ok((String::from_utf8_lossy(&name).into_owned(), decode(&bytes)?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An account written before extids (format 2) gets one when the
    /// database opens, keeps it across later opens, and is found by it.
    #[test]
    fn an_account_of_format_2_gets_an_extid_that_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, 1 << 20).unwrap();
            let mut old = vec![2u8];
            postcard::to_io(&([5u8; 32], 1u64, 2u64, 3u64), &mut old).unwrap();
            store
                .current()
                .unwrap()
                .accounts
                .insert("alice", old)
                .unwrap();
            store.current().unwrap().flusher.flush().unwrap();
        }
        let extid = {
            let store = SledStore::open(&path, 1 << 20).unwrap();
            let alice = store.account("alice").unwrap().unwrap();
            assert!(crate::store::looks_like_extid(&alice.extid));
            assert_eq!(alice.listed_from, 3);
            let (name, found) = store.account_by_extid(&alice.extid).unwrap().unwrap();
            assert_eq!((name.as_str(), found.token_hash), ("alice", [5; 32]));
            alice.extid
        };
        let store = SledStore::open(&path, 1 << 20).unwrap();
        assert_eq!(store.account("alice").unwrap().unwrap().extid, extid);
        assert!(store.account_by_extid("urnosuchaccount").unwrap().is_none());
        // Removed, it is not found by its extid either.
        assert!(store.remove_account("alice").unwrap());
        assert!(store.account_by_extid(&extid).unwrap().is_none());
    }
}
