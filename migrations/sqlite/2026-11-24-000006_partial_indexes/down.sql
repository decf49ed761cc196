DROP INDEX deadlines_open_due;
CREATE INDEX deadlines_due ON deadlines (done, due_at);
DROP INDEX intake_events_closure;
CREATE INDEX intake_events_closure ON intake_events (hospital_id, closure_id);
