DROP INDEX intake_events_closure;
CREATE INDEX intake_events_closure ON intake_events (hospital_id, closure_id)
    WHERE closure_id IS NOT NULL;
