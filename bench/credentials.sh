#!/usr/bin/env bash
# Usage: bench/credentials.sh
#
# Credential verification, in one run:
# 1. offline, on one core: `cargo bench -p credential --bench verify` — full verification of
#    2,000 teacher-certificate credentials (parse, JCS, SHA-256, did:key, Ed25519, trust,
#    dates, two status entries from decoded lists) against a raw Ed25519 verify_strict loop
#    over the same messages; target >= 0.7x.
# 2. over HTTP, on the two `chuanyu demo` nodes: POST /api/v1/credentials/verify on 重庆 with
#    a 重庆 credential (its own status lists) and with a 四川 credential (四川's lists, fetched
#    and cached for their lifetime), against GET /healthz on the same server, before and after.
#
# Environment: BENCH_DIR (default /tmp/chuanyu-bench), CHUANYU (binary), DURATION (per wrk
# run, default 15s), CONNECTIONS (64), THREADS (2), RESULTS (default $BENCH_DIR/results.txt).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

case "${1:-}" in
-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) die "unknown argument $1 (usage: bench/credentials.sh)" ;;
esac
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
LUA="$BENCH_ROOT/bench/wrk-get.lua"

require_chuanyu
require wrk "apt-get install -y wrk"
require curl "apt-get install -y curl"
require sqlite3 "apt-get install -y sqlite3"

RUN="$BENCH_DIR/credentials"
mkdir -p "$BENCH_DIR"
log "offline verification: cargo bench -p credential --bench verify"
OFFLINE=$(cd "$BENCH_ROOT" && cargo bench -q -p credential --bench verify 2>/dev/null)

start_demo
SC_BASE="http://127.0.0.1:$SC_PORT"
# Each node's demo teacher downloads their credential.
credential_of() { # credential_of BASE NODE FILE
    local token cert
    token=$(token_for "$1" "$2.teacher")
    [[ -n "$token" ]] || die "no token for $2.teacher"
    cert=$(sqlite3 "$RUN/demo/$2/data/chuanyu.db" \
        "SELECT cert_no FROM teacher_certificates WHERE citizen_id = (SELECT person_key FROM users WHERE username = '$2.teacher')")
    [[ -n "$cert" ]] || die "$2.teacher holds no certificate"
    curl -sf -H "Authorization: Bearer $token" "$1/api/v1/certificates/$cert/credential" >"$3" ||
        die "cannot download $2.teacher's credential"
}
credential_of "$BASE" cq "$RUN/cq.json"
credential_of "$SC_BASE" sc "$RUN/sc.json"
for kind in cq sc; do
    curl -sf -X POST -H 'content-type: application/json' --data-binary "@$RUN/$kind.json" \
        "$BASE/api/v1/credentials/verify" >"$RUN/$kind.report.json"
    grep -q '"ok":true' "$RUN/$kind.report.json" ||
        die "重庆 does not verify the $kind credential: $(head -c 400 "$RUN/$kind.report.json")"
done

export BENCH_IDS= BENCH_TOKEN=
BENCH_PATH=/healthz BENCH_BODY= run_wrk healthz1
BENCH_PATH=/api/v1/credentials/verify BENCH_BODY="$RUN/cq.json" run_wrk own
BENCH_PATH=/api/v1/credentials/verify BENCH_BODY="$RUN/sc.json" run_wrk peer
BENCH_PATH=/healthz BENCH_BODY= run_wrk healthz2
cleanup

H=$(awk -v a="$(rps_of healthz1)" -v b="$(rps_of healthz2)" 'BEGIN { printf "%.0f", (a + b) / 2 }')
report() {
    echo "== bench/credentials.sh"
    machine
    echo "-- offline, one thread (cargo bench -p credential --bench verify)"
    echo "$OFFLINE" | grep -v '^$'
    echo "-- HTTP: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency against 重庆; both demo nodes in one process; server and wrk share the machine"
    wrk_table healthz1 own peer healthz2
    echo "ratio verify(own) / mean(healthz) = $(rps_of own) / $H = $(ratio "$(rps_of own)" "$H")"
    echo "ratio verify(peer) / mean(healthz) = $(rps_of peer) / $H = $(ratio "$(rps_of peer)" "$H")"
    echo
}
report | tee -a "$RESULTS"
log "appended to $RESULTS; wrk output and the demo's log in $RUN"
