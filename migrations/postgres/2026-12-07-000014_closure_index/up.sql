-- A closure's rules need its first start, its first end after that, and the events of the
-- first hours after the start (the diversion), not every restatement of a closure that stays
-- closed for weeks: the index orders each kind of a closure's events by time (and row, the
-- rules' order of events at the same time), so that each of these is a seek.
DROP INDEX intake_events_closure;
CREATE INDEX intake_events_closure ON intake_events (hospital_id, closure_id, kind, occurred_at, id)
    WHERE closure_id IS NOT NULL;
