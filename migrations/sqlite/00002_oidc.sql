-- +goose Up
CREATE TABLE oauth_clients (
    id                      text PRIMARY KEY,
    secret_hash             text NOT NULL DEFAULT '',
    registration_token_hash text NOT NULL DEFAULT '',
    metadata                text NOT NULL,
    first_party             integer NOT NULL DEFAULT 0,
    created_at              datetime NOT NULL,
    updated_at              datetime NOT NULL
);

-- Every code, token and request-bound record fosite stores, keyed by kind
-- and signature (never the token itself). The request is kept in plain
-- columns and the session as JSON text: this table is on the token and
-- introspection hot paths, where parsing JSON in the database or twice in
-- the server would cost more than it gives.
CREATE TABLE oauth_requests (
    kind              text NOT NULL,
    signature         text NOT NULL,
    request_id        text NOT NULL,
    client_id         text NOT NULL,
    subject           text NOT NULL DEFAULT '',
    session_id        text NOT NULL DEFAULT '',
    access_signature  text NOT NULL DEFAULT '',
    active            integer NOT NULL DEFAULT 1,
    requested_at      datetime NOT NULL,
    expires_at        datetime NOT NULL,
    requested_scope   text NOT NULL DEFAULT '',
    granted_scope     text NOT NULL DEFAULT '',
    requested_audience text NOT NULL DEFAULT '',
    granted_audience  text NOT NULL DEFAULT '',
    form              text NOT NULL DEFAULT '',
    session           text NOT NULL,
    PRIMARY KEY (kind, signature)
);
CREATE INDEX oauth_requests_request_id ON oauth_requests (request_id);
CREATE INDEX oauth_requests_expires_at ON oauth_requests (expires_at);
CREATE INDEX oauth_requests_client_id ON oauth_requests (client_id);
CREATE INDEX oauth_requests_session_id ON oauth_requests (session_id) WHERE session_id <> '';
CREATE INDEX oauth_requests_subject ON oauth_requests (subject) WHERE subject <> '';

CREATE TABLE oauth_jtis (
    jti        text PRIMARY KEY,
    expires_at datetime NOT NULL
);
CREATE INDEX oauth_jtis_expires_at ON oauth_jtis (expires_at);

CREATE TABLE login_flows (
    id         text PRIMARY KEY,
    client_id  text NOT NULL,
    version    integer NOT NULL,
    data       text NOT NULL,
    expires_at datetime NOT NULL
);
CREATE INDEX login_flows_expires_at ON login_flows (expires_at);

CREATE TABLE browser_sessions (
    id           text PRIMARY KEY,
    secret_hash  text NOT NULL UNIQUE,
    user_id      text NOT NULL,
    auth_time    datetime NOT NULL,
    amr          text NOT NULL DEFAULT '[]',
    acr          text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    created_at   datetime NOT NULL,
    last_seen_at datetime NOT NULL,
    expires_at   datetime NOT NULL,
    idle_seconds integer NOT NULL
);
CREATE INDEX browser_sessions_user_id ON browser_sessions (user_id);
CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);

CREATE TABLE consents (
    user_id    text NOT NULL,
    client_id  text NOT NULL,
    scopes     text NOT NULL,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE signing_keys (
    id             text PRIMARY KEY,
    algorithm      text NOT NULL,
    state          text NOT NULL,
    private_sealed text NOT NULL,
    created_at     datetime NOT NULL,
    activated_at   datetime,
    retired_at     datetime,
    expires_at     datetime
);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE consents;
DROP TABLE browser_sessions;
DROP TABLE login_flows;
DROP TABLE oauth_jtis;
DROP TABLE oauth_requests;
DROP TABLE oauth_clients;
