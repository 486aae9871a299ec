//! Several otsd nodes over one PostgreSQL database (issue 26), end to end: real
//! `otsd` processes on loopback ports, a real PostgreSQL cluster, and the faults
//! a deployment really has (a node killed, the database restarted, the primary
//! killed and its synchronous standby promoted).
//!
//! Every test sets `OTSD_DATABASE_URL` itself, so the suite runs on PostgreSQL
//! whatever `OTSD_TEST_STORE` says. Run with `cargo test --test cluster`.

// The test kit; `pub` so that the part of it this binary does not use is not
// reported as dead code (see tests/common/mod.rs).
pub mod common;

mod cluster {
    mod at_rest;
    mod connection;
    mod database_restart;
    mod failover;
    mod kit;
    mod migration;
    mod node_killed;
    mod two_nodes;
}
