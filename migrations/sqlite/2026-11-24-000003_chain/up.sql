-- The tamper-evident record: each intake event and each case action carries the hash of its
-- content (row_hash) and the hash of that and the chain hash of the row before it (chain_hash):
-- per hospital for events, one chain for case actions. `shouzhen audit verify` checks them.
ALTER TABLE intake_events ADD COLUMN row_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE intake_events ADD COLUMN chain_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE case_actions ADD COLUMN row_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE case_actions ADD COLUMN chain_hash TEXT NOT NULL DEFAULT '';
-- The head of a hospital's chain: its last event by row id.
CREATE INDEX intake_events_chain ON intake_events (hospital_id, id);
