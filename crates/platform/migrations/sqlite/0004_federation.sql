-- Federation (issue 4): the blind index of this node's records, seen nonces, and the
-- message log. The log's rows are committed to by the audit chain: each exchange appends an
-- audit entry (action federation.sent / federation.received) whose detail holds the SHA-256
-- of the stored evidence, so altering a logged message breaks `chuanyu audit verify`.

-- HMAC of a normalised identifier under the federation key -> the record it finds here.
CREATE TABLE federation_index (
    kind       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    student_no TEXT NOT NULL,
    PRIMARY KEY (kind, digest)
);
CREATE INDEX federation_index_student ON federation_index(student_no);

-- Nonces of accepted requests, per signing key: a replay is refused even after a restart
-- or on another instance of the node. Rows older than the signature window may be purged.
CREATE TABLE federation_nonces (
    keyid   TEXT NOT NULL,
    nonce   TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (keyid, nonce)
);

CREATE TABLE federation_messages (
    message_id TEXT NOT NULL,
    direction  TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
    at_ms      INTEGER NOT NULL,
    caller     TEXT NOT NULL,
    callee     TEXT NOT NULL,
    service    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    status     INTEGER NOT NULL,
    evidence   TEXT NOT NULL,
    audit_seq  INTEGER NOT NULL,
    PRIMARY KEY (message_id, direction)
);
CREATE INDEX federation_messages_at ON federation_messages(at_ms);

-- Messages that must arrive: kept until the callee's signed receipt is in (DESIGN.md §2).
-- The worker retries with backoff while the peer is down; a refusal that retrying cannot
-- change (the directory forbids it) ends as 'refused', visible with its reason.
CREATE TABLE federation_outbox (
    message_id   TEXT PRIMARY KEY,
    callee       TEXT NOT NULL,
    service      TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'refused')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_ms      INTEGER NOT NULL,
    last_error   TEXT,
    created_ms   INTEGER NOT NULL,
    delivered_ms INTEGER
);
CREATE INDEX federation_outbox_due ON federation_outbox(state, next_ms);

-- What arrived through peers' outboxes, by message id: a redelivery is answered with the
-- first answer and changes nothing (exactly once, as this node sees it).
CREATE TABLE federation_inbox (
    message_id  TEXT PRIMARY KEY,
    caller      TEXT NOT NULL,
    service     TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    answer      TEXT NOT NULL
);

-- Notices between nodes (notice.deliver): the joint office's and, later, transfers'.
CREATE TABLE federation_notices (
    message_id  TEXT PRIMARY KEY,
    caller      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
