-- A sign-in flow keeps all of its state, a user held for e-mail
-- verification included, instead of a cookie carrying that user. The
-- verification page finds the flow of its browser by the flow cookie's
-- binding: the flow held last (held_at) of that browser. NULL held_at:
-- the flow holds nobody. Flows from before keep an empty binding and
-- simply expire.

-- +goose Up
ALTER TABLE login_flows ADD COLUMN binding text NOT NULL DEFAULT '';
ALTER TABLE login_flows ADD COLUMN held_at timestamptz;
CREATE INDEX login_flows_held ON login_flows (binding, held_at);

-- +goose Down
DROP INDEX login_flows_held;
ALTER TABLE login_flows DROP COLUMN held_at;
ALTER TABLE login_flows DROP COLUMN binding;
