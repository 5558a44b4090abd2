-- Items (test runs) a pushed payload holds, counted when it is validated,
-- so a running task's progress reads "applied of total".
ALTER TABLE tasks ADD COLUMN items_total INTEGER;
