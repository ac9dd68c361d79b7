-- Graduate employment (issue 7). Never edit once landed.

-- Employers (用人单位): the organisation (orgs.code = the unified social credit code) and what
-- the bureau over `division` verifies before the employer may post.
CREATE TABLE employers (
    credit_code   TEXT PRIMARY KEY REFERENCES orgs(code),
    name          TEXT NOT NULL,
    employer_type TEXT NOT NULL,
    division      TEXT NOT NULL,
    address       TEXT NOT NULL,
    contact_name  TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected')),
    review_note   TEXT,
    reviewed_by   TEXT,
    reviewed_ms   INTEGER,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);
CREATE INDEX employers_division ON employers(division);

-- 双选会: job fairs a bureau organises in its area; employers attach their jobs to one.
CREATE TABLE job_fairs (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    organiser   TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    division    TEXT NOT NULL,
    venue       TEXT NOT NULL,
    starts_ms   INTEGER NOT NULL,
    ends_ms     INTEGER NOT NULL,
    description TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
);

-- Jobs. `id` is unique across the federation (it starts with the member code); `majors` is a
-- JSON array of major names; `deadline_ms` is the end of the deadline day in UTC+8. The search
-- index follows `updated_ms`.
CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    employer    TEXT NOT NULL REFERENCES employers(credit_code),
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    city        TEXT NOT NULL,
    salary_min  INTEGER NOT NULL,
    salary_max  INTEGER NOT NULL,
    level       TEXT NOT NULL,
    majors      TEXT NOT NULL,
    headcount   INTEGER NOT NULL,
    deadline    TEXT NOT NULL,
    deadline_ms INTEGER NOT NULL,
    contact     TEXT NOT NULL,
    fair_id     TEXT REFERENCES job_fairs(id),
    status      TEXT NOT NULL CHECK (status IN ('draft', 'pending', 'published', 'rejected', 'closed', 'expired')),
    review_note TEXT,
    reviewed_by TEXT,
    published_ms INTEGER,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL
);
CREATE INDEX jobs_employer ON jobs(employer);
CREATE INDEX jobs_updated ON jobs(updated_ms);
CREATE INDEX jobs_status_deadline ON jobs(status, deadline_ms);

-- Graduates as their institution registers them (one row per person and institution year).
-- 去向 (`destination`) is recorded by the institution; `destination_division` is where the
-- graduate works or studies on, for the flows between the provinces.
CREATE TABLE graduates (
    citizen_id           TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    sex                  TEXT NOT NULL,
    institution          TEXT NOT NULL REFERENCES orgs(code),
    division             TEXT NOT NULL,
    major                TEXT NOT NULL,
    level                TEXT NOT NULL,
    study_form           TEXT NOT NULL,
    graduation_date      TEXT NOT NULL,
    diploma_no           TEXT UNIQUE,
    destination          TEXT NOT NULL,
    destination_division TEXT,
    destination_note     TEXT,
    destination_ms       INTEGER,
    updated_ms           INTEGER NOT NULL
);
CREATE INDEX graduates_institution ON graduates(institution);

-- A graduate's own profile (简历): what they choose to show employers.
CREATE TABLE graduate_profiles (
    citizen_id       TEXT PRIMARY KEY REFERENCES graduates(citizen_id),
    phone            TEXT NOT NULL,
    skills           TEXT NOT NULL,
    preferred_cities TEXT NOT NULL,
    resume           TEXT NOT NULL,
    updated_ms       INTEGER NOT NULL
);

-- Applications. The employer's node holds the application (`employer` set); the applicant's
-- node keeps its own copy (`applicant` = the graduate's person key) and asks the employer's
-- node for its progress. On one node both are set on the same row. `id` comes from the
-- applicant's node, so a repeated submission is recognised.
CREATE TABLE applications (
    id               TEXT PRIMARY KEY,
    job_id           TEXT NOT NULL,
    job_member       TEXT NOT NULL,
    job_title        TEXT NOT NULL,
    employer         TEXT,
    employer_name    TEXT NOT NULL,
    applicant        TEXT,
    applicant_member TEXT NOT NULL,
    name             TEXT NOT NULL,
    institution_name TEXT NOT NULL,
    major            TEXT NOT NULL,
    level            TEXT NOT NULL,
    phone            TEXT NOT NULL,
    resume           TEXT NOT NULL,
    diploma          TEXT,
    status           TEXT NOT NULL CHECK (status IN ('submitted', 'reviewing', 'interview', 'offer', 'rejected', 'accepted', 'declined', 'withdrawn')),
    note             TEXT,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL
);
CREATE INDEX applications_job ON applications(job_id);
CREATE INDEX applications_applicant ON applications(applicant);
CREATE UNIQUE INDEX applications_once ON applications(job_id, applicant);

-- A graduate's saved searches (the JSON of the query); matches published after `seen_ms`
-- are shown as new.
CREATE TABLE saved_searches (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    seen_ms    INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX saved_searches_owner ON saved_searches(owner);
