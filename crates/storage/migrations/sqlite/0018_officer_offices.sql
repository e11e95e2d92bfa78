-- The customs office an officer works at (absent: any office). Examiners are allocated to a declaration under
-- control from the officers of its office (and those of any office), when its lane is decided.
ALTER TABLE users ADD COLUMN office TEXT;
CREATE INDEX users_by_role ON users (role, office);
