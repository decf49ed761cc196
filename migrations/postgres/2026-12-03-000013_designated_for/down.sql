ALTER TABLE hospitals DROP COLUMN designated_for;
