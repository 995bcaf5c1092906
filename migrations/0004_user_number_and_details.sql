-- Migration number: 0004 	 a numeric user id, and the personal details some profiles collect
-- Never edit a migration that has shipped: add a new numbered file instead.

-- A stable integer id per user, for the compatibility profiles whose clients expect a number
-- (`"id": 1`). SQLite's own rowid is not stable for a table with a TEXT primary key (VACUUM may
-- renumber it), so it is a column of its own, assigned once, in creation order, and never reused, not
-- even after the user is deleted: a client that kept a number never meets it on someone else.
ALTER TABLE users ADD COLUMN number INTEGER;
UPDATE users SET number = rowid;
CREATE UNIQUE INDEX users_number ON users (number);
-- The last number handed out (like AUTOINCREMENT's sqlite_sequence, which needs an integer key).
CREATE TABLE counters (
  name   TEXT PRIMARY KEY NOT NULL,
  value  INTEGER NOT NULL
);
INSERT INTO counters (name, value) SELECT 'user_number', IFNULL(MAX(number), 0) FROM users;
-- Every insert, whoever makes it (the Worker, `make create-admin`, an import), gets the next number.
-- D1 runs one statement at a time on its primary, so two inserts never take the same one.
CREATE TRIGGER users_assign_number AFTER INSERT ON users WHEN NEW.number IS NULL
BEGIN
  -- Past every number in use too, so a row inserted with an explicit number (a hand-made copy) is
  -- never collided with.
  UPDATE counters SET value = MAX(value, (SELECT IFNULL(MAX(number), 0) FROM users)) + 1
  WHERE name = 'user_number';
  UPDATE users SET number = (SELECT value FROM counters WHERE name = 'user_number') WHERE id = NEW.id;
END;

-- Personal details the `accounts` profile's signup takes (all optional, free text, at most 100
-- characters each, checked by the Worker). Shown to the user only inside the encrypted `data.user`
-- of that profile's login.
ALTER TABLE users ADD COLUMN first_name TEXT;
ALTER TABLE users ADD COLUMN last_name TEXT;
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN document_id TEXT;
