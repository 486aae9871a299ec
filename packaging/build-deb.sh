#!/usr/bin/env bash
# Builds target/debian/otsd_*.deb: the release binary, then the manual page and
# shell completions it generates (`otsd man`, `otsd completions SHELL`), then
# `cargo deb` around them.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked
cargo build --release --locked
mkdir -p target/assets
bin=target/release/otsd
"$bin" man | gzip -9n >target/assets/otsd.1.gz
"$bin" completions bash >target/assets/otsd.bash
"$bin" completions zsh >target/assets/_otsd
"$bin" completions fish >target/assets/otsd.fish
cargo deb --locked --no-build
