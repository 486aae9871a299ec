//! Fuzz target `params_nested`: see `tests/fuzz/checks.rs`, `nested_body`.
#![no_main]

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::nested_body(data));
