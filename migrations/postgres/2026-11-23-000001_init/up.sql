-- Shouzhen schema, designed for the whole contract. Times are UTC (TIMESTAMP without zone).

CREATE TABLE hospitals (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    district TEXT NOT NULL DEFAULT '',
    jurisdiction TEXT NOT NULL DEFAULT 'national',
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    capacity INTEGER NOT NULL DEFAULT 0,
    escalation_email TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    last_received_at TIMESTAMP
);
CREATE INDEX hospitals_district ON hospitals (district);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    district TEXT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

-- One row per accepted intake event. The raw id_number is never stored: patient_key is its keyed hash.
CREATE TABLE intake_events (
    id BIGSERIAL PRIMARY KEY,
    hospital_id BIGINT NOT NULL REFERENCES hospitals (id),
    event_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    patient_key TEXT,
    acuity TEXT,
    closure_id TEXT,
    payload TEXT NOT NULL,
    UNIQUE (hospital_id, event_id)
);
CREATE INDEX intake_events_patient ON intake_events (patient_key, occurred_at);
CREATE INDEX intake_events_hospital_kind ON intake_events (hospital_id, kind, occurred_at);
CREATE INDEX intake_events_closure ON intake_events (hospital_id, closure_id);

-- Deadlines that the sweeper checks: one row per rule and subject, found by due_at.
CREATE TABLE deadlines (
    id BIGSERIAL PRIMARY KEY,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    hospital_id BIGINT REFERENCES hospitals (id),
    due_at TIMESTAMP NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (rule, subject)
);
CREATE INDEX deadlines_due ON deadlines (done, due_at);

CREATE TABLE cases (
    id BIGSERIAL PRIMARY KEY,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    hospital_id BIGINT REFERENCES hospitals (id),
    district TEXT NOT NULL DEFAULT '',
    occurred_at TIMESTAMP NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    summary TEXT NOT NULL,
    assignee_id BIGINT REFERENCES users (id),
    acknowledged_at TIMESTAMP,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    UNIQUE (rule, subject)
);
CREATE INDEX cases_queue ON cases (status, severity, opened_at);
CREATE INDEX cases_opened ON cases (opened_at, id);
CREATE INDEX cases_hospital ON cases (hospital_id, opened_at);

CREATE TABLE complaints (
    id BIGSERIAL PRIMARY KEY,
    tracking_code TEXT NOT NULL UNIQUE,
    hospital_id BIGINT REFERENCES hospitals (id),
    hospital_name TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    description TEXT NOT NULL,
    description_sealed TEXT,
    contact_sealed TEXT,
    status TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'zh',
    created_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    closed_at TIMESTAMP,
    outcome TEXT,
    rating INTEGER,
    merged_into BIGINT REFERENCES complaints (id)
);
CREATE INDEX complaints_hospital ON complaints (hospital_id, occurred_at);
CREATE INDEX complaints_status ON complaints (status, created_at);

-- The public timeline of a complaint (no personal data).
CREATE TABLE complaint_updates (
    id BIGSERIAL PRIMARY KEY,
    complaint_id BIGINT NOT NULL REFERENCES complaints (id),
    at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    public_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX complaint_updates_complaint ON complaint_updates (complaint_id, at);

CREATE TABLE case_evidence (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    event_row_id BIGINT REFERENCES intake_events (id),
    complaint_id BIGINT REFERENCES complaints (id),
    UNIQUE (case_id, event_row_id),
    UNIQUE (case_id, complaint_id)
);
CREATE INDEX case_evidence_event ON case_evidence (event_row_id);
CREATE INDEX case_evidence_complaint ON case_evidence (complaint_id);

CREATE TABLE case_actions (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    actor_id BIGINT REFERENCES users (id),
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    at TIMESTAMP NOT NULL
);
CREATE INDEX case_actions_case ON case_actions (case_id, at);

-- Transactional outbox for emails: written in the transaction that opens or escalates a case.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    message_id TEXT NOT NULL UNIQUE,
    case_id BIGINT REFERENCES cases (id),
    kind TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- Append-only audit trail.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
