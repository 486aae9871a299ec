#!/usr/bin/env bash
# Engines benchmark: in one run, one otsd node on sled, one on PostgreSQL and two
# on one PostgreSQL (both on this machine), each at CONNECTIONS connections in
# all: create, reveal (every key made, exactly once; on two nodes each node
# reveals what the other made) and mix, with p50/p99, and the nodes' peak RSS.
# Ratios are to the sled node measured in the same run.
#
#   benches/nodes.sh
#
# Environment: DURATION (seconds per phase, default 10), CONNECTIONS (64),
# SERVER_CPU (0: every otsd node; PostgreSQL is not pinned), LOAD_CPU (1: wrk),
# WORKERS (otsd's HTTP workers, default 1), POOL (database_pool_size, default 16),
# DATA_PARENT (where the data directories and the cluster go; default $TMPDIR),
# OTSD_BIN (default the release build).
#
# PostgreSQL runs as Debian ships it (fsync and synchronous_commit on, no
# standby), as the `postgres` user when run as root, on a loopback port.
set -euo pipefail

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
WORKERS=${WORKERS:-1}
POOL=${POOL:-16}
DATA_PARENT=${DATA_PARENT:-${TMPDIR:-/tmp}}

cd "$(dirname "$0")/.."
# shellcheck source=benches/common.sh
. benches/common.sh
cargo build --release --locked --quiet --bin otsd
otsd_bin=${OTSD_BIN:-$target/release/otsd}

# ---- a PostgreSQL cluster of this run's own ----
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pg_bin/initdb" ] || { echo "nodes.sh: needs Debian's postgresql" >&2; exit 1; }
pg_dir="$work/pg"
mkdir -p "$pg_dir"
as_pg=()
if [ "$(id -u)" = 0 ]; then
    chown postgres: "$pg_dir"
    chmod 755 "$work"
    as_pg=(runuser -u postgres --)
fi
pg_port=$(( 20000 + RANDOM % 10000 ))
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust >/dev/null
cat >>"$pg_dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_dir'
max_connections = 200
EOF
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w start >/dev/null
stop_pg() { "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true; }
trap 'stop_pg; cleanup' EXIT
psql_do() { "${as_pg[@]}" "$pg_bin/psql" -h "$pg_dir" -p "$pg_port" -U postgres -qAt -c "$1" postgres; }
psql_do "CREATE ROLE otsd LOGIN PASSWORD 'bench'"

key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

# node NAME DB: starts otsd (on PostgreSQL database DB, or sled when DB is
# empty); sets PID and ADDR.
node() {
    local name=$1 db=$2 url=
    if [ -n "$db" ]; then url="postgres://otsd:bench@127.0.0.1:$pg_port/$db"; fi
    start "$name" env -i PATH="$PATH" OTSD_WORKERS="$WORKERS" OTSD_RATE_LIMITS__ENABLED=false \
        OTSD_MASTER_KEY="$key" OTSD_DATABASE_POOL_SIZE="$POOL" ${url:+OTSD_DATABASE_URL=$url} \
        "$otsd_bin" --listen 127.0.0.1:0 --data-dir "$work/$name"
}

# phase LABEL URL1 URL2 SECONDS SCRIPT ARGS1 ARGS2: on one node (URL2 empty)
# one wrk at CONNECTIONS; on two, two at once, half the connections each, their
# results summed (rps), the worse p99 kept.
phase() {
    local label=$1 url1=$2 url2=$3 seconds=$4 script=$5 args1=$6 args2=$7
    if [ -z "$url2" ]; then
        bench "$label" "$url1" "$seconds" "$script" $args1
        return
    fi
    local half=$(( CONNECTIONS / 2 )) saved=$CONNECTIONS
    CONNECTIONS=$half
    PID=$NODE1 bench "$label-a" "$url1" "$seconds" "$script" $args1 &
    local first=$!
    PID=$NODE2 bench "$label-b" "$url2" "$seconds" "$script" $args2
    wait "$first"
    CONNECTIONS=$saved
    awk -v l="$label" '$1 == l"-a" || $1 == l"-b" {
            n += $2; rps += $3; if ($4 > p50) p50 = $4; if ($5 > p99) p99 = $5; bad += $6; cpu += $7 / 2
        } END { printf "%s %d %.0f %.3f %.3f %d %.1f\n", l, n, rps, p50, p99, bad, cpu }' \
        "$work/results" >>"$work/results"
}

# run NAME URL1 [URL2]: create, reveal (crossed on two nodes), mix.
run() {
    local name=$1 url1=$2 url2=${3:-}
    : >"$work/$name-keys1"; : >"$work/$name-keys2"
    phase "$name-create" "$url1/api/v1/share" "${url2:+$url2/api/v1/share}" "$DURATION" \
        benches/wrk/create.lua "$work/$name-keys1" "$work/$name-keys2"
    if [ -n "$url2" ]; then
        shuf "$work/$name-keys2" >"$work/$name-r1"; shuf "$work/$name-keys1" >"$work/$name-r2"
    else
        shuf "$work/$name-keys1" >"$work/$name-r1"; : >"$work/$name-r2"
    fi
    phase "$name-reveal" "$url1/api/v1/secret" "${url2:+$url2/api/v1/secret}" "$DURATION" \
        benches/wrk/reveal.lua "$work/$name-r1" "$work/$name-r2"
    phase "$name-mix" "$url1/api/v1/share" "${url2:+$url2/api/v1/share}" "$DURATION" \
        benches/wrk/mix.lua "" ""
}

echo "== ${DURATION}s per phase, $CONNECTIONS connections, otsd on cpu $SERVER_CPU ($WORKERS worker), wrk on cpu $LOAD_CPU, PostgreSQL unpinned"
node sled ""
NODE1=$PID
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d2s "http://$ADDR/api/v1/status" >/dev/null
run sled "http://$ADDR"
sled_hwm=$(rss_kib "$NODE1" VmHWM)
kill -TERM "$NODE1"; wait "$NODE1" 2>/dev/null || true

psql_do "CREATE DATABASE otsd_one OWNER otsd"
node pg1 otsd_one
NODE1=$PID
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d2s "http://$ADDR/api/v1/status" >/dev/null
run pg1 "http://$ADDR"
pg1_hwm=$(rss_kib "$NODE1" VmHWM)
kill -TERM "$NODE1"; wait "$NODE1" 2>/dev/null || true

psql_do "CREATE DATABASE otsd_two OWNER otsd"
node pg2a otsd_two
NODE1=$PID; ADDR1=$ADDR
node pg2b otsd_two
NODE2=$PID; ADDR2=$ADDR
run pg2 "http://$ADDR1" "http://$ADDR2"
pg2_hwm=$(( $(rss_kib "$NODE1" VmHWM) > $(rss_kib "$NODE2" VmHWM) ? $(rss_kib "$NODE1" VmHWM) : $(rss_kib "$NODE2" VmHWM) ))
kill -TERM "$NODE1" "$NODE2"; wait "$NODE1" "$NODE2" 2>/dev/null || true

echo
printf '%-14s %10s %10s %9s %9s %9s %7s %8s\n' phase requests rps vs_sled p50_ms p99_ms non2xx cpu_us
grep -Ev -- '-(a|b) ' "$work/results" | while read -r label requests rps p50 p99 bad cpu; do
    base=$(field "sled-${label#*-}" 3)
    ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    printf '%-14s %10s %10s %9s %9s %9s %7s %8s\n' "$label" "$requests" "$rps" "$ratio" "$p50" "$p99" "$bad" "$cpu"
done
echo
echo "peak RSS (VmHWM): sled node $(( sled_hwm / 1024 )) MiB, PostgreSQL node $(( pg1_hwm / 1024 )) MiB, larger of two PostgreSQL nodes $(( pg2_hwm / 1024 )) MiB"
echo "targets: one PostgreSQL node >= 0.5 x the sled node's create and reveal, p99 <= 20 ms"
