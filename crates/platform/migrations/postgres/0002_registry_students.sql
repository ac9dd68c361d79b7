-- 学籍 student-status records, owned by the registry. Never edit once landed.
CREATE TABLE students (
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
    status             TEXT NOT NULL,
    updated_ms         BIGINT NOT NULL
);
CREATE UNIQUE INDEX students_citizen_id ON students(citizen_id);
CREATE INDEX students_school_grade ON students(school_code, grade);
CREATE INDEX students_name ON students(name);
