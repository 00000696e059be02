-- Version 6 adds, on the other databases, an index of the failed events only (a partial index). MySQL and
-- MariaDB have none, and an index of every row would be written by every delivery: nothing to do here, and
-- Storage::failureGroups reads the failed rows through outbox_events_status.
DO 0
