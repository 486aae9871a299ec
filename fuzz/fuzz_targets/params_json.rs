//! Fuzz target `params_json`: see `tests/fuzz/checks.rs`, `json_body`.
#![no_main]

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::json_body(data));
