# Shared by load.sh and scale.sh: placement, the data directory, starting a
# server and one bounded wrk run. Sourced after the caller set SERVER_CPU,
# LOAD_CPU, CONNECTIONS and DATA_PARENT; sets `work` and `target`.

for tool in wrk taskset; do
    command -v "$tool" >/dev/null || { echo "$(basename "$0"): needs $tool (apt-get install -y wrk util-linux)" >&2; exit 1; }
done

target=${CARGO_TARGET_DIR:-target}

work=$(mktemp -d "$DATA_PARENT/otsd-bench.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# start NAME CMD...: runs CMD pinned to SERVER_CPU, waits (at most 30 s) for its
# "listening on ADDR" line; sets PID and ADDR.
start() {
    local name=$1; shift
    local log="$work/$name.log"
    taskset -c "$SERVER_CPU" "$@" 2>"$log" &
    PID=$!
    pids+=("$PID")
    for _ in $(seq 300); do
        ADDR=$(grep -o 'listening on [0-9.:]*' "$log" | head -1 | cut -d' ' -f3 || true)
        [ -n "$ADDR" ] && return 0
        kill -0 "$PID" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    echo "$(basename "$0"): $name did not start" >&2; exit 1
}

rss_kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }

# cpu_ticks PID: user + system time of the process so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# bench LABEL URL SECONDS [SCRIPT [SCRIPT ARGS...]]: one bounded wrk run pinned
# to LOAD_CPU against the server $PID; appends "label requests rps p50_ms p99_ms
# non2xx cpu_us_per_request" to $work/results.
bench() {
    local label=$1 url=$2 seconds=$3; shift 3
    local out="$work/$label.wrk" script=() ticks
    if [ $# -gt 0 ]; then script=(-s "$1"); shift; fi
    ticks=$(cpu_ticks "$PID")
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" --latency --timeout 10s -d"${seconds}s" \
        "${script[@]}" "$url" -- "$@" >"$out"
    ticks=$(( $(cpu_ticks "$PID") - ticks ))
    awk -v label="$label" -v ticks="$ticks" -v tick="$TICK" '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
            return v
        }
        $1 == "50%" { p50 = ms($2) }
        $1 == "99%" { p99 = ms($2) }
        / requests in / { requests = $1 }
        /^Requests\/sec:/ { rps = $2 }
        $1 == "keys-exhausted" { exhausted_rps = $3 / $2 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        END {
            if (exhausted_rps) rps = exhausted_rps
            cpu = requests ? ticks * 1e6 / tick / requests : 0
            printf "%s %d %.0f %.3f %.3f %d %.1f\n", label, requests, rps, p50, p99, bad + 0, cpu
        }
    ' "$out" >>"$work/results"
}


# field LABEL COLUMN: one column of a phase's line in $work/results.
field() { awk -v l="$1" -v c="$2" '$1 == l { print $c }' "$work/results"; }

# bench_baseline: examples/baseline.rs (built by the caller) on SERVER_CPU,
# warmed, then its status phase ("baseline-status") for DURATION seconds; the
# figure every other phase is a ratio of. Sets BASELINE_HWM (its peak RSS, KiB).
bench_baseline() {
    echo "== baseline (examples/baseline.rs, 1 worker) on cpu $SERVER_CPU, wrk on cpu $LOAD_CPU, ${DURATION}s per phase, $CONNECTIONS connections"
    start baseline "$target/release/examples/baseline" 127.0.0.1:0
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d2s "http://$ADDR/api/v1/status" >/dev/null
    bench baseline-status "http://$ADDR/api/v1/status" "$DURATION"
    BASELINE_HWM=$(rss_kib "$PID" VmHWM)
    kill -TERM "$PID"; wait "$PID" 2>/dev/null || true
}
