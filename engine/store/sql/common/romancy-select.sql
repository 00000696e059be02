-- The romancy/edda outbox_events table (a foreign outbox, see romancystorage.h): rows with the columns the
-- storage asks for, filtered and ordered by what it fills in.
SELECT {{columns}} FROM outbox_events{{where}}{{order}}
