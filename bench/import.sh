#!/usr/bin/env bash
# Usage: bench/import.sh [ROWS]        (default 1000000)
#
# Import of a 学籍 CSV, as ratios against references run in the same invocation on the same
# machine and the same file:
#   sqlite3 .import  into an equivalent keyed table  vs  chuanyu import students (SQLite node)
#   psql \copy       into an equivalent keyed table  vs  chuanyu import students (PostgreSQL node)
# plus the "memory flat" check: chuanyu's peak RSS at ROWS/10 and at ROWS.
#
# Environment: BENCH_DIR (work dir, default /tmp/chuanyu-bench; data is generated once and
# reused), CHUANYU (binary, default target/release/chuanyu), PGHOST/PGPORT/PGUSER (default
# 127.0.0.1:5432, postgres, trust auth), SKIP_PG=1 (SQLite only), KEEP=1 (keep the databases
# written by the run under $BENCH_DIR/import-*), RESULTS (file the summary is appended to,
# default $BENCH_DIR/results.txt).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

case "${1:-}" in -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
ROWS="${1:-1000000}"
[[ "$ROWS" =~ ^[0-9]+$ && "$ROWS" -ge 10 ]] || die "ROWS must be a number >= 10"
SMALL=$((ROWS / 10))

require_chuanyu
require sqlite3 "apt-get install -y sqlite3"
require "$TIME" "apt-get install -y time"
if [[ "${SKIP_PG:-}" != 1 ]]; then
    require psql "apt-get install -y postgresql-client (and a server on $PGHOST:$PGPORT, user $PGUSER, trust auth)"
    psql -XAtq -d postgres -c 'SELECT 1' >/dev/null || die "PostgreSQL not reachable at $PGHOST:$PGPORT as $PGUSER (SKIP_PG=1 skips it)"
fi

RUN="$BENCH_DIR/import-$ROWS"
mkdir -p "$BENCH_DIR"
rm -rf "$RUN"
mkdir -p "$RUN"
PGREF="chuanyu_bench_ref_$$"
PGNODE="chuanyu_bench_node_$$"

cleanup() {
    cleanup_pg
    if [[ "${KEEP:-}" != 1 ]]; then
        rm -rf "$RUN/ref.db" "$RUN/ref.db-wal" "$RUN/ref.db-shm" "$RUN/node-sqlite" "$RUN/node-small" "$RUN/node-pg"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DATA="$(data_for "$ROWS")"
SMALL_DATA="$(data_for "$SMALL")"
CSV="$DATA/students.csv"
# Warm the page cache so that neither side pays for the first read of the file.
cat "$CSV" "$SMALL_DATA/students.csv" >/dev/null
csv_rows=$(($(wc -l <"$CSV") - 1))
[[ "$csv_rows" -eq "$ROWS" ]] || die "$CSV has $csv_rows data rows, expected $ROWS"
# School codes for the orgs table the references' foreign key points at.
tail -n +2 "$DATA/schools.csv" | cut -d, -f1 >"$RUN/school-codes.txt"

# The students table as migrations/<engine>/0002 + 0003 leave it, minus the columns the CSV
# does not carry (updated_ms, grade_no, version, updated_by), columns in CSV order.
COLUMNS_DDL='
    student_no         TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    sex                TEXT NOT NULL,
    birth_date         TEXT NOT NULL,
    id_type            TEXT NOT NULL,
    citizen_id         TEXT,
    ethnicity          TEXT NOT NULL,
    hukou_division     TEXT NOT NULL,
    residence_division TEXT NOT NULL,
    school_code        TEXT NOT NULL REFERENCES orgs(code),
    stage              TEXT NOT NULL,
    grade              TEXT NOT NULL,
    class_name         TEXT NOT NULL,
    enrol_date         TEXT NOT NULL,
    status             TEXT NOT NULL'
INDEXES_DDL='
CREATE UNIQUE INDEX students_citizen_id ON students(citizen_id);
CREATE INDEX students_school_grade ON students(school_code, grade);
CREATE INDEX students_name ON students(name);
CREATE INDEX students_status ON students(status);'

declare -A SECS RSS COUNT NOTE

# ---------------------------------------------------------------- SQLite reference
log "sqlite3 .import of $ROWS rows (reference)"
REF="$RUN/ref.db"
sqlite3 "$REF" <<SQL >/dev/null
PRAGMA journal_mode=WAL;
CREATE TABLE orgs (code TEXT PRIMARY KEY);
CREATE TABLE students ($COLUMNS_DDL
);
$INDEXES_DDL
.mode csv
.import $RUN/school-codes.txt orgs
SQL
# What the node's connections set: WAL, synchronous=NORMAL, foreign keys on.
timed "$RUN/sqlite3" sqlite3 "$REF" \
    'PRAGMA journal_mode=WAL' 'PRAGMA synchronous=NORMAL' 'PRAGMA foreign_keys=ON' \
    '.mode csv' ".import --skip 1 $CSV students" ||
    NOTE[sqlite3]="exit $?"
SECS[sqlite3]=$(secs_of "$RUN/sqlite3")
RSS[sqlite3]=$(rss_of "$RUN/sqlite3")
COUNT[sqlite3]=$(sqlite3 "$REF" 'SELECT count(*) FROM students')
[[ -s "$RUN/sqlite3.err" ]] && NOTE[sqlite3]+=" stderr: $(head -c 300 "$RUN/sqlite3.err" | tr '\n' ' ')"

# ---------------------------------------------------------------- chuanyu on SQLite
log "chuanyu import students, $ROWS rows, SQLite node"
fresh_node "$RUN/node-sqlite" "$DATA"
timed "$RUN/chuanyu-sqlite" "$CHUANYU" import students "$CSV" --config "$RUN/node-sqlite/chuanyu.toml" ||
    NOTE[chuanyu-sqlite]="exit $?"
SECS[chuanyu-sqlite]=$(secs_of "$RUN/chuanyu-sqlite")
RSS[chuanyu-sqlite]=$(rss_of "$RUN/chuanyu-sqlite")
COUNT[chuanyu-sqlite]=$(sqlite3 "$RUN/node-sqlite/data/chuanyu.db" 'SELECT count(*) FROM students')
NOTE[chuanyu-sqlite]+=" rejected $(import_field rejected "$RUN/chuanyu-sqlite.out")"

if [[ "${SKIP_PG:-}" != 1 ]]; then
    # ------------------------------------------------------------ PostgreSQL reference
    log "psql \\copy of $ROWS rows (reference)"
    fresh_pg_db "$PGREF"
    psql -XAtq -v ON_ERROR_STOP=1 -d "$PGREF" >/dev/null <<SQL
CREATE TABLE orgs (code TEXT PRIMARY KEY);
CREATE TABLE students ($COLUMNS_DDL
);
$INDEXES_DDL
CREATE INDEX students_name_prefix ON students (name text_pattern_ops);
\\copy orgs FROM '$RUN/school-codes.txt' WITH (FORMAT csv)
SQL
    timed "$RUN/psql" psql -XAtq -v ON_ERROR_STOP=1 -d "$PGREF" \
        -c "\\copy students FROM '$CSV' WITH (FORMAT csv, HEADER true)" ||
        NOTE[psql]="exit $?"
    SECS[psql]=$(secs_of "$RUN/psql")
    RSS[psql]=$(rss_of "$RUN/psql")
    COUNT[psql]=$(psql -XAtq -d "$PGREF" -c 'SELECT count(*) FROM students')
    [[ -s "$RUN/psql.err" ]] && NOTE[psql]+=" stderr: $(head -c 300 "$RUN/psql.err" | tr '\n' ' ')"
    cleanup_pg # frees the reference's disk before the next run

    # ------------------------------------------------------------ chuanyu on PostgreSQL
    log "chuanyu import students, $ROWS rows, PostgreSQL node"
    fresh_pg_db "$PGNODE"
    fresh_node "$RUN/node-pg" "$DATA" "$(pg_url "$PGNODE")"
    timed "$RUN/chuanyu-pg" "$CHUANYU" import students "$CSV" --config "$RUN/node-pg/chuanyu.toml" ||
        NOTE[chuanyu-pg]="exit $?"
    SECS[chuanyu-pg]=$(secs_of "$RUN/chuanyu-pg")
    RSS[chuanyu-pg]=$(rss_of "$RUN/chuanyu-pg")
    COUNT[chuanyu-pg]=$(psql -XAtq -d "$PGNODE" -c 'SELECT count(*) FROM students')
    NOTE[chuanyu-pg]+=" rejected $(import_field rejected "$RUN/chuanyu-pg.out")"
    cleanup_pg
fi

# ---------------------------------------------------------------- memory flat
log "chuanyu import students, $SMALL rows, SQLite node (memory check)"
fresh_node "$RUN/node-small" "$SMALL_DATA"
timed "$RUN/chuanyu-small" "$CHUANYU" import students "$SMALL_DATA/students.csv" --config "$RUN/node-small/chuanyu.toml" ||
    NOTE[chuanyu-small]="exit $?"
SECS[chuanyu-small]=$(secs_of "$RUN/chuanyu-small")
RSS[chuanyu-small]=$(rss_of "$RUN/chuanyu-small")
COUNT[chuanyu-small]=$(sqlite3 "$RUN/node-small/data/chuanyu.db" 'SELECT count(*) FROM students')
NOTE[chuanyu-small]+=" rejected $(import_field rejected "$RUN/chuanyu-small.out")"

# ---------------------------------------------------------------- report
report() {
    echo "== bench/import.sh $ROWS"
    machine
    echo "file: $CSV ($(du -h "$CSV" | cut -f1), $csv_rows rows)"
    printf '%-15s %9s %9s %9s %10s  %s\n' run rows seconds rows/s 'peak RSS' notes
    local k
    for k in sqlite3 chuanyu-sqlite psql chuanyu-pg chuanyu-small; do
        [[ -n "${SECS[$k]:-}" ]] || continue
        printf '%-15s %9s %9s %9s %7s MB  %s\n' "$k" "${COUNT[$k]}" "${SECS[$k]}" \
            "$(per_sec "${COUNT[$k]}" "${SECS[$k]}")" "$(mb "${RSS[$k]}")" "${NOTE[$k]:-}"
    done
    local r
    r=$(ratio "${SECS[sqlite3]}" "${SECS[chuanyu-sqlite]}")
    echo "ratio sqlite3 / chuanyu (SQLite):   $r  (target >= 1.0: $(met "$r" '>=' 1.0))"
    if [[ -n "${SECS[psql]:-}" ]]; then
        r=$(ratio "${SECS[psql]}" "${SECS[chuanyu-pg]}")
        echo "ratio psql \\copy / chuanyu (PG):    $r  (target >= 0.8: $(met "$r" '>=' 0.8))"
    fi
    echo "memory: peak RSS $(mb "${RSS[chuanyu-small]}") MB at $SMALL rows, $(mb "${RSS[chuanyu-sqlite]}") MB at $ROWS rows" \
        "(x$(ratio "${RSS[chuanyu-sqlite]}" "${RSS[chuanyu-small]}") for x10 rows)"
    local want
    for k in sqlite3 chuanyu-sqlite psql chuanyu-pg chuanyu-small; do
        [[ -n "${COUNT[$k]:-}" ]] || continue
        want=$ROWS
        [[ $k == chuanyu-small ]] && want=$SMALL
        [[ "${COUNT[$k]}" == "$want" ]] || echo "WARNING: $k stored ${COUNT[$k]} rows, expected $want"
    done
    echo
}
report | tee -a "$RESULTS"
log "appended to $RESULTS; logs in $RUN"
