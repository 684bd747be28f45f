-- Data masking rules and guard rails, both bound to connections directly (join tables below) or
-- through attributes (a rule applies to every connection carrying one of its attributes).
CREATE TABLE datamasking_rules (
  id                      uuid PRIMARY KEY,
  name                    text NOT NULL UNIQUE,
  description             text NOT NULL DEFAULT '',
  -- [{"name": "PII", "entity_types": ["EMAIL_ADDRESS", ...]}]
  supported_entity_types  jsonb NOT NULL DEFAULT '[]',
  -- [{"name": "ZIP_CODE", "regex": "...", "deny_list": [...], "score": 0.5}]
  custom_entity_types     jsonb NOT NULL DEFAULT '[]',
  score_threshold         double precision,
  attributes              text[] NOT NULL DEFAULT '{}',
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE datamasking_rule_connections (
  id             uuid NOT NULL UNIQUE,
  rule_id        uuid NOT NULL REFERENCES datamasking_rules (id) ON DELETE CASCADE,
  connection_id  uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  PRIMARY KEY (rule_id, connection_id)
);
CREATE INDEX datamasking_rule_connections_by_connection ON datamasking_rule_connections (connection_id);

CREATE TABLE guardrail_rules (
  id           uuid PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  description  text NOT NULL DEFAULT '',
  -- {"rules": [...]}, validated by src/guardrails when saved.
  input        jsonb NOT NULL DEFAULT '{"rules": []}',
  output       jsonb NOT NULL DEFAULT '{"rules": []}',
  attributes   text[] NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The one record of which guard rails a connection has: the guard-rail resource's
-- connection_ids and the connection's guardrail_rules are both read from and written to it.
CREATE TABLE guardrail_rule_connections (
  rule_id        uuid NOT NULL REFERENCES guardrail_rules (id) ON DELETE CASCADE,
  connection_id  uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  PRIMARY KEY (rule_id, connection_id)
);
CREATE INDEX guardrail_rule_connections_by_connection ON guardrail_rule_connections (connection_id);

-- Bindings written to the old column pointed at rules that could not exist yet.
ALTER TABLE connections DROP COLUMN guardrail_rules;

-- The rules that blocked a session (reference field guardrails_info), null when none did.
ALTER TABLE sessions ADD COLUMN guardrails_info jsonb;

-- Redactions per session and info type, written when the session closes; feeds /api/reports/sessions.
CREATE TABLE session_masking_metrics (
  session_id         uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  info_type          text NOT NULL,
  redact_count       bigint NOT NULL,
  transformed_bytes  bigint NOT NULL,
  PRIMARY KEY (session_id, info_type)
);
