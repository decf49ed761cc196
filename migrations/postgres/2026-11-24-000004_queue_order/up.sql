-- The dashboard's queue order (high severity first, then oldest) as indexes the queue can walk
-- and leave after a page, instead of sorting every matching case: one for the whole queue and
-- one under each of the usual filters (rule, hospital, district). They end with the status, so
-- that the counts per status under a filter are read from the index alone.
ALTER TABLE cases ADD COLUMN severity_rank INTEGER NOT NULL DEFAULT 1;
UPDATE cases SET severity_rank = CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END;
CREATE INDEX cases_rank ON cases (severity_rank DESC, opened_at, id, status);
CREATE INDEX cases_rule_queue ON cases (rule, severity_rank DESC, opened_at, id, status);
CREATE INDEX cases_district_queue ON cases (district, severity_rank DESC, opened_at, id, status);
DROP INDEX cases_hospital;
CREATE INDEX cases_hospital_queue ON cases (hospital_id, severity_rank DESC, opened_at, id, status);
DROP INDEX cases_queue;
CREATE INDEX cases_status ON cases (status, opened_at, id);
