#!/usr/bin/env bash
# Usage: bench/lookup.sh [--pg] [STUDENTS]        (default 1000000; 15000000 = Sichuan scale)
#
# Authenticated, audited point look-up of a student (GET /api/v1/students/{学籍号} with a
# bearer token) against GET /healthz on the same server under the same load, in one run:
# wrk, 64 connections, 2 threads, --latency: /healthz, then the look-up, then /healthz again.
# Reports requests/s, p50/p99 and lookup_rps / mean(healthz_rps). --pg: a PostgreSQL node
# instead of SQLite.
#
# Environment: BENCH_DIR (default /tmp/chuanyu-bench; generated data is shared with
# import.sh), CHUANYU (binary), DURATION (per wrk run, default 20s), CONNECTIONS (64),
# THREADS (2), SAMPLE (random 学籍号 drawn from the CSV, 10000), IMPORT_TIMEOUT (seconds the
# import may take before the run is abandoned, default 3600), PGHOST/PGPORT/PGUSER, KEEP=1
# (keep the node afterwards), RESULTS (default $BENCH_DIR/results.txt).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ENGINE=sqlite
STUDENTS=1000000
for arg in "$@"; do
    case "$arg" in
    --pg) ENGINE=postgres ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) [[ "$arg" =~ ^[0-9]+$ ]] || die "unknown argument $arg (usage: bench/lookup.sh [--pg] [STUDENTS])"; STUDENTS=$arg ;;
    esac
done
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
SAMPLE="${SAMPLE:-10000}"
IMPORT_TIMEOUT="${IMPORT_TIMEOUT:-3600}"
LUA="$BENCH_ROOT/bench/wrk-get.lua"

require_chuanyu
require wrk "apt-get install -y wrk"
require curl "apt-get install -y curl"
require sqlite3 "apt-get install -y sqlite3"
require "$TIME" "apt-get install -y time"
if [[ $ENGINE == postgres ]]; then
    require psql "apt-get install -y postgresql-client (and a server on $PGHOST:$PGPORT, user $PGUSER, trust auth)"
    psql -XAtq -d postgres -c 'SELECT 1' >/dev/null || die "PostgreSQL not reachable at $PGHOST:$PGPORT as $PGUSER"
fi

RUN="$BENCH_DIR/lookup-$ENGINE-$STUDENTS"
NODE="$RUN/node"
CONFIG="$NODE/chuanyu.toml"
PGNODE="chuanyu_bench_lookup_$$"
SERVER_PID=
mkdir -p "$BENCH_DIR"
rm -rf "$RUN"
mkdir -p "$RUN"

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        local i
        for i in $(seq 1 50); do # up to 10 s for a graceful stop
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}
cleanup() {
    stop_server
    cleanup_pg
    [[ "${KEEP:-}" == 1 ]] || rm -rf "$NODE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- node with STUDENTS students
DATA="$(data_for "$STUDENTS")"
URL=
if [[ $ENGINE == postgres ]]; then
    fresh_pg_db "$PGNODE"
    URL="$(pg_url "$PGNODE")"
fi
fresh_node "$NODE" "$DATA" "$URL"
log "importing $STUDENTS students into a fresh $ENGINE node (timed, for the record)"
# Disk during the import, sampled every 5 s: the node directory (database + WAL) and the
# file system's used space (which also sees SQLite's unlinked temp files, and whatever else
# the machine is doing).
watch_disk() {
    local base node_max=0 fs_max=0 n f i
    base=$(df -k --output=used "$RUN" | tail -n 1)
    for i in $(seq 1 $((IMPORT_TIMEOUT / 5 + 2))); do
        n=$(du -sk "$NODE" 2>/dev/null | cut -f1) || n=0
        f=$(($(df -k --output=used "$RUN" | tail -n 1) - base))
        ((n > node_max)) && node_max=$n
        ((f > fs_max)) && fs_max=$f
        echo "$node_max $fs_max" >"$RUN/disk-peak"
        [[ -e "$RUN/import.done" ]] && break
        sleep 5
    done
}
watch_disk &
WATCH_PID=$!
import_rc=0
timed "$RUN/import" timeout "$IMPORT_TIMEOUT" "$CHUANYU" import students "$DATA/students.csv" --config "$CONFIG" ||
    import_rc=$?
touch "$RUN/import.done"
wait "$WATCH_PID" || true
read -r DISK_NODE_PEAK DISK_FS_PEAK <"$RUN/disk-peak"
if [[ $ENGINE == postgres ]]; then
    DISK_NOTE="peak during the import: file system +$(mb "$DISK_FS_PEAK") MB (5 s samples; the database is in the PostgreSQL cluster)"
else
    DISK_NOTE="peak during the import: node directory $(mb "$DISK_NODE_PEAK") MB, file system +$(mb "$DISK_FS_PEAK") MB (5 s samples)"
fi
IMPORT_SECS=$(secs_of "$RUN/import")
IMPORT_RSS=$(rss_of "$RUN/import")
IMPORT_REJECTED=$(import_field rejected "$RUN/import.out")
if [[ $import_rc == 124 ]]; then
    { echo "== bench/lookup.sh$([[ $ENGINE == postgres ]] && echo ' --pg') $STUDENTS"; machine
      echo "import of $STUDENTS students stopped after IMPORT_TIMEOUT=${IMPORT_TIMEOUT}s; no look-up run"
      echo "disk: CSV $(du -h "$DATA/students.csv" | cut -f1); node directory $(du -sh "$NODE" | cut -f1) when stopped; $DISK_NOTE"
      echo; } | tee -a "$RESULTS"
    exit 1
fi
[[ $import_rc == 0 ]] || log "import exited $import_rc: $(cat "$RUN/import.out" "$RUN/import.err" | head -n 5)"
log "import: ${IMPORT_SECS} s, peak RSS $(mb "$IMPORT_RSS") MB, rejected ${IMPORT_REJECTED:-?}"
# PostgreSQL spreads the checkpoint the import calls for over the following minutes. Take it
# now, untimed, so that the look-up is not measured beside its writes.
SETTLED=
if [[ $ENGINE == postgres ]]; then
    started=$(date +%s%N)
    psql -XAtq -d "$PGNODE" -c CHECKPOINT
    SETTLED="; then CHECKPOINT, $((($(date +%s%N) - started) / 1000000)) ms, before the server started"
    log "checkpoint after the import${SETTLED#; then CHECKPOINT}"
fi

echo pw-12345678 | "$CHUANYU" user add --config "$CONFIG" --username bench --role platform-admin --password-stdin >/dev/null

# ---------------------------------------------------------------- server
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=
for p in $(seq 18080 18179); do
    if port_free "$p"; then PORT=$p; break; fi
done
[[ -n "$PORT" ]] || die "no free port in 18080-18179"
BASE="http://127.0.0.1:$PORT"
"$CHUANYU" serve --config "$CONFIG" --listen "127.0.0.1:$PORT" >"$RUN/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 1 100); do # up to 20 s
    curl -sf -o /dev/null "$BASE/healthz" && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "server exited: $(tail -n 5 "$RUN/server.log")"
    sleep 0.2
done
curl -sf -o /dev/null "$BASE/healthz" || die "server not answering on $BASE"
log "server pid $SERVER_PID on $BASE"

TOKEN=$(curl -sf -X POST -H 'content-type: application/json' \
    -d '{"username":"bench","password":"pw-12345678"}' "$BASE/api/v1/auth/token" |
    sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
[[ -n "$TOKEN" ]] || die "no token from $BASE/api/v1/auth/token"

# SAMPLE random 学籍号 from the CSV (fixed seed: the same sample every run).
IDS="$RUN/ids.txt"
awk -F, -v n="$STUDENTS" -v k="$((SAMPLE + SAMPLE / 5))" -v want="$SAMPLE" '
    BEGIN { srand(42) }
    NR > 1 && rand() < k / n { print $1; if (++got == want) exit }' "$DATA/students.csv" >"$IDS"
log "$(wc -l <"$IDS") random 学籍号 in $IDS"
first=$(head -n 1 "$IDS")
status=$(curl -s -o "$RUN/sample.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/students/$first")
[[ $status == 200 ]] || die "GET /api/v1/students/$first answered $status: $(head -c 300 "$RUN/sample.json")"

audit_rows() {
    if [[ $ENGINE == postgres ]]; then
        psql -XAtq -d "$PGNODE" -c 'SELECT count(*) FROM audit_log'
    else
        sqlite3 "$NODE/data/chuanyu.db" 'SELECT count(*) FROM audit_log'
    fi
}

export BENCH_PATH=/healthz BENCH_IDS= BENCH_PREFIX= BENCH_TOKEN=
run_wrk healthz1
audit_before=$(audit_rows)
export BENCH_PATH= BENCH_IDS="$IDS" BENCH_PREFIX=/api/v1/students/ BENCH_TOKEN="$TOKEN"
run_wrk lookup
sleep 1 # the last audit group commit
audit_after=$(audit_rows)
export BENCH_PATH=/healthz BENCH_IDS= BENCH_PREFIX= BENCH_TOKEN=
run_wrk healthz2
stop_server

# ---------------------------------------------------------------- report
if [[ $ENGINE == postgres ]]; then
    DB_SIZE="PostgreSQL database $(psql -XAtq -d "$PGNODE" -c "SELECT pg_size_pretty(pg_database_size('$PGNODE'))")"
else
    DB_SIZE="SQLite node $(du -sh "$NODE/data" | cut -f1) ($(cd "$NODE/data" && du -h chuanyu.db* | awk '{printf "%s%s %s", sep, $2, $1; sep=", "}'))"
fi
H1=$(rps_of healthz1)
H2=$(rps_of healthz2)
HMEAN=$(awk -v a="$H1" -v b="$H2" 'BEGIN { printf "%.0f", (a + b) / 2 }')
L=$(rps_of lookup)
R=$(ratio "$L" "$HMEAN")
P99=$(pct_of lookup 99)
report() {
    echo "== bench/lookup.sh$([[ $ENGINE == postgres ]] && echo ' --pg') $STUDENTS"
    machine
    echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency; $(wc -l <"$IDS") random 学籍号; server and wrk share the machine"
    echo "import: $STUDENTS students in $IMPORT_SECS s ($(per_sec "$STUDENTS" "$IMPORT_SECS") rows/s), peak RSS $(mb "$IMPORT_RSS") MB, rejected ${IMPORT_REJECTED:-?}, exit $import_rc$SETTLED"
    echo "disk: CSV $(du -h "$DATA/students.csv" | cut -f1); $DB_SIZE after the run; $DISK_NOTE"
    printf '%-10s %10s %8s %8s %10s %8s %8s %9s  %s\n' run 'req/s' 'p50 ms' 'p99 ms' responses non-200 \
        'srv CPU%' 'CPU us/r' 'wrk errors'
    local k
    for k in healthz1 lookup healthz2; do
        read -r cpu_pct cpu_us <<<"$(cpu_of $k)"
        printf '%-10s %10s %8s %8s %10s %8s %8s %9s  %s\n' "$k" "$(rps_of $k)" "$(pct_of $k 50)" "$(pct_of $k 99)" \
            "$(responses_of $k)" "$(bad_of $k)" "$cpu_pct" "$cpu_us" "$(errors_of $k)"
    done
    if [[ $ENGINE == postgres ]]; then
        read -r cpu_pct cpu_us <<<"$(cpu_of lookup dbticks)"
        echo "PostgreSQL's own processes during the look-up run: $cpu_pct % of a core, $cpu_us us of CPU per look-up (not in 'srv CPU', which is chuanyu alone)"
    fi
    echo "audit_log rows added during the look-up run: $((audit_after - audit_before)) (look-ups answered: $(responses_of lookup))"
    echo "ratio lookup / mean(healthz) = $L / $HMEAN = $R  (target >= 0.3: $(met "$R" '>=' 0.3))"
    echo "lookup p99 = $P99 ms  (target < 10 ms: $(met "$P99" '<' 10))"
    [[ "$(bad_of lookup)" == 0 ]] || echo "WARNING: $(bad_of lookup) look-ups were not 200; see $RUN/lookup.wrk"
    echo
}
report | tee -a "$RESULTS"
log "appended to $RESULTS; wrk output and server log in $RUN"
