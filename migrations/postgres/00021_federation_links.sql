-- Links of upstream identities to local users (package federation): the
-- connector's configured ID and the person's stable key there (an LDAP
-- entry's entryUUID or DN, an OIDC "sub") name one local user. A user may
-- have several links (one per connector); a (connector, subject) pair
-- has one user. Deleting the user deletes its links.

-- +goose Up
CREATE TABLE federation_links (
    connector_id  text        NOT NULL,
    subject       text        NOT NULL,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz NOT NULL,
    PRIMARY KEY (connector_id, subject)
);
CREATE INDEX federation_links_user_idx ON federation_links (user_id);

-- +goose Down
DROP TABLE federation_links;
