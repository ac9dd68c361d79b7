-- 学籍 history (异动) and bulk-import bookkeeping, owned by the registry. Never edit once landed.

-- Grade as a number (1–12) for ordering and for telling 升级 from 留级; the version counts
-- updates; updated_by names who last changed the record.
ALTER TABLE students ADD COLUMN grade_no INTEGER NOT NULL DEFAULT 0;
ALTER TABLE students ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE students ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
CREATE INDEX students_status ON students(status);

-- Every status change (异动) and every change of a record, with its date, reason and who.
CREATE TABLE student_changes (
    id          INTEGER PRIMARY KEY,
    student_no  TEXT NOT NULL REFERENCES students(student_no),
    change_type TEXT NOT NULL,
    change_date TEXT NOT NULL,
    reason      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT,
    detail      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    source      TEXT NOT NULL,
    at_ms       INTEGER NOT NULL
);
CREATE INDEX student_changes_student ON student_changes(student_no, id);

CREATE TABLE import_runs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    actor       TEXT NOT NULL,
    org_scope   TEXT NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    state       TEXT NOT NULL,
    read_rows   INTEGER NOT NULL DEFAULT 0,
    inserted    INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    started_ms  INTEGER NOT NULL,
    finished_ms INTEGER
);

-- The rows an import refused and why, for the page and the downloadable report.
CREATE TABLE import_problems (
    run_id      TEXT NOT NULL REFERENCES import_runs(id) ON DELETE CASCADE,
    row_no      INTEGER NOT NULL,
    column_name TEXT NOT NULL,
    value       TEXT NOT NULL,
    code        TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX import_problems_run ON import_problems(run_id, row_no);
