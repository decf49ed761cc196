-- The zones (sealed, controlled, precaution; comma-separated, empty for none) for whose
-- patients a hospital is a designated (定点/黄码) hospital: designated.refused judges its
-- refusals of them.
ALTER TABLE hospitals ADD COLUMN designated_for TEXT NOT NULL DEFAULT '';
