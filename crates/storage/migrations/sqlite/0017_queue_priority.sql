-- Officers' queues by priority (perishable goods, express consignments, authorised operators first: TFA Art. 7.8,
-- 7.9, the rule set's priority lines), then oldest first: one sortable key, the priority's rank (10001 for none)
-- times 2^40 plus the serial, so that a queue is read a page at a time by one index range (`queue_key > cursor`).
-- Declarations stored before this had no priority: their key is the serial in the last band.
ALTER TABLE declarations ADD COLUMN queue_key BIGINT NOT NULL DEFAULT 0;
UPDATE declarations SET queue_key = 10001 * 1099511627776 + serial;
CREATE INDEX declarations_queue ON declarations (status, lane, queue_key);
CREATE INDEX declarations_office_queue ON declarations (office, status, lane, queue_key);
-- A trader's declarations, newest first, by the serial index.
CREATE INDEX declarations_declarant ON declarations (declarant, serial);
