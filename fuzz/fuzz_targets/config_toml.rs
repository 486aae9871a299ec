//! Fuzz target `config_toml`: see `tests/fuzz/checks.rs`, `config_toml`.
#![no_main]

#[path = "../../tests/fuzz/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::config_toml(data));
