DROP INDEX complaints_external_ref;
ALTER TABLE complaints DROP COLUMN callback_consent;
ALTER TABLE complaints DROP COLUMN external_ref;
ALTER TABLE complaints DROP COLUMN channel;
