-- The day rules of 120 dispatch read a centre's receipts, answers and abandonments of a day by
-- (hospital_id, kind, occurred_at) and need only their call ids (and row ids) besides: with
-- call_id in the index the read never visits the table (BENCHMARKS.md §12). A hospital's rows
-- hold NULL there, one byte each.
DROP INDEX intake_events_hospital_kind;
CREATE INDEX intake_events_hospital_kind ON intake_events (hospital_id, kind, occurred_at, call_id);
