-- Which gateway holds an agent's stream and runs a session, so that a gateway starting up
-- settles only what it owned and leaves other gateways' agents and sessions alone.
ALTER TABLE agents ADD COLUMN gateway_id text;
ALTER TABLE sessions ADD COLUMN gateway_id text;
CREATE INDEX sessions_open_by_gateway ON sessions (gateway_id) WHERE status = 'open';
DROP INDEX sessions_open;
