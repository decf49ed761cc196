DROP INDEX cases_status;
CREATE INDEX cases_queue ON cases (status, severity, opened_at);
DROP INDEX cases_hospital_queue;
CREATE INDEX cases_hospital ON cases (hospital_id, opened_at);
DROP INDEX cases_district_queue;
DROP INDEX cases_rule_queue;
DROP INDEX cases_rank;
ALTER TABLE cases DROP COLUMN severity_rank;
