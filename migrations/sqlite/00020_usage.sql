-- The usage figures (package identity/usage, identity/usage/sqlstore):
-- aggregates kept up to date as events happen, so that a report reads a
-- few hundred rows whatever the number of users.
--
-- usage_counts holds one count per (day, metric, client, dimension); the
-- empty client is every client together, the dimension a sign-in method
-- or a grant type ('' when the metric has none). Days are 'YYYY-MM-DD'
-- in UTC. The aggregation worker adds to it in the same transaction that
-- moves usage_cursor past the audit entries it counted; token issuance is
-- counted in memory and added every few seconds.
--
-- usage_active_days records the first sign-in of a user on a day (per
-- client and for '' every client), so daily active users are exact; rows
-- of days past are deleted once the worker has moved on, so it stays
-- small. usage_sketches holds HyperLogLog sketches of the users active in
-- a day, an ISO week and a calendar month, per client: a report reads a
-- week's or a month's as it is, and a period's from its whole weeks and
-- the days at its edges, at most about 80 sketches for 400 days.
--
-- usage_cursor holds one row: the seq of the last audit entry counted.
-- The worker locks it (SELECT ... FOR UPDATE on PostgreSQL), so two
-- instances never count an entry twice.

-- +goose Up
CREATE TABLE usage_counts (
    day       text   NOT NULL,
    metric    text   NOT NULL,
    client_id text   NOT NULL DEFAULT '',
    dimension text   NOT NULL DEFAULT '',
    count     bigint NOT NULL,
    PRIMARY KEY (day, metric, client_id, dimension)
);
-- A report reads its client's days, and one metric of every client,
-- from these alone (index-only scans): a year is about 6,000 entries.
CREATE INDEX usage_counts_client_day_idx ON usage_counts (client_id, day, metric, dimension, count);
CREATE INDEX usage_counts_metric_day_idx ON usage_counts (metric, dimension, day, client_id, count);

CREATE TABLE usage_active_days (
    day       text NOT NULL,
    client_id text NOT NULL,
    user_id   text NOT NULL,
    PRIMARY KEY (day, client_id, user_id)
);

CREATE TABLE usage_sketches (
    span      text   NOT NULL CHECK (span IN ('day', 'week', 'month')),
    client_id text   NOT NULL,
    start     text   NOT NULL, -- the day, the week's Monday, the month's first day
    estimate  bigint NOT NULL, -- the sketch's estimate, kept so that reading it takes no work
    sketch    blob  NOT NULL,
    PRIMARY KEY (span, client_id, start)
);

CREATE TABLE usage_cursor (
    id  integer PRIMARY KEY CHECK (id = 1),
    seq bigint  NOT NULL
);
INSERT INTO usage_cursor (id, seq) VALUES (1, 0);

-- +goose Down
DROP TABLE usage_cursor;
DROP TABLE usage_sketches;
DROP TABLE usage_active_days;
DROP TABLE usage_counts;
