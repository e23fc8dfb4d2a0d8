-- Campaigns queued because their paper went public (newsletter_on_publish):
-- they wait out the grace period as scheduled campaigns, and unpublishing
-- or deleting the paper before they start cancels them.
ALTER TABLE campaigns ADD COLUMN on_publish BOOLEAN NOT NULL DEFAULT FALSE;
