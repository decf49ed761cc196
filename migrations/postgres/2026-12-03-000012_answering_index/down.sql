DROP INDEX intake_events_hospital_kind;
CREATE INDEX intake_events_hospital_kind ON intake_events (hospital_id, kind, occurred_at);
