# Shared helpers for bench/*.sh. Source it; do not run it.
# shellcheck shell=bash

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/chuanyu-bench}"
CHUANYU="${CHUANYU:-$BENCH_ROOT/target/release/chuanyu}"
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER
RESULTS="${RESULTS:-$BENCH_DIR/results.txt}"
TIME=/usr/bin/time

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

# require CMD "how to install it"
require() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found; install it with: $2"
}

require_chuanyu() {
    [[ -x "$CHUANYU" ]] || die "no binary at $CHUANYU; build it with: (cd $BENCH_ROOT && cargo build --release --bin chuanyu), or set CHUANYU=/path/to/chuanyu"
}

# The machine, for the record: cores, memory, CPU model, kernel, date.
machine() {
    echo "date:   $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc:  $(nproc)"
    echo "cpu:    $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    echo "kernel: $(uname -sr)"
    echo "memory: $(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
    echo "binary: $CHUANYU ($("$CHUANYU" --version 2>/dev/null || echo '?'), built $(date -u -r "$CHUANYU" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$CHUANYU" | cut -c1-12))"
    echo "repo:   $BENCH_ROOT at $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$BENCH_ROOT" diff --quiet HEAD -- crates Cargo.toml Cargo.lock 2>/dev/null || echo ' + uncommitted changes in crates/') when the run ended"
    echo "sqlite3: $(sqlite3 --version 2>/dev/null | cut -d' ' -f1)  psql: $(psql --version 2>/dev/null | awk '{print $3}')  server: $(psql -XAtq -d postgres -c 'SHOW server_version' 2>/dev/null || echo '?')"
    # Share of time in which runnable tasks waited for a CPU, over the last 60 and 10 s:
    # how busy the machine's neighbours were (PSI; absent on old kernels).
    echo "cpu pressure: $(sed -n 's/^some avg10=\([0-9.]*\) avg60=\([0-9.]*\).*/\2 % (last 60 s), \1 % (last 10 s)/p' /proc/pressure/cpu 2>/dev/null || echo '?')"
}

# Generated data for N students, reused across scripts and runs: prints the directory.
# (chuanyu gen is deterministic for a given seed and size.)
data_for() {
    local n=$1 dir="$BENCH_DIR/data-$1"
    if [[ ! -s "$dir/students.csv" || ! -s "$dir/schools.csv" ]]; then
        log "generating $n students into $dir"
        rm -rf "$dir"
        mkdir -p "$dir"
        "$CHUANYU" gen --member SC --out "$dir" --students "$n" --schools 2000 --teachers 0 --format csv >&2
    fi
    echo "$dir"
}

# timed OUT_PREFIX CMD...: runs CMD under /usr/bin/time; writes OUT_PREFIX.time ("secs rss_kb"),
# OUT_PREFIX.out and OUT_PREFIX.err; returns CMD's exit status.
timed() {
    local prefix=$1
    shift
    sync
    local rc=0
    "$TIME" -f '%e %M' -o "$prefix.time" "$@" >"$prefix.out" 2>"$prefix.err" || rc=$?
    return $rc
}
secs_of() { awk 'END {print $1}' "$1.time"; }
rss_of() { awk 'END {print $2}' "$1.time"; }

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
# met VALUE OP TARGET -> yes/no
met() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
    ok = (op == ">=") ? (v >= t) : (op == "<") ? (v < t) : (op == "<=") ? (v <= t) : -1
    if (ok < 0) { print "unknown operator " op > "/dev/stderr"; exit 2 }
    print (ok ? "yes" : "NO") }'; }

# A fresh PostgreSQL database; its name is remembered so that cleanup_pg drops it.
PG_DATABASES=()
fresh_pg_db() {
    local name=$1
    PG_DATABASES+=("$name")
    PGOPTIONS='-c client_min_messages=warning' psql -XAtq -v ON_ERROR_STOP=1 -d postgres \
        -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
}
cleanup_pg() {
    local db
    for db in "${PG_DATABASES[@]}"; do
        PGOPTIONS='-c client_min_messages=warning' psql -XAtq -d postgres \
            -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 ||
            log "could not drop database $db; drop it by hand"
    done
    PG_DATABASES=()
}
pg_url() { echo "postgres://$PGUSER@$PGHOST:$PGPORT/$1"; }

# A fresh node in DIR (SQLite unless a database URL is given); imports the schools (untimed).
fresh_node() {
    local dir=$1 data=$2 url=${3:-}
    rm -rf "$dir"
    if [[ -n "$url" ]]; then
        "$CHUANYU" init --member SC --dir "$dir" --database "$url" >/dev/null
    else
        "$CHUANYU" init --member SC --dir "$dir" >/dev/null
    fi
    "$CHUANYU" import schools "$data/schools.csv" --config "$dir/chuanyu.toml" >/dev/null
}

# The "读取 read N · 新增 inserted N · ... 拒绝 rejected N" line of chuanyu import.
import_field() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" "$2" | head -n 1; }

# ---------------------------------------------------------------- wrk runs (lookup.sh, federated.sh)
# They read RUN, SERVER_PID, THREADS, CONNECTIONS, DURATION, LUA and BASE from the caller.
# run_wrk NAME: wrk with the environment set by the caller; output in $RUN/NAME.wrk
# The server's CPU time (user + system, in clock ticks) is read before and after each run:
# CPU per request is far less sensitive to a noisy neighbour than requests/s.
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
server_ticks() { ticks_of "$SERVER_PID"; }
# The PostgreSQL server's CPU time (all its processes) on a --pg run, where the database's
# own work is outside chuanyu's process; 0 on SQLite.
database_ticks() {
    [[ ${ENGINE:-sqlite} == postgres ]] || { echo 0; return; }
    local pid total=0
    for pid in $(pgrep -u postgres); do
        total=$((total + $(ticks_of "$pid" 2>/dev/null || echo 0))) # it may have ended
    done
    echo "$total"
}
run_wrk() {
    log "wrk $1: -t$THREADS -c$CONNECTIONS -d$DURATION"
    local before db_before
    before=$(server_ticks)
    db_before=$(database_ticks)
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s "$LUA" "$BASE" >"$RUN/$1.wrk" 2>&1
    echo $(($(server_ticks) - before)) >"$RUN/$1.ticks"
    echo $(($(database_ticks) - db_before)) >"$RUN/$1.dbticks"
}
# cpu_of NAME [ticks|dbticks]: "<CPU % of one core> <CPU microseconds per response>" of
# the server (default) or of PostgreSQL's processes
cpu_of() {
    awk -v t="$(cat "$RUN/$1.${2:-ticks}")" -v hz="$(getconf CLK_TCK)" -v n="$(responses_of "$1")" \
        -v d="$(awk '/requests in/ {sub(/s,$/, "", $4); print $4}' "$RUN/$1.wrk")" \
        'BEGIN { printf "%.0f %.0f", 100 * t / hz / d, 1e6 * t / hz / n }'
}
rps_of() { awk '/^Requests\/sec:/ {print $2}' "$RUN/$1.wrk"; }
# pct_of NAME 50|99: latency percentile in ms
pct_of() {
    awk -v p="$2%" '$1 == p {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000;
        printf "%.2f", v; exit }' "$RUN/$1.wrk"
}
bad_of() { sed -n 's/.*non-200: \([0-9]*\).*/\1/p' "$RUN/$1.wrk"; }
responses_of() { sed -n 's/^responses: \([0-9]*\),.*/\1/p' "$RUN/$1.wrk"; }
errors_of() { grep -E 'Socket errors|Non-2xx' "$RUN/$1.wrk" | tr '\n' ' ' || true; }
# wrk_table RUN...: one line per wrk run (req/s, latency, responses, server CPU).
wrk_table() {
    printf '%-9s %10s %8s %8s %10s %8s %8s %9s\n' run 'req/s' 'p50 ms' 'p99 ms' responses non-200 'srv CPU%' 'CPU us/r'
    local k cpu_pct cpu_us
    for k in "$@"; do
        read -r cpu_pct cpu_us <<<"$(cpu_of "$k")"
        printf '%-9s %10s %8s %8s %10s %8s %8s %9s\n' "$k" "$(rps_of "$k")" "$(pct_of "$k" 50)" "$(pct_of "$k" 99)" \
            "$(responses_of "$k")" "$(bad_of "$k")" "$cpu_pct" "$cpu_us"
    done
}


# ---------------------------------------------------------------- the two demo nodes
# start_demo: `chuanyu demo` (重庆 and 四川 in one process) in a fresh $RUN/demo, on free
# ports; sets SERVER_PID, CQ_PORT, SC_PORT and BASE (重庆) and stops it on exit.
SERVER_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p
    for p in $(seq "$1" $(($1 + 99))); do
        if port_free "$p"; then echo "$p"; return; fi
    done
    die "no free port from $1"
}
start_demo() {
    rm -rf "$RUN"
    mkdir -p "$RUN"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    CQ_PORT=$(free_port 18700)
    SC_PORT=$(free_port $((CQ_PORT + 1)))
    log "starting the demo (重庆 :$CQ_PORT, 四川 :$SC_PORT) under $RUN/demo"
    "$CHUANYU" demo --dir "$RUN/demo" --cq-listen "127.0.0.1:$CQ_PORT" --sc-listen "127.0.0.1:$SC_PORT" \
        >"$RUN/demo.log" 2>&1 </dev/null &
    SERVER_PID=$!
    BASE="http://127.0.0.1:$CQ_PORT"
    local i
    for i in $(seq 1 300); do # seeding both nodes takes a while on a first run
        grep -q 'Ctrl-C' "$RUN/demo.log" && break
        kill -0 "$SERVER_PID" 2>/dev/null || die "demo exited: $(tail -n 5 "$RUN/demo.log")"
        sleep 1
    done
    grep -q 'Ctrl-C' "$RUN/demo.log" || die "demo did not come up; see $RUN/demo.log"
}

# token_for URL USERNAME: a bearer token for a demo account.
token_for() {
    curl -sf -X POST -H 'content-type: application/json' \
        -d "{\"username\":\"$2\",\"password\":\"chuanyu-demo\"}" "$1/api/v1/auth/token" |
        sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p'
}
