DROP INDEX cases_severity;
DROP INDEX cases_rule_status;
DROP INDEX cases_district;
DROP INDEX cases_hospital;
CREATE INDEX cases_hospital ON cases (hospital_id, opened_at);
DROP INDEX cases_status;
CREATE INDEX cases_queue ON cases (status, severity, opened_at);
DROP INDEX cases_rank;
ALTER TABLE cases DROP COLUMN severity_rank;
