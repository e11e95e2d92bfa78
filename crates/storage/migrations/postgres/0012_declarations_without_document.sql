ALTER TABLE declarations DROP COLUMN document;
