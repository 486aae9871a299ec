//! What the store counts for `/metrics`: live secrets and receipts, secrets the
//! reaper expired, and each group commit's batch and flush time.
//!
//! The gauges are kept by the operations that change them (a create adds one of
//! each, a reveal or burn or expiry takes a live secret away, the reaper's last
//! sweep of a record takes the receipt away), from a count taken when the
//! database is opened. That count reads every record (about a second per
//! million), so it is taken only when metrics are on ([`super::Options`]).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use crate::telemetry::{BATCH_BUCKETS, Counter, Histogram, LATENCY_BUCKETS, histogram};

pub struct Tally {
    counted: AtomicBool,
    unread: AtomicI64,
    records: AtomicI64,
    /// Secrets whose value the reaper dropped unread.
    pub expired: Counter,
    /// Writes per group commit.
    pub batch: Histogram,
    /// Seconds per group commit's flush.
    pub flush: Histogram,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            counted: AtomicBool::new(false),
            unread: AtomicI64::new(0),
            records: AtomicI64::new(0),
            expired: Counter::default(),
            batch: histogram(BATCH_BUCKETS),
            flush: histogram(LATENCY_BUCKETS),
        }
    }
}

impl Tally {
    /// Starts the gauges from a count (see the module's comment).
    pub(super) fn start_from(&self, unread: usize, records: usize) {
        self.unread.fetch_add(unread as i64, Ordering::Relaxed);
        self.records.fetch_add(records as i64, Ordering::Relaxed);
        self.counted.store(true, Ordering::Relaxed);
    }

    /// A record was written, holding its value.
    pub(super) fn created(&self) {
        self.unread.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(1, Ordering::Relaxed);
    }

    /// A record's value went (revealed, burned, expired).
    pub(super) fn settled(&self) {
        self.unread.fetch_sub(1, Ordering::Relaxed);
    }

    /// A record went; `unread` if it still held its value.
    pub(super) fn removed(&self, unread: bool) {
        self.records.fetch_sub(1, Ordering::Relaxed);
        if unread {
            self.settled();
        }
    }

    /// `(live secrets, receipts)`, if the store counted them when it opened.
    pub fn live(&self) -> Option<(u64, u64)> {
        self.counted.load(Ordering::Relaxed).then(|| {
            let get = |n: &AtomicI64| n.load(Ordering::Relaxed).max(0) as u64;
            (get(&self.unread), get(&self.records))
        })
    }
}
