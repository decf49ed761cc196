CREATE INDEX intake_events_chain ON intake_events (hospital_id, id);
ALTER TABLE hospitals DROP COLUMN event_chain_head;
