-- The officer's refunds awaiting approval, oldest first, a page at a time; the administrator's representations.
CREATE INDEX refunds_by_status ON refunds (status, requested_at, id);
CREATE INDEX representations_by_principal ON representations (principal, representative);
