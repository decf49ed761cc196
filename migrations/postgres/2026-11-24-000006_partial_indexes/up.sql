-- Indexes that hold only the rows their queries can ask for, so that most writes skip them.
-- A closure's events are found by (hospital_id, closure_id); most events belong to no closure
-- and were each an index entry of NULL.
DROP INDEX intake_events_closure;
CREATE INDEX intake_events_closure ON intake_events (hospital_id, closure_id)
    WHERE closure_id IS NOT NULL;
-- The sweeper reads open deadlines by due time; a settled deadline (most of them, in time)
-- leaves the index instead of staying in it as (done, due_at).
DROP INDEX deadlines_due;
CREATE INDEX deadlines_open_due ON deadlines (due_at) WHERE NOT done;
