-- Intake events partitioned by month, measured beside the plain table (BENCHMARKS.md §7).
-- Run against a database the service has migrated, so that both tables copy `intake_events`:
--
--   createdb -h 127.0.0.1 -U postgres partbench
--   SHOUZHEN_DATABASE_URL=postgres://postgres@127.0.0.1:5432/partbench \
--     SHOUZHEN_SECRET_KEY=$(openssl rand -base64 48) cargo run --release -- migrate
--   psql postgres://postgres@127.0.0.1:5432/partbench -q -v rows=2000000 -f benches/partitioning.sql
--
-- Works in a scratch schema, dropped at the end. Both tables get the same rows (a year of
-- events from 50 hospitals, 12 events a patient) and the indexes of `intake_events`; the
-- partitioned one has a partition per month, and its unique keys include `occurred_at` as
-- PostgreSQL requires. Each query runs 500 times with random values (planned each time, as the
-- service's are); the figures are the `\timing` of each block.
\set ON_ERROR_STOP on
\if :{?rows}
\else
\set rows 2000000
\endif
DROP SCHEMA IF EXISTS partbench CASCADE;
CREATE SCHEMA partbench;
SET search_path = partbench;

-- The table as the service has it (columns, keys, indexes; not the foreign key).
CREATE TABLE plain (LIKE public.intake_events INCLUDING ALL);

-- By month: the same columns; keys and indexes written out, since the unique ones must
-- include the partition key.
CREATE TABLE part (LIKE plain INCLUDING DEFAULTS) PARTITION BY RANGE (occurred_at);
ALTER TABLE part ADD PRIMARY KEY (id, occurred_at);
ALTER TABLE part ADD UNIQUE (hospital_id, event_id, occurred_at);
CREATE INDEX ON part (patient_key, occurred_at);
CREATE INDEX ON part (hospital_id, kind, occurred_at);
CREATE INDEX ON part (hospital_id, closure_id);
SELECT format('CREATE TABLE part_%s PARTITION OF part FOR VALUES FROM (%L) TO (%L)',
              to_char(m, 'YYYYMM'), m, m + interval '1 month')
FROM generate_series(timestamp '2025-01-01', timestamp '2025-12-01', interval '1 month') AS m
\gexec
CREATE TABLE part_default PARTITION OF part DEFAULT;

-- The rows: event n of hospital n % 50, patient n / 12 (a patient's events within a day),
-- spread evenly over 2025 in insertion order, as a live feed would insert them.
CREATE VIEW gen AS
SELECT n % 50 + 1 AS hospital_id,
       'ev-' || n AS event_id,
       md5(n::text) AS content_hash,
       (ARRAY['arrival', 'handover', 'treatment', 'transfer'])[n % 4 + 1] AS kind,
       timestamp '2025-01-01' + (n::float8 / :rows) * interval '365 days' AS occurred_at,
       timestamp '2025-01-01' + (n::float8 / :rows) * interval '365 days' AS received_at,
       'ref:' || md5((n / 12)::text) AS patient_key,
       'urgent' AS acuity,
       NULL::text AS closure_id,
       repeat('x', 200) AS payload,
       md5('r' || n) AS row_hash,
       md5('c' || n) AS chain_hash
FROM generate_series(1, :rows) AS n;

\echo
\echo == insert :rows rows: plain, then partitioned
\timing on
INSERT INTO plain (hospital_id, event_id, content_hash, kind, occurred_at, received_at,
    patient_key, acuity, closure_id, payload, row_hash, chain_hash) SELECT * FROM gen;
INSERT INTO part (hospital_id, event_id, content_hash, kind, occurred_at, received_at,
    patient_key, acuity, closure_id, payload, row_hash, chain_hash) SELECT * FROM gen;
\timing off
VACUUM ANALYZE plain;
VACUUM ANALYZE part;

-- Each query 500 times: `tbl` is the table, `rows` the row count.
CREATE PROCEDURE history(tbl text, rows bigint) LANGUAGE plpgsql AS $$
DECLARE n bigint; keys text[]; t timestamp;
BEGIN
  FOR i IN 1..500 LOOP
    n := (random() * (rows - 1))::bigint + 1;
    SELECT array_agg('ref:' || md5(((n + k * 997) % rows / 12)::text)) INTO keys
      FROM generate_series(0, 31) AS k;
    t := timestamp '2025-01-01' + (n::float8 / rows) * interval '365 days';
    EXECUTE format('SELECT count(*) FROM %I WHERE patient_key = ANY($1)
                    AND occurred_at BETWEEN $2 AND $3', tbl)
      USING keys, t - interval '30 days', t + interval '30 days';
  END LOOP;
END $$;
CREATE PROCEDURE lookup(tbl text, rows bigint) LANGUAGE plpgsql AS $$
DECLARE n bigint; ids text[];
BEGIN
  FOR i IN 1..500 LOOP
    n := (random() * (rows - 1))::bigint + 1;
    SELECT array_agg('ev-' || (n + k * 50)) INTO ids FROM generate_series(0, 31) AS k;
    EXECUTE format('SELECT count(*) FROM %I WHERE hospital_id = $1 AND event_id = ANY($2)',
                   tbl) USING n % 50 + 1, ids;
  END LOOP;
END $$;

\echo
\echo == 500 patient histories (32 patients, 60 days): plain, then partitioned
\timing on
CALL history('plain', :rows);
CALL history('part', :rows);
\timing off
\echo == 500 id lookups (32 ids of one hospital): plain, then partitioned
\timing on
CALL lookup('plain', :rows);
CALL lookup('part', :rows);
\timing off
\echo == retention, the oldest month: DELETE from plain, then DETACH and DROP its partition
\timing on
DELETE FROM plain WHERE occurred_at < timestamp '2025-02-01';
ALTER TABLE part DETACH PARTITION part_202501;
DROP TABLE part_202501;
\timing off
\echo == sizes (table and indexes)
SELECT 'plain' AS tbl, pg_size_pretty(pg_total_relation_size('plain')) AS size
UNION ALL
SELECT 'part', pg_size_pretty(sum(pg_total_relation_size(c.oid)))
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'part'::regclass;

DROP SCHEMA partbench CASCADE;
