-- When the client's secret was last replaced: tokens issued before it are refused (within the
-- few seconds that instances cache a client), not left to run out.
ALTER TABLE hospitals ADD COLUMN secret_rotated_at TIMESTAMP;
