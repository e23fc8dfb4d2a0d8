-- A paper's images, stored with it in the database: one file to back up,
-- and every server that shares a database serves the same images.
CREATE TABLE paper_media (
    paper_id  INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('png', 'jpeg', 'gif', 'webp', 'svg')),
    width     INTEGER,
    height    INTEGER,
    byte_size INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (paper_id, name)
);
