-- The day rules of 120 dispatch read a centre's receipts, answers and abandonments of a day by
-- (hospital_id, kind, occurred_at) and need only their call ids and row ids besides: included
-- in the index, the read is an index-only scan once the table is vacuumed (BENCHMARKS.md §12).
DROP INDEX intake_events_hospital_kind;
CREATE INDEX intake_events_hospital_kind ON intake_events (hospital_id, kind, occurred_at)
    INCLUDE (call_id, id);
