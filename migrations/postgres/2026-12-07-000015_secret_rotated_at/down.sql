ALTER TABLE hospitals DROP COLUMN secret_rotated_at;
