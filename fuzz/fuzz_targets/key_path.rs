//! Fuzz target `key_path`: see `tests/fuzz/checks.rs`, `key_path`.
#![no_main]

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::key_path(data));
