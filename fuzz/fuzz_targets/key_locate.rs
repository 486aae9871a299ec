//! Fuzz target `key_locate`: see `tests/fuzz/checks.rs`, `key_locate`.
#![no_main]

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::key_locate(data));
