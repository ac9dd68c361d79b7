#!/usr/bin/env bash
# Usage: bench/federated.sh
#
# Federated look-up against local look-up, in one run, on the two demo nodes (`chuanyu demo`:
# 重庆 and 四川 on SQLite in one federation, one process): GET /api/v1/students/{学籍号}
# ?purpose=transfer-verification on 重庆 as its platform administrator, first for students
# 重庆 holds (local: read + audit), then for students 四川 holds (federated: blind index, a
# signed request, 四川 verifies, reads, minimises, audits and logs, signs the answer bound to
# the request, 重庆 verifies it and logs the exchange and the access before answering; the
# look-ups waiting at one moment share one exchange, each audited on both nodes).
# Reports requests/s, p50/p99, CPU per request (both nodes together) and
# federated_rps / local_rps; targets: >= 0.3 and p99 within 3x of local.
#
# Environment: BENCH_DIR (default /tmp/chuanyu-bench), CHUANYU (binary), DURATION (per wrk
# run, default 20s), CONNECTIONS (64), THREADS (2), RESULTS (default
# $BENCH_DIR/results.txt).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

case "${1:-}" in
-h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) die "unknown argument $1 (usage: bench/federated.sh)" ;;
esac
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
LUA="$BENCH_ROOT/bench/wrk-get.lua"

require_chuanyu
require wrk "apt-get install -y wrk"
require curl "apt-get install -y curl"
require sqlite3 "apt-get install -y sqlite3"

RUN="$BENCH_DIR/federated"
start_demo
TOKEN=$(token_for "$BASE" cq.admin)
[[ -n "$TOKEN" ]] || die "no token for cq.admin"

sqlite3 "$RUN/demo/cq/data/chuanyu.db" 'SELECT student_no FROM students ORDER BY random() LIMIT 1000' >"$RUN/local.txt"
sqlite3 "$RUN/demo/sc/data/chuanyu.db" 'SELECT student_no FROM students ORDER BY random() LIMIT 1000' >"$RUN/federated.txt"
SUFFIX='?purpose=transfer-verification'
for kind in local federated; do
    first=$(head -n 1 "$RUN/$kind.txt")
    status=$(curl -s -o "$RUN/$kind.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/students/$first$SUFFIX")
    [[ $status == 200 ]] || die "$kind look-up of $first answered $status: $(head -c 300 "$RUN/$kind.json")"
done
grep -q '"source":"SC"' "$RUN/federated.json" || die "the federated answer does not name SC: $(head -c 300 "$RUN/federated.json")"

export BENCH_PATH= BENCH_PREFIX=/api/v1/students/ BENCH_SUFFIX="$SUFFIX" BENCH_TOKEN="$TOKEN"
messages() { sqlite3 "$RUN/demo/$1/data/chuanyu.db" "SELECT count(*) FROM federation_messages"; }
accesses() { sqlite3 "$RUN/demo/$1/data/chuanyu.db" "SELECT count(*) FROM audit_log WHERE action = 'student.read.federated'"; }
BENCH_IDS="$RUN/local.txt" run_wrk local1
before_cq=$(messages cq)
before_sc=$(messages sc)
read_before_cq=$(accesses cq)
read_before_sc=$(accesses sc)
BENCH_IDS="$RUN/federated.txt" run_wrk federated
sleep 1
logged_cq=$(($(messages cq) - before_cq))
logged_sc=$(($(messages sc) - before_sc))
read_cq=$(($(accesses cq) - read_before_cq))
read_sc=$(($(accesses sc) - read_before_sc))
BENCH_IDS="$RUN/local.txt" run_wrk local2
cleanup

L1=$(rps_of local1)
L2=$(rps_of local2)
LMEAN=$(awk -v a="$L1" -v b="$L2" 'BEGIN { printf "%.0f", (a + b) / 2 }')
F=$(rps_of federated)
R=$(ratio "$F" "$LMEAN")
LP99=$(awk -v a="$(pct_of local1 99)" -v b="$(pct_of local2 99)" 'BEGIN { printf "%.2f", (a > b ? a : b) }')
FP99=$(pct_of federated 99)
P=$(ratio "$FP99" "$LP99")
report() {
    echo "== bench/federated.sh"
    machine
    echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency against 重庆; both demo nodes in one process; server and wrk share the machine"
    printf '%-10s %10s %8s %8s %10s %8s %8s %9s  %s\n' run 'req/s' 'p50 ms' 'p99 ms' responses non-200 \
        'srv CPU%' 'CPU us/r' 'wrk errors'
    local k
    for k in local1 federated local2; do
        read -r cpu_pct cpu_us <<<"$(cpu_of $k)"
        printf '%-10s %10s %8s %8s %10s %8s %8s %9s  %s\n' "$k" "$(rps_of $k)" "$(pct_of $k 50)" "$(pct_of $k 99)" \
            "$(responses_of $k)" "$(bad_of $k)" "$cpu_pct" "$cpu_us" "$(errors_of $k)"
    done
    echo "exchanges logged during the federated run: 重庆 $logged_cq, 四川 $logged_sc (answers: $(responses_of federated); $(ratio "$(responses_of federated)" "$logged_cq") look-ups per exchange)"
    echo "accesses audited during the federated run: 重庆 $read_cq, 四川 $read_sc (each answer is one on each node; wrk may count fewer answers than were made: the last ones when it stops)"
    echo "ratio federated / mean(local) = $F / $LMEAN = $R  (target >= 0.3: $(met "$R" '>=' 0.3))"
    echo "p99 federated / local = $FP99 / $LP99 ms = $P  (target <= 3: $(met "$P" '<=' 3))"
    [[ "$(bad_of federated)" == 0 ]] || echo "WARNING: $(bad_of federated) federated look-ups were not 200; see $RUN/federated.wrk"
    echo
}
report | tee -a "$RESULTS"
log "appended to $RESULTS; wrk output and the demo's log in $RUN"
