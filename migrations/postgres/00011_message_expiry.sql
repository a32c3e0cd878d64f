-- Messages that carry a code or link (verification, password reset,
-- unlock) keep the time it stops working. The worker drops such a message
-- unsent once that time has passed, instead of delivering a dead code
-- after an outage. NULL: the message carries neither.

-- +goose Up
ALTER TABLE outbound_messages ADD COLUMN expires_at timestamptz;

-- +goose Down
ALTER TABLE outbound_messages DROP COLUMN expires_at;
