-- The outbound message queue (package identity/message). A request that
-- sends an e-mail or a text message only inserts a row; a worker claims due
-- rows, delivers them and records the outcome. Bodies hold one-time codes
-- and links: they are blanked once the row is sent or failed, and the
-- metadata is purged after a retention period.
--
-- Types mirror postgres/00004_messages.sql: timestamptz -> datetime, written
-- by the queue as fixed-width UTC text so that text order is time order.
--
-- status: queued -> sending (claimed until locked_until) -> sent | failed;
-- a failed attempt goes back to queued with a later next_attempt_at.

-- +goose Up
CREATE TABLE outbound_messages (
    id              text     NOT NULL PRIMARY KEY,
    kind            text     NOT NULL,            -- email or sms
    recipient       text     NOT NULL,            -- address or E.164 number
    subject         text     NOT NULL DEFAULT '',
    body_text       text     NOT NULL DEFAULT '',
    body_html       text     NOT NULL DEFAULT '',
    status          text     NOT NULL DEFAULT 'queued',
    attempts        integer  NOT NULL DEFAULT 0,
    next_attempt_at datetime NOT NULL,
    locked_until    datetime,
    last_error      text     NOT NULL DEFAULT '', -- short; never a body, code or link
    created_at      datetime NOT NULL,
    sent_at         datetime,
    CONSTRAINT outbound_messages_kind CHECK (kind IN ('email', 'sms', 'logout')),
    CONSTRAINT outbound_messages_status CHECK (status IN ('queued', 'sending', 'sent', 'failed'))
);
CREATE INDEX outbound_messages_due ON outbound_messages (status, next_attempt_at);

-- +goose Down
DROP TABLE outbound_messages;
