-- The party (EORI) a deferment account or guarantee belongs to: a trader sees the statements of its own.
ALTER TABLE ledger_accounts ADD COLUMN owner TEXT;
