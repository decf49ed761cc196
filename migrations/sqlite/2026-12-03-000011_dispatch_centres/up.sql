-- 120 dispatch centres post their call logs like hospitals post theirs: one register of the
-- sources of a log (`kind`: `hospital`, or `dispatch` for a 120 centre), one events table with
-- its idempotency per source and hash chain per source. `call_id` ties a call's events
-- together (received, answered, dispatched, at the hospital, handed over).
ALTER TABLE hospitals ADD COLUMN kind TEXT NOT NULL DEFAULT 'hospital';
ALTER TABLE intake_events ADD COLUMN call_id TEXT;
CREATE INDEX intake_events_call ON intake_events (hospital_id, call_id)
    WHERE call_id IS NOT NULL;
