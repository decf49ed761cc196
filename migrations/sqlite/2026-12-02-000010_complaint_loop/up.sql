-- The 12320 hotline desk's loop (受理 → 转办 → 答复 → 回访): when the complaint was last
-- forwarded to its hospital and the answer's deadline (working days), the hospital's answer
-- (shown on the public timeline), the callback's deadline, what the callback found, and how
-- often a callback reopened it (the second reopening elevates: `complaint.reopened`).
ALTER TABLE complaints ADD COLUMN forwarded_at TIMESTAMP;
ALTER TABLE complaints ADD COLUMN answer_due TIMESTAMP;
ALTER TABLE complaints ADD COLUMN answered_at TIMESTAMP;
ALTER TABLE complaints ADD COLUMN answer TEXT;
ALTER TABLE complaints ADD COLUMN callback_due TIMESTAMP;
ALTER TABLE complaints ADD COLUMN called_back_at TIMESTAMP;
ALTER TABLE complaints ADD COLUMN resolved BOOLEAN;
ALTER TABLE complaints ADD COLUMN satisfaction TEXT;
ALTER TABLE complaints ADD COLUMN reopened INTEGER NOT NULL DEFAULT 0;
-- A hospital's complaint inbox: the complaints ever forwarded to it.
CREATE INDEX complaints_forwarded ON complaints (hospital_id, answer_due)
    WHERE answer_due IS NOT NULL;
