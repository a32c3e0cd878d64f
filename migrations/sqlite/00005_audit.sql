-- The audit trail (package identity/audit): an append-only, hash-chained
-- log of security events. Each entry's hash is SHA-256 over the previous
-- entry's hash and a canonical encoding of its own fields (see
-- identity/audit/hash.go), so editing, deleting or reordering rows breaks
-- the chain.
--
-- audit_head holds exactly one row: the seq and hash of the newest entry.
-- SQLite has one writer and the store opens immediate transactions, so
-- reading the head, inserting seq = head + 1 and moving the head forward
-- happen one append at a time. audit_checkpoints records, before a
-- retention prune deletes a prefix of the chain, the seq and hash of the
-- last deleted entry; verification starts from the newest checkpoint.
--
-- Types mirror postgres/00005_audit.sql: bigint -> integer,
-- timestamptz -> datetime (fixed-width UTC text, so text order is time
-- order).

-- +goose Up
CREATE TABLE audit_entries (
    seq         integer  NOT NULL PRIMARY KEY,
    occurred_at datetime NOT NULL,
    actor_type  text     NOT NULL,
    actor_id    text     NOT NULL DEFAULT '',
    subject     text     NOT NULL DEFAULT '',
    action      text     NOT NULL,
    outcome     text     NOT NULL,
    ip          text     NOT NULL DEFAULT '',
    user_agent  text     NOT NULL DEFAULT '',
    request_id  text     NOT NULL DEFAULT '',
    details     text     NOT NULL DEFAULT '{}',
    prev_hash   text     NOT NULL,
    hash        text     NOT NULL,
    CONSTRAINT audit_entries_actor_type CHECK (actor_type IN ('user', 'admin', 'client', 'system')),
    CONSTRAINT audit_entries_outcome CHECK (outcome IN ('success', 'failure'))
);
CREATE INDEX audit_entries_occurred_at_idx ON audit_entries (occurred_at);
CREATE INDEX audit_entries_subject_idx ON audit_entries (subject, seq);
CREATE INDEX audit_entries_actor_id_idx ON audit_entries (actor_id, seq);
CREATE INDEX audit_entries_action_idx ON audit_entries (action, seq);

CREATE TABLE audit_head (
    id   integer NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  integer NOT NULL,
    hash text    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE audit_checkpoints (
    seq           integer  NOT NULL PRIMARY KEY,
    hash          text     NOT NULL,
    pruned_before datetime NOT NULL,
    created_at    datetime NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_head;
DROP TABLE audit_entries;
