-- The portal's auditor page finds a trail's entries by who acted, newest first, a page at a time.
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
