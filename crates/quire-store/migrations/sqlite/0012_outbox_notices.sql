-- Messages outside campaigns (confirmations, links, comment notices) keep
-- what they are about, as JSON, and are written when they are sent, with
-- the site's name and address of that moment. Rows queued before keep
-- their written subject, html and text.
ALTER TABLE outbox ADD COLUMN notice TEXT;
