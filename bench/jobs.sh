#!/usr/bin/env bash
# Usage: bench/jobs.sh
#
# Chinese job search, in one run:
# 1. the index (`cargo bench -p search --bench search`): builds an on-disk index of BENCH_JOBS
#    synthetic jobs (default 1,000,000, both provinces) and reports the build rate, then runs
#    a fixed mix of ~50 Chinese queries (filters, facets, highlighting) from 2 threads against a
#    bare tantivy top-10 query of the same words on the same index; target p99 < 50 ms.
# 2. over HTTP, on the two `chuanyu demo` nodes: GET /api/v1/jobs?q=… on 重庆, which searches its
#    own index and asks 四川 (signed both ways, logged on both), against GET /healthz on the same
#    server, before and after.
#
# Environment: BENCH_JOBS, BENCH_SECONDS (index queries, per side, default 20), BENCH_DIR
# (default /tmp/chuanyu-bench), CHUANYU (binary), DURATION (per wrk run, default 15s),
# CONNECTIONS (64), THREADS (2), RESULTS (default $BENCH_DIR/results.txt).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

case "${1:-}" in
-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) die "unknown argument $1 (usage: bench/jobs.sh)" ;;
esac
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
LUA="$BENCH_ROOT/bench/wrk-get.lua"

require_chuanyu
require wrk "apt-get install -y wrk"
require curl "apt-get install -y curl"

RUN="$BENCH_DIR/jobs"
mkdir -p "$BENCH_DIR" "$RUN"
log "index: cargo bench -p search --bench search (BENCH_JOBS=${BENCH_JOBS:-1000000})"
INDEX=$(cd "$BENCH_ROOT" && cargo bench -q -p search --bench search 2>/dev/null)

start_demo
# A query that needs word segmentation, answered by both nodes.
QUERY="/api/v1/jobs?q=%E6%95%B0%E6%8D%AE%E5%88%86%E6%9E%90%20%E5%B7%A5%E7%A8%8B%E5%B8%88" # 数据分析 工程师
curl -sf "$BASE$QUERY" >"$RUN/answer.json" || die "the search does not answer"
grep -q '"source":"SC"' "$RUN/answer.json" || die "重庆's search does not include 四川's jobs: $(head -c 300 "$RUN/answer.json")"
grep -q '"unanswered":\[\]' "$RUN/answer.json" || die "a member did not answer: $(head -c 300 "$RUN/answer.json")"

export BENCH_IDS= BENCH_TOKEN= BENCH_BODY=
BENCH_PATH=/healthz run_wrk healthz1
BENCH_PATH="$QUERY" run_wrk search
BENCH_PATH="/api/v1/jobs?city=5001&level=bachelor" run_wrk browse
BENCH_PATH=/healthz run_wrk healthz2
cleanup

H=$(awk -v a="$(rps_of healthz1)" -v b="$(rps_of healthz2)" 'BEGIN { printf "%.0f", (a + b) / 2 }')
report() {
    echo "== bench/jobs.sh"
    machine
    echo "-- index, in process (cargo bench -p search --bench search)"
    echo "$INDEX" | grep -v '^$'
    echo "-- HTTP: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency against 重庆 (federated: every search also asks 四川); both demo nodes in one process; server and wrk share the machine"
    wrk_table healthz1 search browse healthz2
    echo "ratio search / mean(healthz) = $(rps_of search) / $H = $(ratio "$(rps_of search)" "$H")"
    echo "ratio browse / mean(healthz) = $(rps_of browse) / $H = $(ratio "$(rps_of browse)" "$H")"
    echo
}
report | tee -a "$RESULTS"
log "appended to $RESULTS; wrk output and the demo's log in $RUN"
