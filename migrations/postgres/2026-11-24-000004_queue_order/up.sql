-- The dashboard's queue order (high severity first, then oldest) as an index the queue can
-- walk and leave after a page, instead of sorting every active case; and indexes that answer
-- the counts per status under each filter without reading the cases.
ALTER TABLE cases ADD COLUMN severity_rank INTEGER NOT NULL DEFAULT 1;
UPDATE cases SET severity_rank = CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END;
CREATE INDEX cases_rank ON cases (severity_rank DESC, opened_at, id);
DROP INDEX cases_queue;
CREATE INDEX cases_status ON cases (status, opened_at, id);
DROP INDEX cases_hospital;
CREATE INDEX cases_hospital ON cases (hospital_id, status, opened_at);
CREATE INDEX cases_district ON cases (district, status);
CREATE INDEX cases_rule_status ON cases (rule, status);
CREATE INDEX cases_severity ON cases (severity, status);
