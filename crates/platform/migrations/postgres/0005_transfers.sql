-- Cross-province transfers (issue 5). Never edit once landed.

-- Messages received through peers' outboxes for services that process them later (as
-- transfer.message): stored once per message id with the receipt (federation_inbox), then
-- applied by the owning feature in one transaction that also sets processed_ms.
CREATE TABLE federation_deliveries (
    message_id   TEXT PRIMARY KEY,
    caller       TEXT NOT NULL,
    service      TEXT NOT NULL,
    payload      TEXT NOT NULL,
    received_ms  BIGINT NOT NULL,
    processed_ms BIGINT,
    outcome      TEXT
);
CREATE INDEX federation_deliveries_pending ON federation_deliveries(service, received_ms)
    WHERE processed_ms IS NULL;

-- This node's copy of a transfer. The receiving node creates it when a school applies; the
-- sending node when the request arrives. `side` says which part this node plays.
CREATE TABLE transfers (
    id               TEXT PRIMARY KEY,
    side             TEXT NOT NULL CHECK (side IN ('receiving', 'sending')),
    student_no       TEXT NOT NULL,
    student_name     TEXT NOT NULL,
    from_member      TEXT NOT NULL,
    from_school      TEXT NOT NULL,
    from_school_name TEXT NOT NULL,
    from_division    TEXT NOT NULL,
    to_member        TEXT NOT NULL,
    to_school        TEXT NOT NULL,
    to_school_name   TEXT NOT NULL,
    to_division      TEXT NOT NULL,
    to_grade         TEXT NOT NULL,
    reason           TEXT NOT NULL,
    documents        TEXT NOT NULL,
    state            TEXT NOT NULL,
    step             TEXT,
    due_ms           BIGINT,
    applicant        TEXT NOT NULL,
    outcome_reason   TEXT,
    created_ms       BIGINT NOT NULL,
    updated_ms       BIGINT NOT NULL
);
CREATE INDEX transfers_open ON transfers(state, step);
-- At most one open transfer per student on each side of a node (two applications at once on
-- two instances cannot both be open).
CREATE UNIQUE INDEX transfers_one_open ON transfers(student_no, side)
    WHERE state NOT IN ('completed', 'rejected', 'cancelled');
CREATE INDEX transfers_student ON transfers(student_no);

-- What happened to a transfer, in order: the portal's timeline and the feed other systems
-- subscribe to (GET /api/v1/transfers/events?after=SEQ).
CREATE TABLE transfer_events (
    seq         BIGSERIAL PRIMARY KEY,
    transfer_id TEXT NOT NULL REFERENCES transfers(id),
    at_ms       BIGINT NOT NULL,
    member      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    step        TEXT,
    state       TEXT NOT NULL,
    next_step   TEXT,
    reason      TEXT
);
CREATE INDEX transfer_events_transfer ON transfer_events(transfer_id, seq);
