DROP INDEX intake_events_call;
ALTER TABLE intake_events DROP COLUMN call_id;
ALTER TABLE hospitals DROP COLUMN kind;
