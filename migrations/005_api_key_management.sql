-- API keys managed through /api/api-keys: who created and revoked them, when last used, and a
-- masked form for display (the key itself is only ever stored as its SHA-256).
ALTER TABLE api_keys ADD COLUMN masked_key text NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN created_by text NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN revoked_by text;
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
CREATE UNIQUE INDEX api_keys_name ON api_keys (name);
