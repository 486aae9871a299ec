#!/usr/bin/env bash
# Scale benchmark: otsd (release build, durable writes on, rate limits off, one
# worker, default cache) with LIVE (1,000,000) live secrets. Server pinned to one
# core, wrk on the other, as in load.sh; every phase bounded in time.
#
#   benches/scale.sh
#
# 1. Fill: LIVE creates, each with the TTL that makes it expire in the same
#    second (the deadline). Prints the fill rate, RSS after the fill and the data
#    directory's size per live secret.
# 2. Restart: SIGTERM, start again, time to the first 200 from /api/v1/status;
#    then once more (nothing written in between).
# 3. Every sampled key (one per SAMPLE_EVERY creates) is revealed after the
#    restart and must give back its value.
# 4. Sweep: at the deadline the reaper (every second here) drops the values of
#    all LIVE secrets at once, while a create load (SWEEP_CONNECTIONS, 16: a busy
#    server, not a saturated one) runs; prints how long the sweep took (the
#    reaper's own log line) and the load's p99, beside the same load's p99 in the
#    10 s before the deadline.
# 5. Churn: once the reaper has also removed the records (at twice their TTL),
#    the RSS and the data directory's size, beside the same figures of the fresh
#    server before the fill: what 1,000,000 creates that expired leave behind;
#    then both again after one more restart.
#
# Environment: LIVE, SAMPLE_EVERY (1000), FILL_RATE_GUESS (creates per second
# assumed when choosing the deadline, 7000), SWEEP_LOAD_SECONDS (40), SWEEP_CONNECTIONS,
# CONNECTIONS (64), SERVER_CPU (0), LOAD_CPU (1), DATA_PARENT ($TMPDIR), OTSD_BIN.
set -euo pipefail

LIVE=${LIVE:-1000000}
SAMPLE_EVERY=${SAMPLE_EVERY:-1000}
FILL_RATE_GUESS=${FILL_RATE_GUESS:-7000}
SWEEP_LOAD_SECONDS=${SWEEP_LOAD_SECONDS:-40}
SWEEP_CONNECTIONS=${SWEEP_CONNECTIONS:-16}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
DATA_PARENT=${DATA_PARENT:-${TMPDIR:-/tmp}}

cd "$(dirname "$0")/.."
# shellcheck source=benches/common.sh
. benches/common.sh
cargo build --release --locked --quiet --bin otsd
otsd_bin=${OTSD_BIN:-$target/release/otsd}

run_otsd() {
    start "otsd-$1" env -i PATH="$PATH" RUST_LOG=info,otsd::reaper=debug \
        OTSD_WORKERS=1 OTSD_RATE_LIMITS__ENABLED=false OTSD_REAPER__INTERVAL_SECS=1 \
        "$otsd_bin" --listen 127.0.0.1:0 --data-dir "$work/data"
}

now() { date +%s.%N; }

# The deadline leaves room for the fill at the guessed rate, plus a margin; a
# create whose TTL would fall under a minute is not sent (fill.lua stops).
fill_seconds=$(( LIVE / FILL_RATE_GUESS * 13 / 10 + 20 ))
deadline=$(( $(date +%s) + fill_seconds + 75 ))
echo "== fill: $LIVE secrets expiring at $deadline ($(date -d "@$deadline" +%T)), at most ${fill_seconds}s"
run_otsd 1
fill_start=$(date +%s)
sleep 1
base_rss=$(rss_kib "$PID" VmRSS)
base_data=$(du -sb "$work/data/db" | cut -f1)
: >"$work/sample"
started=$(now)
bench fill "http://$ADDR/api/v1/share" "$fill_seconds" benches/wrk/fill.lua \
    "$deadline" "$LIVE" "$work/sample" "$SAMPLE_EVERY" &
filler=$!
# wrk runs its whole -d even once the script stopped: end it (SIGINT still makes
# it print its figures) when the last sampled key came back.
while kill -0 "$filler" 2>/dev/null; do
    # the last few answers may be cut off when the script stops its thread
    if [ "$(wc -l <"$work/sample")" -ge $(( LIVE / SAMPLE_EVERY - 1 )) ]; then
        sleep 1; pkill -INT -f "wrk .*fill.lua" || true; break
    fi
    sleep 0.5
done
wait "$filler"
fill_elapsed=$(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
read -r _ fill_requests fill_rps fill_p50 fill_p99 fill_bad fill_cpu <"$work/results"
live=$(( fill_requests - fill_bad ))
sleep 2
fill_rss=$(rss_kib "$PID" VmRSS); fill_hwm=$(rss_kib "$PID" VmHWM)
data_bytes=$(du -sb "$work/data/db" | cut -f1)

# restart N: SIGTERM the server, start it again on the same data; sets
# stop_elapsed_N, restart_elapsed_N (start to the first 200 from /api/v1/status)
# and restart_hwm_N (peak RSS by then).
restart() {
    local n=$1 began first_200=""
    began=$(now)
    kill -TERM "$PID"; wait "$PID" || { echo "scale.sh: otsd did not stop cleanly" >&2; exit 1; }
    printf -v "stop_elapsed_$n" '%s' "$(awk -v a="$began" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')"
    began=$(now)
    taskset -c "$SERVER_CPU" env -i PATH="$PATH" RUST_LOG=info,otsd::reaper=debug \
        OTSD_WORKERS=1 OTSD_RATE_LIMITS__ENABLED=false OTSD_REAPER__INTERVAL_SECS=1 \
        "$otsd_bin" --listen 127.0.0.1:7199 --data-dir "$work/data" 2>>"$work/otsd-2.log" &
    PID=$!; pids+=("$PID")
    for _ in $(seq 3000); do
        if curl -sf -o /dev/null "http://127.0.0.1:7199/api/v1/status"; then first_200=$(now); break; fi
        kill -0 "$PID" 2>/dev/null || { cat "$work/otsd-2.log" >&2; exit 1; }
        sleep 0.005
    done
    [ -n "$first_200" ] || { echo "scale.sh: no 200 within 15 s of the restart" >&2; exit 1; }
    printf -v "restart_elapsed_$n" '%s' "$(awk -v a="$began" -v b="$first_200" 'BEGIN { printf "%.3f", b - a }')"
    printf -v "restart_hwm_$n" '%s' "$(( $(rss_kib "$PID" VmHWM) / 1024 ))"
}

echo "== restart, twice (sled replays at start what was written since its last start)"
: >"$work/otsd-2.log"
restart 1
restart 2
ADDR=127.0.0.1:7199

echo "== reveal the sampled keys"
sampled=0; revealed=0
while read -r key; do
    sampled=$((sampled + 1))
    if curl -sf -X POST "http://$ADDR/api/v1/secret/$key" | grep -q '"value":"Tr0ub4dor-and-3-horses-battery"'; then
        revealed=$((revealed + 1))
    fi
done <"$work/sample"

wait_for=$(( deadline - $(date +%s) - 14 ))
echo "== sweep: waiting ${wait_for}s, ${SWEEP_CONNECTIONS} connections of creates for 10 s before the deadline, then ${SWEEP_LOAD_SECONDS}s across the sweep"
[ "$wait_for" -gt 0 ] && sleep "$wait_for"
CONNECTIONS=$SWEEP_CONNECTIONS bench before-sweep "http://$ADDR/api/v1/share" 10 benches/wrk/create.lua
sleep $(( deadline - $(date +%s) > 0 ? deadline - $(date +%s) : 0 ))
CONNECTIONS=$SWEEP_CONNECTIONS bench sweep-create "http://$ADDR/api/v1/share" "$SWEEP_LOAD_SECONDS" benches/wrk/create.lua &
load=$!
sweep_line=""
for _ in $(seq $(( (SWEEP_LOAD_SECONDS + 30) * 5 ))); do
    sweep_line=$(grep -o 'reaper handled [0-9]* expiry entries in [0-9.]* s' "$work/otsd-2.log" \
        | awk '$3 >= 1000' | head -1 || true)
    [ -n "$sweep_line" ] && break
    sleep 0.2
done
sweep_seen=$(now)
wait "$load"
sweep_hwm=$(rss_kib "$PID" VmHWM)

# The records go at twice their TTL: the last created expires last.
removal_line=""
# The first secret made has the longest TTL: its record goes last, at the
# deadline plus that TTL.
last_removal=$(( deadline + deadline - fill_start ))
echo "== churn: waiting until the records are removed (the last at $(date -d "@$last_removal" +%T)) and the reaper is idle"
handled() { grep -c 'reaper handled' "$work/otsd-2.log" || true; }
# quiet LIMIT: wait (at most until LIMIT) for 5 s in which the reaper logs nothing
quiet() {
    while [ "$(date +%s)" -lt "$1" ]; do
        local before; before=$(handled); sleep 5
        [ "$(handled)" = "$before" ] && return 0
    done
    echo "scale.sh: the reaper was still busy at $(date -d "@$1" +%T)" >&2
}
sleep $(( last_removal - $(date +%s) > 0 ? last_removal - $(date +%s) : 0 ))
quiet $(( last_removal + 300 ))
removal_line=$(grep -o 'reaper handled [0-9]* expiry entries in [0-9.]* s' "$work/otsd-2.log" \
    | awk '{ n += $3; t += $7 } END { printf "%d expiry entries in %.1f s of sweeps in all", n, t }')
sleep 5
churn_rss=$(rss_kib "$PID" VmRSS)
churn_data=$(du -sb "$work/data/db" | cut -f1)
# The running server compacts once a sweep finds nothing more to remove.
echo "== churn: waiting (at most 120 s) for the running server to compact"
for _ in $(seq 600); do
    grep -q 'compacted the running database' "$work/otsd-2.log" && break
    sleep 0.2
done
compact_line=$(grep -o 'compacted the running database.*' "$work/otsd-2.log" | tail -1 || true)
sleep 2
compacted_rss=$(rss_kib "$PID" VmRSS)
compacted_data=$(du -sb "$work/data/db" | cut -f1)
# sled hands free segments back only when it opens a database: once more.
restart 3
quiet $(( $(date +%s) + 120 ))
reopened_rss=$(rss_kib "$PID" VmRSS)
reopened_data=$(du -sb "$work/data/db" | cut -f1)
kill -TERM "$PID"; wait "$PID" || true

read -r _ sweep_requests sweep_rps sweep_p50 sweep_p99 sweep_bad sweep_cpu < <(grep '^sweep-create' "$work/results")
read -r _ before_requests before_rps before_p50 before_p99 _ _ < <(grep '^before-sweep' "$work/results")
echo
echo "fill: $live secrets in ${fill_elapsed}s ($fill_rps/s, p99 $fill_p99 ms, $fill_bad refused, ${fill_cpu} us CPU each)"
echo "RSS after the fill: $(( fill_rss / 1024 )) MiB (peak $(( fill_hwm / 1024 )) MiB; target <= 128 MiB)"
echo "data directory: $(( data_bytes / 1048576 )) MiB, $(( data_bytes / (live > 0 ? live : 1) )) bytes per live secret"
echo "first restart: stop ${stop_elapsed_1}s, start to the first 200 ${restart_elapsed_1}s (target <= 1 s), peak RSS by then ${restart_hwm_1} MiB"
echo "second restart: stop ${stop_elapsed_2}s, start to the first 200 ${restart_elapsed_2}s, peak RSS by then ${restart_hwm_2} MiB"
echo "sampled keys revealed after the restart: $revealed of $sampled"
if [ -n "$sweep_line" ]; then
    late=$(awk -v a="$deadline" -v b="$sweep_seen" 'BEGIN { printf "%.1f", b - a }')
    echo "sweep: $sweep_line (logged ${late}s after the deadline second began; target <= 30 s)"
else
    echo "sweep: no sweep of 1000 or more entries logged within $(( SWEEP_LOAD_SECONDS + 30 ))s"
fi
echo "creates before the sweep: $before_rps/s, p50 $before_p50 ms, p99 $before_p99 ms"
echo "creates during the sweep: $sweep_rps/s, p50 $sweep_p50 ms, p99 $sweep_p99 ms (target <= 10 ms), $sweep_bad non-2xx"
echo "peak RSS over the run after the restart: $(( sweep_hwm / 1024 )) MiB"
echo "reaper over the run (values, then records): $removal_line"
echo "churn: RSS $(( base_rss / 1024 )) MiB before the fill, $(( fill_rss / 1024 )) MiB after it, $(( churn_rss / 1024 )) MiB once all had expired and were removed"
echo "churn: data directory $(( base_data / 1024 )) KiB before the fill, $(( data_bytes / 1048576 )) MiB after it, $(( churn_data / 1048576 )) MiB once all were removed"
# What is still live then: the creates made around the sweep (one-day TTL).
still_live=$(( before_requests + sweep_requests ))
echo "churn, the running server: ${compact_line:-no compaction within 120 s}; then RSS $(( compacted_rss / 1024 )) MiB, data directory $(( compacted_data / 1048576 )) MiB"
echo "churn, after a restart: RSS $(( reopened_rss / 1024 )) MiB, data directory $(( reopened_data / 1048576 )) MiB (start to the first 200 ${restart_elapsed_3}s)"
echo "churn: about $still_live secrets still live (made around the sweep): $(( still_live * (data_bytes / (live > 0 ? live : 1)) / 1048576 )) MiB at the fill's bytes per secret, $(( reopened_data / (still_live > 0 ? still_live : 1) )) bytes per live secret after the restart"
