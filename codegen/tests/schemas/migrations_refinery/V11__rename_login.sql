ALTER TABLE accounts RENAME COLUMN login TO username;
ALTER TABLE accounts RENAME CONSTRAINT accounts_login_key TO accounts_username_key;
