//! Accounts: one record per name. Each change is flushed before it returns
//! (accounts change rarely, and an acknowledged token must survive a crash).

use super::copy::Part;
use super::records::{decode, encode};
use super::secrets::owner_prefix;
use super::{AccountRecord, SledStore, StoreError};

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
        Ok(swapped.is_ok())
    }

    /// Replaces an existing account's record; `false` if there is no such account.
    /// Durable when it returns.
    pub fn update_account(&self, name: &str, record: &AccountRecord) -> Result<bool, StoreError> {
        let _writing = self.writing();
        let bytes = encode(record)?;
        let mut found = false;
        self.current()?
            .accounts
            .fetch_and_update(name.as_bytes(), |old| {
                found = old.is_some();
                old.map(|_| bytes.clone())
            })?;
        self.changed(Part::Accounts, name.as_bytes());
        self.current()?.flusher.flush()?;
        Ok(found)
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
        let removed = self.current()?.accounts.remove(name.as_bytes())?.is_some();
        self.changed(Part::Accounts, name.as_bytes());
        self.current()?.flusher.flush()?;
        Ok(removed)
    }

    /// One account's record.
    pub fn account(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.current()?
            .accounts
            .get(name.as_bytes())?
            .map(|b| decode(&b))
            .transpose()
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
