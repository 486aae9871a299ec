//! Fuzz target `params_multipart`: see `tests/fuzz/checks.rs`, `multipart_body`.
#![no_main]

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::multipart_body(data));
