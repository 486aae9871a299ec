#!/usr/bin/env bash
# Runs every fuzz target (or those named) for a bounded time each, on the
# nightly toolchain cargo-fuzz needs, starting from the committed seeds.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     (default: 60 seconds, every target)
#
# Needs `rustup toolchain install nightly` and `cargo install cargo-fuzz`.
# Corpora grow in target/fuzz-corpus/ (not committed). An input that makes a
# target fail is copied to fuzz/regressions/<target>/: commit it, and
# `cargo test --test fuzz` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)

status=0
for target in "${targets[@]}"; do
  corpus=../target/fuzz-corpus/$target
  artifacts=../target/fuzz-artifacts/$target
  mkdir -p "$corpus" "$artifacts" "regressions/$target"
  echo "== $target: ${seconds}s"
  log=$(mktemp)
  if cargo +nightly fuzz run "$target" "$corpus" "seeds/$target" -- \
      -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
      -timeout=10 -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
    :
  else
    status=1
    echo "   FAILED: $target (log: $log)"
    cp -n "$artifacts"/* "regressions/$target/" 2>/dev/null || true
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ +DONE' "$log" | sed 's/^/   /' || true
  echo "   corpus: $(ls "$corpus" | wc -l) inputs"
done
exit $status
