#!/usr/bin/env bash
# Load benchmark: otsd (release build, durable writes on, rate limits off, one
# worker) against a minimal actix-web handler (examples/baseline.rs), both pinned
# to one core while wrk runs on another, on loopback, each phase bounded in time.
#
#   benches/load.sh
#
# Environment: DURATION (seconds per phase, default 10), CONNECTIONS (64),
# LIVE (live secrets held while RSS is read, default 100000), SERVER_CPU (0),
# LOAD_CPU (1), ACCESS_LOG and CACHE_MIB (otsd's access_log and
# storage.cache_mib; unset: otsd's defaults), DATA_PARENT (where the temporary data directory goes; default
# $TMPDIR: put it on the disk you want to measure), OTSD_BIN (the otsd binary to
# measure, default the release build: for A/B runs of two builds).
#
# Phases: baseline status; otsd status; otsd create (keys kept); otsd fill up to
# LIVE live secrets; reveal-ordered (every other key of all made so far, in
# creation order); reveal-random (the other half, shuffled: reads all over the
# tree); mix (creates and reveals, each secret revealed once soon after it was
# made). Each key is revealed exactly once. Create and reveal are acknowledged only
# after the group commit reached the disk. Values carry no passphrase (a
# passphrase adds PBKDF2 by design, see README). otsd runs with its default
# configuration otherwise. Every phase prints its ratio to the baseline measured
# in the same run and the server's CPU time per request (user + system).
set -euo pipefail

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
LIVE=${LIVE:-100000}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
DATA_PARENT=${DATA_PARENT:-${TMPDIR:-/tmp}}

cd "$(dirname "$0")/.."
# shellcheck source=benches/common.sh
. benches/common.sh
cargo build --release --locked --quiet --bin otsd --example baseline
otsd_bin=${OTSD_BIN:-$target/release/otsd}

bench_baseline

echo "== otsd (access_log=${ACCESS_LOG:-default}, cache_mib=${CACHE_MIB:-default})"
start otsd env -i PATH="$PATH" \
    OTSD_WORKERS=1 OTSD_RATE_LIMITS__ENABLED=false ${ACCESS_LOG:+OTSD_ACCESS_LOG=$ACCESS_LOG} \
    ${CACHE_MIB:+OTSD_STORAGE__CACHE_MIB=$CACHE_MIB} \
    "$otsd_bin" --listen 127.0.0.1:0 --data-dir "$work/data"
OTSD_PID=$PID
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d2s "http://$ADDR/api/v1/status" >/dev/null
bench otsd-status "http://$ADDR/api/v1/status" "$DURATION"

: >"$work/keys"
bench otsd-create "http://$ADDR/api/v1/share" "$DURATION" benches/wrk/create.lua "$work/keys"
# Fill up to LIVE live secrets, in bounded rounds sized from the create rate.
: >"$work/fill-keys"
create_rps=$(field otsd-create 3)
for round in 1 2 3 4 5; do
    live=$(( $(wc -l <"$work/keys") + $(wc -l <"$work/fill-keys") ))
    [ "$live" -ge "$LIVE" ] && break
    missing=$(( LIVE - live ))
    seconds=$(( missing * 12 / (create_rps * 10 + 1) + 2 ))
    [ "$seconds" -gt 120 ] && seconds=120
    bench "otsd-fill-$round" "http://$ADDR/api/v1/share" "$seconds" benches/wrk/create.lua "$work/fill-keys" "$missing"
done
live=$(( $(wc -l <"$work/keys") + $(wc -l <"$work/fill-keys") ))
sleep 1
live_rss=$(rss_kib "$OTSD_PID" VmRSS)

# Every key made so far, in creation order: every other one is revealed in that
# order, the rest shuffled.
cat "$work/keys" "$work/fill-keys" >"$work/all-keys"
awk 'NR % 2 == 1' "$work/all-keys" >"$work/ordered-keys"
awk 'NR % 2 == 0' "$work/all-keys" | shuf >"$work/random-keys"
bench otsd-reveal-ordered "http://$ADDR/api/v1/secret" "$DURATION" benches/wrk/reveal.lua "$work/ordered-keys"
bench otsd-reveal-random "http://$ADDR/api/v1/secret" "$DURATION" benches/wrk/reveal.lua "$work/random-keys"
MIX_OUT="$work/mix" bench otsd-mix "http://$ADDR/api/v1/share" "$DURATION" benches/wrk/mix.lua
otsd_hwm=$(rss_kib "$OTSD_PID" VmHWM)
kill -TERM "$OTSD_PID"
wait "$OTSD_PID" || { echo "load.sh: otsd did not stop cleanly" >&2; cat "$work/otsd.log" >&2; exit 1; }
data_size=$(du -sh "$work/data" | cut -f1)

base_rps=$(field baseline-status 3)
echo
printf '%-20s %10s %10s %7s %9s %9s %7s %8s\n' phase requests rps ratio p50_ms p99_ms non2xx cpu_us
grep -v '^otsd-fill' "$work/results" | while read -r label requests rps p50 p99 bad cpu; do
    ratio=$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }')
    printf '%-20s %10s %10s %7s %9s %9s %7s %8s\n' "$label" "$requests" "$rps" "$ratio" "$p50" "$p99" "$bad" "$cpu"
done
echo
echo "live secrets after fill: $live; revealed in order: $(wc -l <"$work/ordered-keys"), at random: $(wc -l <"$work/random-keys")"
read -r _ mix_creates mix_reveals mix_failed <"$work/mix"
echo "mix: $mix_creates creates, $mix_reveals reveals, $mix_failed failed reveals"
echo "otsd RSS with $live live secrets: $(( live_rss / 1024 )) MiB; otsd peak RSS (VmHWM): $(( otsd_hwm / 1024 )) MiB; baseline peak RSS: $(( BASELINE_HWM / 1024 )) MiB"
echo "data directory after the run: $data_size"
echo "targets: create, reveal-ordered and mix >= 0.35 x baseline, reveal-random >= 0.25 x,"
echo "         status >= 0.8 x, p99 <= 5 ms in every phase, peak RSS <= 64 MiB"
