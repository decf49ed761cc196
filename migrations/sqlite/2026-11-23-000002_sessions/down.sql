DROP INDEX audit_log_action_at;
DROP TABLE sessions;
