DROP INDEX cases_forwarded;
ALTER TABLE cases DROP COLUMN returns;
ALTER TABLE cases DROP COLUMN rectification_due;
ALTER TABLE cases DROP COLUMN reply_due;
ALTER TABLE hospitals DROP COLUMN email;
ALTER TABLE users DROP COLUMN hospital_id;
