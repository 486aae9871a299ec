//! Fuzz target `params_urlencoded`: see `tests/fuzz/checks.rs`, `urlencoded_body`.
#![no_main]

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::urlencoded_body(data));
