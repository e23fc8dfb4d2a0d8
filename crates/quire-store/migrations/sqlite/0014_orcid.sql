-- An author's ORCID iD (0000-0002-1825-0097), checked and kept bare;
-- NULL: none given.
ALTER TABLE authors ADD COLUMN orcid TEXT;
