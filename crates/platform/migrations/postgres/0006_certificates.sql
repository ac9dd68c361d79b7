-- Teacher certificates and issued credentials (issue 6). Never edit once landed.

-- Teachers as their employing school knows them. One row per person (ID number).
CREATE TABLE teachers (
    citizen_id  TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    sex         TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    school_code TEXT NOT NULL,
    division    TEXT NOT NULL,
    subjects    TEXT NOT NULL,
    title       TEXT NOT NULL,
    updated_ms  BIGINT NOT NULL
);
CREATE INDEX teachers_school ON teachers(school_code);

-- Teacher qualification certificates (教师资格证书). `division` is the certifying body's
-- GB/T 2260 code: the bureaus whose scope covers it may suspend, revoke and reinstate.
CREATE TABLE teacher_certificates (
    cert_no         TEXT PRIMARY KEY,
    citizen_id      TEXT NOT NULL REFERENCES teachers(citizen_id),
    name            TEXT NOT NULL,
    cert_type       BIGINT NOT NULL,
    subject         TEXT NOT NULL,
    certifying_body TEXT NOT NULL,
    division        TEXT NOT NULL,
    issue_date      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('valid', 'suspended', 'revoked')),
    status_reason   TEXT,
    status_date     TEXT,
    updated_ms      BIGINT NOT NULL
);
CREATE INDEX teacher_certificates_holder ON teacher_certificates(citizen_id);

-- 定期注册: each five-year re-registration of a certificate.
CREATE TABLE teacher_registrations (
    cert_no      TEXT NOT NULL REFERENCES teacher_certificates(cert_no),
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    result       TEXT NOT NULL,
    recorded_ms  BIGINT NOT NULL,
    PRIMARY KEY (cert_no, period_start)
);

-- Credentials this node issued: the signed document as handed out, and its place in the
-- node's status lists (one bit per credential in the revocation list and the same bit in
-- the suspension list).
CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    subject_ref  TEXT NOT NULL,
    holder       TEXT NOT NULL,
    status_index BIGINT NOT NULL UNIQUE,
    revoked      BOOLEAN NOT NULL,
    suspended    BOOLEAN NOT NULL,
    document     TEXT NOT NULL,
    issued_ms    BIGINT NOT NULL,
    UNIQUE (kind, subject_ref)
);
CREATE INDEX credentials_holder ON credentials(holder);

-- Short verification codes a holder shares instead of the file (学信网-style).
CREATE TABLE verification_codes (
    code          TEXT PRIMARY KEY,
    credential_id TEXT NOT NULL REFERENCES credentials(id),
    created_by    TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    expires_ms    BIGINT NOT NULL,
    revoked_ms    BIGINT
);
CREATE INDEX verification_codes_credential ON verification_codes(credential_id);
