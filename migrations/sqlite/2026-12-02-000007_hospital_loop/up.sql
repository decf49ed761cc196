-- The closed loop with hospitals (转办 → 答复 → 整改 → 核实).
-- A hospital's own staff are users bound to their hospital (role `hospital`).
ALTER TABLE users ADD COLUMN hospital_id BIGINT REFERENCES hospitals (id);
-- Where the hospital's notices go: forwarded cases, returns, reminders.
ALTER TABLE hospitals ADD COLUMN email TEXT;
-- The hospital's reply deadline (set by `forward` and `return`; kept once the reply came, so
-- that a case ever forwarded is known by it), the rectification deadline (set by `accept`),
-- and how often the reply or rectification was sent back (the third `return` elevates).
ALTER TABLE cases ADD COLUMN reply_due TIMESTAMP;
ALTER TABLE cases ADD COLUMN rectification_due TIMESTAMP;
ALTER TABLE cases ADD COLUMN returns INTEGER NOT NULL DEFAULT 0;
-- A hospital's inbox: its forwarded cases.
CREATE INDEX cases_forwarded ON cases (hospital_id, reply_due) WHERE reply_due IS NOT NULL;
