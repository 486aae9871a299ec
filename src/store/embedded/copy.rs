//! Copying the database's contents into a fresh database: the one cut that a
//! backup, a restore and a compaction share.
//!
//! sled 0.34 offers no snapshot: its iterators walk the live trees, so a copy
//! taken while requests run could hold a secret's record from before its reveal
//! and an account from after a removal. A copy is therefore cut while writes
//! are paused ([`SledStore::pause_writes`]): every change of the database takes the
//! write gate shared, the cut takes it alone. Writes wait for the cut, they do
//! not fail; reads go on.
//!
//! sled's id generator is not part of any tree, and a fresh database starts it
//! at 0; record ids must never repeat (a secret's key is its id sealed), so a
//! copy carries the next free id and the fresh database adds it to every id it
//! issues (`otsd.id-floor`).

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLockReadGuard, RwLockWriteGuard};

use sled::IVec;

use super::chunked::RecordTree;
use super::{SledStore, StoreError};
pub(in crate::store) use crate::store::backup::{KEY_CHECK, Part};

/// The sled tree holding `part`; `None` for the default tree.
fn tree(part: Part) -> Option<&'static str> {
    match part {
        Part::KeyCheck => None,
        Part::Secrets => Some("secrets"),
        Part::Expiry => Some("expiry"),
        Part::Owners => Some("owners"),
        Part::Accounts => Some("accounts"),
        Part::Requests => Some("requests"),
    }
}

/// The default tree's record of the id floor: added to every id sled issues.
const ID_FLOOR: &[u8] = b"otsd.id-floor";

/// The id floor of `db` (0 for a database that was never a copy).
pub(super) fn id_floor(db: &sled::Db) -> Result<u64, StoreError> {
    match db.get(ID_FLOOR)? {
        None => Ok(0),
        Some(bytes) => (*bytes)
            .try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| StoreError::Corrupt),
    }
}

/// An id larger than every id `db` issued before, also across restarts (sled
/// persists its generator ahead of use).
pub(super) fn next_id(db: &sled::Db, floor: u64) -> Result<u64, StoreError> {
    floor
        .checked_add(db.generate_id()?)
        .ok_or(StoreError::Corrupt)
}

/// Takes the entries of a copy one by one; `Break` ends the walk early.
pub(super) type Sink<'s> =
    dyn FnMut(Part, &[u8], &[u8]) -> Result<ControlFlow<()>, StoreError> + 's;

/// Hands every entry of `db` that a copy carries to `sink`, part by part, in
/// key order, until it breaks; returns how many it took. Consistent only while
/// nothing writes to `db`.
pub(super) fn read_all(db: &sled::Db, sink: &mut Sink<'_>) -> Result<u64, StoreError> {
    let mut count = 0;
    for part in Part::ALL {
        let entries: Box<dyn Iterator<Item = Result<(IVec, IVec), StoreError>>> =
            match PartTree::open(db, part)? {
                PartTree::Default => Box::new(
                    db.get(KEY_CHECK)?
                        .map(|check| Ok((IVec::from(KEY_CHECK), check)))
                        .into_iter(),
                ),
                PartTree::Plain(tree) => {
                    Box::new(tree.iter().map(|entry| entry.map_err(StoreError::from)))
                }
                PartTree::Records(tree) => Box::new(tree.iter()),
            };
        for entry in entries {
            let (key, value) = entry?;
            count += 1;
            if sink(part, &key, &value)?.is_break() {
                return Ok(count);
            }
        }
    }
    Ok(count)
}

/// Where a part is kept in a database: the default tree, a plain tree, or a
/// tree of records that may be stored in chunks (see `chunked`).
enum PartTree {
    Default,
    Plain(sled::Tree),
    Records(RecordTree),
}

impl PartTree {
    fn open(db: &sled::Db, part: Part) -> Result<Self, StoreError> {
        Ok(match (part, tree(part)) {
            (_, None) => Self::Default,
            (Part::Secrets | Part::Requests, Some(name)) => {
                Self::Records(RecordTree::open(db, name)?)
            }
            (_, Some(name)) => Self::Plain(db.open_tree(name)?),
        })
    }
}

/// Writes entries into a fresh database.
pub(super) struct Filler {
    db: sled::Db,
    trees: Vec<PartTree>,
}

impl Filler {
    /// Replaces the id floor (see the module's comment).
    pub(super) fn set_floor(&self, next_id: u64) -> Result<(), StoreError> {
        self.db.insert(ID_FLOOR, &next_id.to_be_bytes())?;
        Ok(())
    }

    /// Makes `key` of `part` hold `value`, or not exist.
    pub(super) fn set(
        &self,
        part: Part,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let index = Part::ALL.iter().position(|p| *p == part).unwrap_or(0);
        let tree = match &self.trees[index] {
            PartTree::Records(tree) => {
                match value {
                    Some(value) => tree.insert(key, value)?,
                    None => drop(tree.remove(key)?),
                }
                return Ok(());
            }
            PartTree::Plain(tree) => tree,
            PartTree::Default => &self.db,
        };
        match value {
            Some(value) => tree.insert(key, value)?,
            None => tree.remove(key)?,
        };
        Ok(())
    }

    /// A filler for `db`, whose ids will start at `next_id`.
    pub(super) fn new(db: &sled::Db, next_id: u64) -> Result<Self, StoreError> {
        db.insert(ID_FLOOR, &next_id.to_be_bytes())?;
        let trees = Part::ALL
            .into_iter()
            .map(|part| PartTree::open(db, part))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            db: db.clone(),
            trees,
        })
    }

    /// Writes one entry; never breaks a walk (the `ControlFlow` lets it be a sink).
    pub(super) fn put(
        &self,
        part: Part,
        key: &[u8],
        value: &[u8],
    ) -> Result<ControlFlow<()>, StoreError> {
        let index = Part::ALL.iter().position(|p| *p == part).unwrap_or(0);
        match &self.trees[index] {
            PartTree::Records(tree) => tree.insert(key, value)?,
            PartTree::Plain(tree) => drop(tree.insert(key, value)?),
            PartTree::Default if key == KEY_CHECK => drop(self.db.insert(key, value)?),
            PartTree::Default => return Err(StoreError::Corrupt),
        };
        Ok(ControlFlow::Continue(()))
    }
}

/// The keys changed while a compaction of the running server copies the
/// database (writes go on meanwhile): copied again, from the old database,
/// once writes are paused for the swap.
#[derive(Default)]
pub(super) struct Changes {
    on: AtomicBool,
    keys: Mutex<HashSet<(Part, Vec<u8>)>>,
}

impl Changes {
    /// Starts noting. Call it with writes paused: every write after it is noted.
    pub(super) fn start(&self) {
        self.on.store(true, Ordering::SeqCst);
    }

    /// Stops noting and hands over what was noted. Call it with writes paused.
    pub(super) fn finish(&self) -> HashSet<(Part, Vec<u8>)> {
        self.on.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.keys.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn note(&self, part: Part, key: &[u8]) {
        if self.on.load(Ordering::SeqCst) {
            self.keys
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((part, key.to_vec()));
        }
    }
}

/// Noting changes for as long as it lives (stopped on every way out of a
/// compaction, a panic of sled's included: a set left filling would grow for
/// ever).
pub(super) struct Noting<'a>(&'a SledStore);

impl<'a> Noting<'a> {
    /// Starts noting, with writes paused for the moment: every write after it
    /// is noted, every write before it has ended.
    pub(super) fn start(store: &'a SledStore) -> Self {
        let _paused = store.pause_writes();
        store.changes.start();
        Self(store)
    }
}

impl Drop for Noting<'_> {
    fn drop(&mut self) {
        let _ = self.0.changes.finish();
    }
}

impl SledStore {
    /// Notes that a write changed `key` (for a compaction under way; see
    /// [`Changes`]). Every write calls it for every key it changes.
    pub(super) fn changed(&self, part: Part, key: &[u8]) {
        self.changes.note(part, key);
    }

    /// Taken (shared) by every change of the database; see [`SledStore::pause_writes`].
    pub(super) fn writing(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the changes under way and holds every new one back until the
    /// guard is dropped. Reads go on. Do not call it from a thread that writes.
    pub(super) fn pause_writes(&self) -> RwLockWriteGuard<'_, ()> {
        self.gate.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Pauses writes for a consistent copy, until the [`Cut`] is dropped.
    pub(super) fn cut(&self) -> Result<Cut<'_>, StoreError> {
        let paused = self.pause_writes();
        Ok(Cut {
            next_id: self.next_free_id()?,
            open: self.current()?,
            started: std::time::Instant::now(),
            _paused: paused,
        })
    }
}

/// The database with its writes paused.
pub(super) struct Cut<'a> {
    /// The copy's id floor: larger than every id issued before the cut.
    pub(super) next_id: u64,
    open: std::sync::Arc<super::Open>,
    started: std::time::Instant,
    _paused: RwLockWriteGuard<'a, ()>,
}

impl Cut<'_> {
    /// See [`read_all`].
    pub(super) fn read_all(&self, sink: &mut Sink<'_>) -> Result<u64, StoreError> {
        read_all(&self.open.db, sink)
    }
}

impl Drop for Cut<'_> {
    fn drop(&mut self) {
        log::info!(
            "writes resumed after a pause of {} ms for a copy",
            self.started.elapsed().as_millis()
        );
    }
}
