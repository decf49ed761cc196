//! The one schema both backends share (the migrations under `migrations/` keep them equal).

diesel::table! {
    hospitals (id) {
        id -> BigInt,
        code -> Text,
        name -> Text,
        district -> Text,
        jurisdiction -> Text,
        client_id -> Text,
        secret_hash -> Text,
        capacity -> Integer,
        escalation_email -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        last_received_at -> Nullable<Timestamp>,
        event_chain_head -> Nullable<Text>,
        email -> Nullable<Text>,
        kind -> Text,
        designated_for -> Text,
        secret_rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        district -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        hospital_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    intake_events (id) {
        id -> BigInt,
        hospital_id -> BigInt,
        event_id -> Text,
        content_hash -> Text,
        kind -> Text,
        occurred_at -> Timestamp,
        received_at -> Timestamp,
        patient_key -> Nullable<Text>,
        acuity -> Nullable<Text>,
        closure_id -> Nullable<Text>,
        payload -> Text,
        row_hash -> Text,
        chain_hash -> Text,
        call_id -> Nullable<Text>,
    }
}

diesel::table! {
    deadlines (id) {
        id -> BigInt,
        rule -> Text,
        subject -> Text,
        hospital_id -> Nullable<BigInt>,
        due_at -> Timestamp,
        done -> Bool,
    }
}

diesel::table! {
    cases (id) {
        id -> BigInt,
        rule -> Text,
        subject -> Text,
        severity -> Text,
        status -> Text,
        hospital_id -> Nullable<BigInt>,
        district -> Text,
        occurred_at -> Timestamp,
        opened_at -> Timestamp,
        updated_at -> Timestamp,
        summary -> Text,
        assignee_id -> Nullable<BigInt>,
        acknowledged_at -> Nullable<Timestamp>,
        escalation_level -> Integer,
        severity_rank -> Integer,
        reply_due -> Nullable<Timestamp>,
        rectification_due -> Nullable<Timestamp>,
        returns -> Integer,
    }
}

diesel::table! {
    complaints (id) {
        id -> BigInt,
        tracking_code -> Text,
        hospital_id -> Nullable<BigInt>,
        hospital_name -> Text,
        category -> Text,
        occurred_at -> Timestamp,
        description -> Text,
        description_sealed -> Nullable<Text>,
        contact_sealed -> Nullable<Text>,
        status -> Text,
        lang -> Text,
        created_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        rating -> Nullable<Integer>,
        merged_into -> Nullable<BigInt>,
        channel -> Text,
        external_ref -> Nullable<Text>,
        callback_consent -> Bool,
        forwarded_at -> Nullable<Timestamp>,
        answer_due -> Nullable<Timestamp>,
        answered_at -> Nullable<Timestamp>,
        answer -> Nullable<Text>,
        callback_due -> Nullable<Timestamp>,
        called_back_at -> Nullable<Timestamp>,
        resolved -> Nullable<Bool>,
        satisfaction -> Nullable<Text>,
        reopened -> Integer,
    }
}

diesel::table! {
    complaint_updates (id) {
        id -> BigInt,
        complaint_id -> BigInt,
        at -> Timestamp,
        kind -> Text,
        public_note -> Text,
    }
}

diesel::table! {
    case_evidence (id) {
        id -> BigInt,
        case_id -> BigInt,
        event_row_id -> Nullable<BigInt>,
        complaint_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    case_actions (id) {
        id -> BigInt,
        case_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        actor_label -> Text,
        action -> Text,
        from_status -> Text,
        to_status -> Text,
        note -> Text,
        at -> Timestamp,
        row_hash -> Text,
        chain_hash -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        dedupe_key -> Text,
        message_id -> Text,
        case_id -> Nullable<BigInt>,
        kind -> Text,
        recipients -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_label -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        detail -> Text,
        ip -> Text,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(intake_events -> hospitals (hospital_id));
diesel::joinable!(cases -> hospitals (hospital_id));
diesel::joinable!(case_evidence -> cases (case_id));
diesel::joinable!(case_evidence -> intake_events (event_row_id));
diesel::joinable!(case_actions -> cases (case_id));
diesel::joinable!(complaint_updates -> complaints (complaint_id));
diesel::joinable!(complaints -> hospitals (hospital_id));

diesel::allow_tables_to_appear_in_same_query!(
    hospitals,
    users,
    intake_events,
    deadlines,
    cases,
    complaints,
    complaint_updates,
    case_evidence,
    case_actions,
    outbox,
    audit_log,
    sessions,
);
