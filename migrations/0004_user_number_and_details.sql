-- Migration number: 0004 	 a numeric user id, and the personal details some profiles collect
-- Never edit a migration that has shipped: add a new numbered file instead.

-- A stable integer id per user, for the compatibility profiles whose clients expect a number
-- (`"id": 1`). SQLite's own rowid is not stable for a table with a TEXT primary key (VACUUM may
-- renumber it), so it is a column of its own, assigned once, in creation order, and never reused
-- while the user exists.
ALTER TABLE users ADD COLUMN number INTEGER;
UPDATE users SET number = rowid;
CREATE UNIQUE INDEX users_number ON users (number);
-- Every insert, whoever makes it (the Worker, `make create-admin`, an import), gets the next number.
-- D1 runs one statement at a time on its primary, so MAX + 1 cannot be taken twice.
CREATE TRIGGER users_assign_number AFTER INSERT ON users WHEN NEW.number IS NULL
BEGIN
  UPDATE users SET number = (SELECT IFNULL(MAX(number), 0) + 1 FROM users) WHERE id = NEW.id;
END;

-- Personal details the `accounts` profile's signup takes (all optional, free text, at most 100
-- characters each, checked by the Worker). Shown to the user only inside the encrypted `data.user`
-- of that profile's login.
ALTER TABLE users ADD COLUMN first_name TEXT;
ALTER TABLE users ADD COLUMN last_name TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN document_id TEXT;
