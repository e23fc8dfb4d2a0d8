-- Papers moved to the trash: gone for readers, kept (with comments and
-- images) until restored or purged. NULL: not in the trash.
ALTER TABLE papers ADD COLUMN trashed_at TEXT;
