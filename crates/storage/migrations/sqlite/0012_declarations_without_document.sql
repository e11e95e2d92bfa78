-- The documents live in declaration_versions now (copied there by migration 11); the current-state row keeps the
-- current model only.
ALTER TABLE declarations DROP COLUMN document;
