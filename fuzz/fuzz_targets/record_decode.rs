//! Fuzz target `record_decode`: see `tests/fuzz/checks.rs`, `record_decode`.
#![no_main]

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::record_decode(data));
