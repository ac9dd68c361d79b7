-- Whose record each audit entry concerns, indexed behind the log rather than with every
-- entry: an index on audit_log(subject, seq) put each audited read on a random leaf, and
-- under load those leaves were most of what a commit wrote. `audit::index_subjects` adds
-- the entries after `audit_subjects_upto` in passes sorted by subject; a person's accesses
-- are the indexed ones and those after `audit_subjects_upto` (see `audit::accesses_to`).
CREATE TABLE audit_subjects (
    subject TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (subject, seq)
);
-- In key order, read along the old index: a log of millions of entries is copied in one pass.
INSERT INTO audit_subjects (subject, seq)
SELECT subject, seq FROM audit_log WHERE subject IS NOT NULL ORDER BY subject, seq;
DROP INDEX audit_subject;

-- The last sequence number up to which every entry with a subject is in audit_subjects.
CREATE TABLE audit_subjects_upto (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO audit_subjects_upto (id, seq) SELECT 1, seq FROM audit_head WHERE id = 1;
