-- The 12320 hotline desk, first part: how a complaint came in (`web`, `phone`, `12345`,
-- `letter`), the platform's work-order number (unique per channel: filing one twice files
-- nothing new), and whether the caller agreed to be called back.
ALTER TABLE complaints ADD COLUMN channel TEXT NOT NULL DEFAULT 'web';
ALTER TABLE complaints ADD COLUMN external_ref TEXT;
ALTER TABLE complaints ADD COLUMN callback_consent BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX complaints_external_ref ON complaints (channel, external_ref)
    WHERE external_ref IS NOT NULL;
