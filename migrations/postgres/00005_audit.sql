-- The audit trail (package identity/audit): an append-only, hash-chained
-- log of security events. Each entry's hash is SHA-256 over the previous
-- entry's hash and a canonical encoding of its own fields (see
-- identity/audit/hash.go), so editing, deleting or reordering rows breaks
-- the chain.
--
-- audit_head holds exactly one row: the seq and hash of the newest entry.
-- Appenders lock it (SELECT ... FOR UPDATE), insert seq = head + 1 with
-- prev_hash = head hash and move it forward, so several instances on one
-- database append one at a time. audit_checkpoints records, before a
-- retention prune deletes a prefix of the chain, the seq and hash of the
-- last deleted entry; verification starts from the newest checkpoint.

-- +goose Up
CREATE TABLE audit_entries (
    seq         bigint      PRIMARY KEY,
    occurred_at timestamptz NOT NULL,            -- UTC, microseconds
    actor_type  text        NOT NULL,            -- user, admin, client or system
    actor_id    text        NOT NULL DEFAULT '',
    subject     text        NOT NULL DEFAULT '', -- user or client id the event concerns
    action      text        NOT NULL,            -- e.g. login.failed
    outcome     text        NOT NULL,            -- success or failure
    ip          text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    request_id  text        NOT NULL DEFAULT '',
    details     text        NOT NULL DEFAULT '{}', -- JSON object of strings; never secrets
    prev_hash   text        NOT NULL,            -- hex; '' before the first entry
    hash        text        NOT NULL,            -- hex SHA-256
    CONSTRAINT audit_entries_actor_type CHECK (actor_type IN ('user', 'admin', 'client', 'system')),
    CONSTRAINT audit_entries_outcome CHECK (outcome IN ('success', 'failure'))
);
CREATE INDEX audit_entries_occurred_at_idx ON audit_entries (occurred_at);
CREATE INDEX audit_entries_subject_idx ON audit_entries (subject, seq);
CREATE INDEX audit_entries_actor_id_idx ON audit_entries (actor_id, seq);
CREATE INDEX audit_entries_action_idx ON audit_entries (action, seq);

CREATE TABLE audit_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint  NOT NULL,
    hash text    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE audit_checkpoints (
    seq           bigint      PRIMARY KEY, -- last pruned entry
    hash          text        NOT NULL,    -- its hash
    pruned_before timestamptz NOT NULL,
    created_at    timestamptz NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_head;
DROP TABLE audit_entries;
