-- Secret keys the site signs with (comment forms, commenters' cookies),
-- made on first use and shared by every server on the database.
CREATE TABLE site_keys (
    name       TEXT PRIMARY KEY,
    secret     BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
