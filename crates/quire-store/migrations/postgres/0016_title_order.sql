-- The admin's list of papers by title walks this index instead of sorting
-- every paper.
CREATE INDEX papers_by_title ON papers (LOWER(title), id);
