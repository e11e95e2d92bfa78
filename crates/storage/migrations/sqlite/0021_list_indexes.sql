-- The declarations list filtered by lane, or by status and lane, newest first: one range of an index each (the
-- status index alone made "awaiting payment in the red lane" read every declaration awaiting payment); a trader's
-- list by the day lodged: one range of (party, lodged_at) (the serial index made a month six months ago read the
-- six months since).
CREATE INDEX declarations_status_lane ON declarations (status, lane, serial);
CREATE INDEX declarations_lane ON declarations (lane, serial);
CREATE INDEX declarations_declarant_lodged ON declarations (declarant, lodged_at, serial);
CREATE INDEX declarations_representative_lodged ON declarations (representative, lodged_at, serial);
