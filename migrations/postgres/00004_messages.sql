-- The outbound message queue (package identity/message). A request that
-- sends an e-mail or a text message only inserts a row; workers, possibly
-- several instances against this one database, claim due rows, deliver them
-- and record the outcome. Bodies hold one-time codes and links: they are
-- blanked once the row is sent or failed, and the metadata is purged after a
-- retention period.
--
-- status: queued -> sending (claimed until locked_until) -> sent | failed;
-- a failed attempt goes back to queued with a later next_attempt_at.

-- +goose Up
CREATE TABLE outbound_messages (
    id              text        PRIMARY KEY,
    kind            text        NOT NULL,            -- email or sms
    recipient       text        NOT NULL,            -- address or E.164 number
    subject         text        NOT NULL DEFAULT '',
    body_text       text        NOT NULL DEFAULT '',
    body_html       text        NOT NULL DEFAULT '',
    status          text        NOT NULL DEFAULT 'queued',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    locked_until    timestamptz,
    last_error      text        NOT NULL DEFAULT '', -- short; never a body, code or link
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    CONSTRAINT outbound_messages_kind CHECK (kind IN ('email', 'sms', 'logout')),
    CONSTRAINT outbound_messages_status CHECK (status IN ('queued', 'sending', 'sent', 'failed'))
);
CREATE INDEX outbound_messages_due ON outbound_messages (status, next_attempt_at);

-- +goose Down
DROP TABLE outbound_messages;
