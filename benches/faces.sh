#!/usr/bin/env bash
# The faces side by side: API v1 against API v2 on the same secrets, and a page
# for a visitor against the same page for someone signed in (the session's
# lookup), each beside a minimal actix-web handler (examples/baseline.rs)
# measured in the same run. Placement, durability and one worker as in load.sh;
# every phase bounded in time; each key revealed exactly once.
#
#   benches/faces.sh
#
# Environment: DURATION (seconds per phase, default 10), CONNECTIONS (64),
# SERVER_CPU (0), LOAD_CPU (1), DATA_PARENT ($TMPDIR), OTSD_BIN.
#
# Phases: baseline status; v1-create (POST /api/v1/share, form) and v2-conceal
# (POST /api/v2/secret/conceal, JSON), the same value and TTL; v1-reveal and
# v2-reveal (each of the keys its own API made, in creation order); page-visitor
# (GET / with no cookie) and page-signed-in (GET / with a session cookie from a
# password sign-in: every request looks the session up in the store).
set -euo pipefail

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
DATA_PARENT=${DATA_PARENT:-${TMPDIR:-/tmp}}

cd "$(dirname "$0")/.."
# shellcheck source=benches/common.sh
. benches/common.sh
cargo build --release --locked --quiet --bin otsd --example baseline
otsd_bin=${OTSD_BIN:-$target/release/otsd}

bench_baseline

# An account with a web password, made before the server starts (the command
# opens the database itself then).
password="a bench password, long enough"
env -i PATH="$PATH" "$otsd_bin" user --init add --data-dir "$work/data" bench >/dev/null
printf '%s\n' "$password" | env -i PATH="$PATH" "$otsd_bin" user password --data-dir "$work/data" bench >/dev/null

echo "== otsd"
start otsd env -i PATH="$PATH" OTSD_WORKERS=1 OTSD_RATE_LIMITS__ENABLED=false \
    "$otsd_bin" --listen 127.0.0.1:0 --data-dir "$work/data"
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d2s "http://$ADDR/api/v1/status" >/dev/null

: >"$work/v1-keys"
: >"$work/v2-keys"
bench v1-create "http://$ADDR/api/v1/share" "$DURATION" benches/wrk/create.lua "$work/v1-keys"
bench v2-conceal "http://$ADDR/api/v2/secret/conceal" "$DURATION" benches/wrk/create.lua "$work/v2-keys" 0 v2
bench v1-reveal "http://$ADDR/api/v1/secret" "$DURATION" benches/wrk/reveal.lua "$work/v1-keys"
bench v2-reveal "http://$ADDR/api/v2/secret" "$DURATION" benches/wrk/reveal.lua "$work/v2-keys" v2

cookie=$(curl -s -o /dev/null -D - --data-urlencode name=bench --data-urlencode "password=$password" \
    "http://$ADDR/signin" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(otsd_session=[^;]*\).*/\1/p')
[ -n "$cookie" ] || { echo "faces.sh: the password sign-in gave no session cookie" >&2; exit 1; }
curl -s -H "Cookie: $cookie" "http://$ADDR/" | grep -q 'bench' \
    || { echo "faces.sh: the session cookie does not sign the page in" >&2; exit 1; }
bench page-visitor "http://$ADDR/" "$DURATION" benches/wrk/page.lua ""
bench page-signed-in "http://$ADDR/" "$DURATION" benches/wrk/page.lua "$cookie"
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true

base_rps=$(field baseline-status 3)
echo
printf '%-16s %10s %10s %7s %9s %9s %7s %8s\n' phase requests rps ratio p50_ms p99_ms non2xx cpu_us
while read -r label requests rps p50 p99 bad cpu; do
    ratio=$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }')
    printf '%-16s %10s %10s %7s %9s %9s %7s %8s\n' "$label" "$requests" "$rps" "$ratio" "$p50" "$p99" "$bad" "$cpu"
done <"$work/results"
echo
echo "keys made: v1 $(wc -l <"$work/v1-keys"), v2 $(wc -l <"$work/v2-keys")"
