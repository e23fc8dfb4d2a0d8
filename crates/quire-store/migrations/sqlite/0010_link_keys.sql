-- Subscribers' links carry this version in their signature: raising it
-- revokes every link already sent to them.
ALTER TABLE subscribers ADD COLUMN link_version INTEGER NOT NULL DEFAULT 1;
-- Confirmation links that were used, by a digest of the link, until they
-- would have expired anyway: each works once.
CREATE TABLE used_links (
    digest     TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);
CREATE INDEX used_links_by_expiry ON used_links (expires_at);
