//! Records kept small enough that sled never writes a blob file, so that no
//! power cut can leave a database that never opens again.
//!
//! sled 0.34.7 writes any log message of more than a quarter of a segment
//! (about 128 KiB with its default 512 KiB segments) to a file of its own in
//! `blobs/` and puts a pointer to that file in its log. It writes the file while
//! it reserves the pointer's place in the log, never syncs it, and at recovery
//! stops at the first blob it cannot read whole, after which it panics or
//! calls the database corrupt. Such a message is a large value, but also a leaf
//! node rewritten whole (up to 16 records before sled splits it): two 100 kB
//! secrets side by side are enough, and the blobs found cut short after power
//! cuts were such leaves, of 190–200 kB. No flush from outside sled can order
//! the blob before its pointer: the pointer can reach the disk at any time,
//! through sled's own background flush and the kernel's writeback.
//!
//! So otsd never hands sled a value longer than [`CHUNK`]: a record whose
//! encoding is longer is stored as chunks of at most that size in a second tree
//! (`<tree>.chunks`), and its own tree holds a small stub naming them. Then a
//! node holds at most 16-odd values of at most 4 KiB, far below the threshold,
//! every message sled writes goes into its log, and the log's checksums and
//! `fdatasync` (see `durable`) are the whole story of what survives a cut.
//!
//! A stub names its chunks by a generation drawn at random for each write, so
//! it differs from every stub before it: a compare-and-swap from a stub read
//! earlier fails if the record was written since, exactly as it would for the
//! record's own bytes. Chunks are written before the stub that names them and
//! removed after it, so a crash can leave chunks that no stub names but never a
//! stub without its chunks (sled's log is recovered as a prefix); [`RecordTree::sweep`]
//! removes the leftovers when the database opens.

use sled::IVec;

use super::StoreError;

/// The longest value otsd hands to sled: a record's encoding up to this length
/// is stored as it is, a longer one in chunks of this length. A leaf of 16
/// such values, plus the few sled lets a busy leaf gather before it splits,
/// stays well under sled's blob threshold (131,052 bytes with 512 KiB segments).
pub(super) const CHUNK: usize = 4096;

/// The first byte of a stub; a record's encoding starts with its version (2).
const STUB: u8 = 0xC5;
/// `STUB`, the generation (u64), the record's length (u32).
const STUB_LEN: usize = 1 + 8 + 4;

/// A record as read: its bytes, and the token a compare-and-swap from it takes
/// (the tree's own value: the bytes themselves, or the stub naming them).
#[derive(Debug, Clone)]
pub struct Read {
    pub(super) token: IVec,
    pub(super) bytes: IVec,
}

impl Read {
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A tree of records of any length, none of which sled sees longer than
/// [`CHUNK`].
#[derive(Clone)]
pub(super) struct RecordTree {
    main: sled::Tree,
    chunks: sled::Tree,
}

impl RecordTree {
    /// The tree `name` and its chunks (`name.chunks`) in `db`.
    pub(super) fn open(db: &sled::Db, name: &str) -> Result<Self, StoreError> {
        Ok(Self {
            main: db.open_tree(name)?,
            chunks: db.open_tree(format!("{name}.chunks"))?,
        })
    }

    /// The record under `key`, whole.
    pub(super) fn get(&self, key: &[u8]) -> Result<Option<Read>, StoreError> {
        loop {
            let Some(token) = self.main.get(key)? else {
                return Ok(None);
            };
            match self.assemble(key, &token)? {
                Some(bytes) => return Ok(Some(Read { token, bytes })),
                // Its chunks went with a write since the stub was read: read again.
                None if self.main.get(key)?.as_ref() != Some(&token) => continue,
                None => return Err(StoreError::Corrupt),
            }
        }
    }

    /// Makes `key` hold `bytes`, whatever it held before.
    pub(super) fn insert(&self, key: &[u8], bytes: &[u8]) -> Result<(), StoreError> {
        let token = self.stage(key, bytes)?;
        let old = self.main.insert(key, token)?;
        self.drop_chunks(key, old.as_deref())
    }

    /// Removes the record under `key`; whether there was one.
    pub(super) fn remove(&self, key: &[u8]) -> Result<bool, StoreError> {
        let old = self.main.remove(key)?;
        self.drop_chunks(key, old.as_deref())?;
        Ok(old.is_some())
    }

    /// Replaces the record under `key` with `new` if it is still as `old` read
    /// it; whether it was.
    pub(super) fn compare_and_swap(
        &self,
        key: &[u8],
        old: &Read,
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let token = self.stage(key, new)?;
        if self
            .main
            .compare_and_swap(key, Some(&old.token), Some(token.clone()))?
            .is_ok()
        {
            self.drop_chunks(key, Some(&old.token))?;
            Ok(true)
        } else {
            // Lost the race: the chunks staged for it are nobody's.
            self.drop_chunks(key, Some(&token))?;
            Ok(false)
        }
    }

    /// Every record, in key order, whole.
    pub(super) fn iter(&self) -> impl Iterator<Item = Result<(IVec, IVec), StoreError>> + 'static {
        let this = self.clone();
        self.main.iter().filter_map(move |entry| {
            let read = || -> Result<Option<(IVec, IVec)>, StoreError> {
                let (key, token) = entry?;
                Ok(match this.assemble(&key, &token)? {
                    Some(bytes) => Some((key, bytes)),
                    // Changed under the walk: the record as it is now, if any.
                    None => this.get(&key)?.map(|read| (key, read.bytes)),
                })
            };
            read().transpose()
        })
    }

    /// Every record, whole.
    pub(super) fn values(&self) -> impl Iterator<Item = Result<IVec, StoreError>> + 'static {
        self.iter().map(|entry| entry.map(|(_, bytes)| bytes))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.main.is_empty()
    }

    /// Stores every record longer than [`CHUNK`] that is still stored whole
    /// (written by an otsd before chunks) in chunks; how many it moved.
    pub(super) fn split_long_records(&self) -> Result<usize, StoreError> {
        let mut moved = 0;
        for entry in self.main.iter() {
            let (key, value) = entry?;
            if value.len() > CHUNK && value.first() != Some(&STUB) {
                self.insert(&key, &value)?;
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Removes the chunks no stub names: what a crash between writing chunks
    /// and their stub (or between a stub's removal and its chunks') left. Call
    /// it before anything writes. How many it removed.
    pub(super) fn sweep(&self) -> Result<usize, StoreError> {
        let mut removed = 0;
        let mut named: Option<(Vec<u8>, Option<IVec>)> = None;
        for key in self.chunks.iter().keys() {
            let key = key?;
            let (record, generation) = split_chunk_key(&key).ok_or(StoreError::Corrupt)?;
            if named.as_ref().map(|(k, _)| k.as_slice()) != Some(record) {
                named = Some((record.to_vec(), self.main.get(record)?));
            }
            let stub = named.as_ref().and_then(|(_, stub)| stub.as_deref());
            if stub.and_then(generation_of) != Some(generation) {
                self.chunks.remove(&key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Writes the chunks of a record that needs them; the tree's value for it
    /// (the bytes themselves, or the stub).
    fn stage(&self, key: &[u8], bytes: &[u8]) -> Result<IVec, StoreError> {
        if bytes.len() <= CHUNK {
            return Ok(IVec::from(bytes));
        }
        let length = u32::try_from(bytes.len()).map_err(|_| StoreError::Corrupt)?;
        let generation: u64 = rand::random();
        for (index, chunk) in bytes.chunks(CHUNK).enumerate() {
            let index = u32::try_from(index).map_err(|_| StoreError::Corrupt)?;
            self.chunks
                .insert(chunk_key(key, generation, Some(index)), chunk)?;
        }
        let mut stub = Vec::with_capacity(STUB_LEN);
        stub.push(STUB);
        stub.extend_from_slice(&generation.to_be_bytes());
        stub.extend_from_slice(&length.to_be_bytes());
        Ok(IVec::from(stub))
    }

    /// The record a tree value stands for; `None` if it is a stub whose chunks
    /// are not all there.
    fn assemble(&self, key: &[u8], token: &IVec) -> Result<Option<IVec>, StoreError> {
        let Some((generation, length)) = parse_stub(token) else {
            return Ok(Some(token.clone()));
        };
        let mut bytes = Vec::with_capacity(length);
        for chunk in self
            .chunks
            .scan_prefix(chunk_key(key, generation, None))
            .values()
        {
            bytes.extend_from_slice(&chunk?);
        }
        Ok((bytes.len() == length).then(|| IVec::from(bytes)))
    }

    /// Removes the chunks `token` names, if it is a stub.
    fn drop_chunks(&self, key: &[u8], token: Option<&[u8]>) -> Result<(), StoreError> {
        let Some(generation) = token.and_then(generation_of) else {
            return Ok(());
        };
        for chunk in self
            .chunks
            .scan_prefix(chunk_key(key, generation, None))
            .keys()
        {
            self.chunks.remove(chunk?)?;
        }
        Ok(())
    }
}

fn parse_stub(value: &[u8]) -> Option<(u64, usize)> {
    if value.len() != STUB_LEN || value[0] != STUB {
        return None;
    }
    let generation = u64::from_be_bytes(value[1..9].try_into().ok()?);
    let length = u32::from_be_bytes(value[9..13].try_into().ok()?);
    Some((generation, usize::try_from(length).ok()?))
}

fn generation_of(value: &[u8]) -> Option<u64> {
    parse_stub(value).map(|(generation, _)| generation)
}

/// `key length (u8) ‖ key ‖ generation ‖ index`, or without the index: the
/// prefix of every chunk of one write.
fn chunk_key(key: &[u8], generation: u64, index: Option<u32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + key.len() + 12);
    out.push(u8::try_from(key.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(key);
    out.extend_from_slice(&generation.to_be_bytes());
    if let Some(index) = index {
        out.extend_from_slice(&index.to_be_bytes());
    }
    out
}

/// The record's key and the generation in a chunk's key.
fn split_chunk_key(chunk: &[u8]) -> Option<(&[u8], u64)> {
    let (&length, rest) = chunk.split_first()?;
    let key = rest.get(..usize::from(length))?;
    let generation = rest.get(usize::from(length)..usize::from(length) + 8)?;
    Some((key, u64::from_be_bytes(generation.try_into().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, sled::Db, RecordTree) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let tree = RecordTree::open(&db, "records").unwrap();
        (dir, db, tree)
    }

    fn long(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn a_long_record_reads_back_whole_and_no_value_sled_sees_is_longer_than_a_chunk() {
        let (_dir, _db, tree) = tree();
        for (n, len) in [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK, 250_000]
            .into_iter()
            .enumerate()
        {
            let key = (n as u64).to_be_bytes();
            let bytes = long(len, n as u8);
            tree.insert(&key, &bytes).unwrap();
            assert_eq!(&*tree.get(&key).unwrap().unwrap().bytes, &bytes[..]);
        }
        for entry in tree.main.iter().chain(tree.chunks.iter()) {
            assert!(entry.unwrap().1.len() <= CHUNK);
        }
        assert_eq!(tree.values().count(), 6);
    }

    #[test]
    fn a_swap_from_a_stale_read_fails_and_leaves_no_chunks_behind() {
        let (_dir, _db, tree) = tree();
        let key = 7u64.to_be_bytes();
        tree.insert(&key, &long(20_000, 1)).unwrap();
        let first = tree.get(&key).unwrap().unwrap();
        assert!(
            tree.compare_and_swap(&key, &first, &long(30_000, 2))
                .unwrap()
        );
        assert!(
            !tree
                .compare_and_swap(&key, &first, &long(10_000, 3))
                .unwrap()
        );
        assert_eq!(
            &*tree.get(&key).unwrap().unwrap().bytes,
            &long(30_000, 2)[..]
        );
        assert_eq!(tree.chunks.len(), 30_000usize.div_ceil(CHUNK));

        let second = tree.get(&key).unwrap().unwrap();
        assert!(tree.compare_and_swap(&key, &second, b"short").unwrap());
        assert!(tree.chunks.is_empty());
        assert!(tree.remove(&key).unwrap());
        assert!(tree.get(&key).unwrap().is_none());
    }

    #[test]
    fn the_sweep_removes_chunks_that_no_stub_names() {
        let (_dir, _db, tree) = tree();
        let kept = 1u64.to_be_bytes();
        tree.insert(&kept, &long(9_000, 1)).unwrap();
        // A crash after the chunks of a write, before its stub.
        tree.stage(&kept, &long(9_000, 2)).unwrap();
        tree.stage(&2u64.to_be_bytes(), &long(9_000, 3)).unwrap();
        assert_eq!(tree.sweep().unwrap(), 6);
        assert_eq!(tree.chunks.len(), 3);
        assert_eq!(
            &*tree.get(&kept).unwrap().unwrap().bytes,
            &long(9_000, 1)[..]
        );
    }

    #[test]
    fn records_stored_whole_by_an_older_otsd_are_split() {
        let (_dir, _db, tree) = tree();
        let bytes = long(100_000, 4);
        tree.main.insert(5u64.to_be_bytes(), &bytes[..]).unwrap();
        tree.main.insert(6u64.to_be_bytes(), &b"short"[..]).unwrap();
        assert_eq!(tree.split_long_records().unwrap(), 1);
        assert_eq!(tree.split_long_records().unwrap(), 0);
        assert_eq!(
            &*tree.get(&5u64.to_be_bytes()).unwrap().unwrap().bytes,
            &bytes[..]
        );
        assert!(tree.main.get(5u64.to_be_bytes()).unwrap().unwrap().len() < 16);
    }

    /// The reason for all of this: sled writes a blob file for a node of
    /// records, not only for one large value, and never for chunks.
    #[test]
    fn sled_writes_blob_files_for_leaves_of_100_kb_values_and_none_for_chunks() {
        let blobs = |dir: &std::path::Path| {
            std::fs::read_dir(dir.join("blobs")).map_or(0, |entries| entries.count())
        };
        let (dir, db, tree) = tree();
        for id in 0..200u64 {
            tree.insert(&id.to_be_bytes(), &long(10_000, id as u8))
                .unwrap();
            tree.insert(&(1_000 + id).to_be_bytes(), &long(CHUNK, id as u8))
                .unwrap();
        }
        db.flush().unwrap();
        assert_eq!(blobs(dir.path()), 0, "no blob for chunks");

        // Each value alone fits in the log; two of them in one leaf do not.
        let plain = db.open_tree("plain").unwrap();
        for id in 0..20u64 {
            plain
                .insert(id.to_be_bytes(), long(100_000, id as u8))
                .unwrap();
        }
        db.flush().unwrap();
        assert!(
            blobs(dir.path()) > 0,
            "sled wrote leaves of 100 kB values as blobs"
        );
    }
}
