-- Messages that carry a code or link (verification, password reset,
-- unlock) keep the time it stops working. The worker drops such a message
-- unsent once that time has passed, instead of delivering a dead code
-- after an outage. NULL: the message carries neither.
--
-- Types mirror postgres/00012_message_expiry.sql: timestamptz -> datetime,
-- written as fixed-width UTC text like the queue's other times.

-- +goose Up
ALTER TABLE outbound_messages ADD COLUMN expires_at datetime;

-- +goose Down
ALTER TABLE outbound_messages DROP COLUMN expires_at;
