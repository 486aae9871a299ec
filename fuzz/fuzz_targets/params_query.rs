//! Fuzz target `params_query`: see `tests/fuzz/checks.rs`, `query_string`.
#![no_main]

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::query_string(data));
