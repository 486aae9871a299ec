//! Web sessions in sled: one small record per session, under a keyed hash of
//! its cookie. Sessions are few (people, not secrets): the reaper's sweep reads
//! them all.

use super::records::{decode, encode};
use super::{SledStore, StoreError};
use crate::store::SessionRecord;

impl SledStore {
    /// Writes a session (new, or moved on). Durable after `commit`.
    pub fn put_session(&self, id: &[u8; 32], record: &SessionRecord) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.current()?.sessions.insert(id, encode(record)?)?;
        Ok(())
    }

    pub fn session(&self, id: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        self.current()?
            .sessions
            .get(id)?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// Removes a session. Durable after `commit`.
    pub fn end_session(&self, id: &[u8; 32]) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.current()?.sessions.remove(id)?;
        Ok(())
    }

    /// Removes at most `limit` sessions that ended at `now`; returns how many.
    /// A session that cannot be read is removed too: it cannot be used.
    pub fn purge_sessions(&self, now: u64, limit: usize) -> Result<usize, StoreError> {
        let _writing = self.writing();
        let open = self.current()?;
        let mut ended = Vec::new();
        for entry in open.sessions.iter() {
            let (id, bytes) = entry?;
            let over = decode::<SessionRecord>(&bytes).map_or(true, |s| s.ends_at() <= now);
            if over {
                ended.push(id);
                if ended.len() >= limit {
                    break;
                }
            }
        }
        for id in &ended {
            open.sessions.remove(id)?;
        }
        Ok(ended.len())
    }
}
