//! End-to-end tests of the compiled `otsd` binary: each test spawns the real
//! process (own temp data directory, port 0 on 127.0.0.1), talks HTTP to it, sends
//! it signals and reads its stderr.
//!
//! Run with `cargo test --test server`.

// The test kit; `pub` so that the part of it this binary does not use is not
// reported as dead code (see tests/common/mod.rs).
pub mod common;

mod server {
    mod backup;
    mod check;
    mod cli;
    mod compaction;
    mod config;
    mod damage;
    mod disk_full;
    mod durability;
    mod hostile;
    mod logs;
    mod master_key;
    mod notify;
    mod postgres_kit;
    mod power_cut;
    mod snapshots;
    mod startup;
}
