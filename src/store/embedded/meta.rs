//! What the database says about itself, in the default tree beside the format
//! marker: the check of the master key it was written with.

use super::copy::{KEY_CHECK, Part};
use super::{SledStore, StoreError};

impl SledStore {
    /// The master key check this database was written with, if it has one (a
    /// database made before checks were kept has none until its next start).
    pub fn key_check(&self) -> Result<Option<[u8; 32]>, StoreError> {
        match self.current()?.db.get(KEY_CHECK)? {
            None => Ok(None),
            Some(bytes) => <[u8; 32]>::try_from(&*bytes)
                .map(Some)
                .map_err(|_| StoreError::Corrupt),
        }
    }

    /// Records the master key check, durably (at start-up, before anything is
    /// served under that key).
    pub fn set_key_check(&self, check: &[u8; 32]) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.current()?.db.insert(KEY_CHECK, &check[..])?;
        self.changed(Part::KeyCheck, KEY_CHECK);
        self.current()?.flusher.flush()
    }

    /// Whether the database holds no secret, no request and no account: nothing a new
    /// master key would make unreadable.
    pub fn holds_nothing(&self) -> Result<bool, StoreError> {
        let open = self.current()?;
        Ok(open.secrets.is_empty() && open.accounts.is_empty() && open.requests.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_check_is_kept_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = SledStore::open(&path, 1 << 20).unwrap();
        assert_eq!(store.key_check().unwrap(), None);
        assert!(store.holds_nothing().unwrap());
        store.set_key_check(&[7; 32]).unwrap();
        store.close().unwrap();
        drop(store);

        let store = SledStore::open(&path, 1 << 20).unwrap();
        assert_eq!(store.key_check().unwrap(), Some([7; 32]));
        assert!(store.holds_nothing().unwrap(), "the check is not a record");
    }
}
