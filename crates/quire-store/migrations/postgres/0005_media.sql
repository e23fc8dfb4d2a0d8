-- A paper's images, stored with it in the database: one thing to back up,
-- and every server that shares the database serves the same images.
CREATE TABLE paper_media (
    paper_id  BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('png', 'jpeg', 'gif', 'webp', 'svg')),
    width     BIGINT,
    height    BIGINT,
    byte_size BIGINT NOT NULL,
    sha256    TEXT NOT NULL,
    data      BYTEA NOT NULL,
    PRIMARY KEY (paper_id, name)
);
-- Images are compressed already: store them out of line without trying
-- to compress them again.
ALTER TABLE paper_media ALTER COLUMN data SET STORAGE EXTERNAL;
