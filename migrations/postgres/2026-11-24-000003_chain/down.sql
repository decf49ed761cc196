DROP INDEX intake_events_chain;
ALTER TABLE case_actions DROP COLUMN chain_hash;
ALTER TABLE case_actions DROP COLUMN row_hash;
ALTER TABLE intake_events DROP COLUMN chain_hash;
ALTER TABLE intake_events DROP COLUMN row_hash;
