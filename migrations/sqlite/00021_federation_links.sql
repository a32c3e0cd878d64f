-- Links of upstream identities to local users (package federation); see
-- postgres/00022_federation_links.sql. Types: uuid -> text,
-- timestamptz -> datetime.

-- +goose Up
CREATE TABLE federation_links (
    connector_id  text        NOT NULL,
    subject       text        NOT NULL,
    user_id       text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    datetime    NOT NULL,
    last_login_at datetime    NOT NULL,
    PRIMARY KEY (connector_id, subject)
);
CREATE INDEX federation_links_user_idx ON federation_links (user_id);

-- +goose Down
DROP TABLE federation_links;
