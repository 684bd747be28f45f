-- Gatehouse store, version 1: credentials, agents, connections, sessions and their recordings.

CREATE TABLE api_keys (
  id          uuid PRIMARY KEY,
  name        text NOT NULL,
  key_hash    text NOT NULL UNIQUE,
  user_id     text NOT NULL,
  user_email  text NOT NULL,
  user_name   text NOT NULL,
  groups      text[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE agents (
  id            uuid PRIMARY KEY,
  name          text NOT NULL UNIQUE,
  mode          text NOT NULL,
  key_hash      text NOT NULL UNIQUE,
  status        text NOT NULL DEFAULT 'DISCONNECTED',
  metadata      jsonb NOT NULL DEFAULT '{}',
  last_seen_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE connections (
  id                        uuid PRIMARY KEY,
  name                      text NOT NULL UNIQUE,
  type                      text NOT NULL,
  subtype                   text NOT NULL DEFAULT '',
  command                   text[] NOT NULL DEFAULT '{}',
  -- The secret map, AES-256-GCM encrypted as one JSON document; never stored in clear.
  secret_sealed             bytea,
  agent_id                  uuid NOT NULL,
  tags                      text[] NOT NULL DEFAULT '{}',
  connection_tags           jsonb NOT NULL DEFAULT '{}',
  access_mode_runbooks      text NOT NULL DEFAULT 'enabled',
  access_mode_exec          text NOT NULL DEFAULT 'enabled',
  access_mode_connect       text NOT NULL DEFAULT 'enabled',
  access_schema             text NOT NULL DEFAULT 'disabled',
  reviewers                 text[] NOT NULL DEFAULT '{}',
  redact_types              text[] NOT NULL DEFAULT '{}',
  guardrail_rules           text[] NOT NULL DEFAULT '{}',
  jira_issue_template_id    text,
  force_approve_groups      text[] NOT NULL DEFAULT '{}',
  access_max_duration       integer,
  min_review_approvals      integer,
  mandatory_metadata_fields text[] NOT NULL DEFAULT '{}',
  attributes                text[] NOT NULL DEFAULT '{}',
  secrets_updated_at        timestamptz,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
  id                     uuid PRIMARY KEY,
  connection             text NOT NULL,
  connection_type        text NOT NULL,
  connection_subtype     text NOT NULL DEFAULT '',
  connection_tags        jsonb NOT NULL DEFAULT '{}',
  agent_id               uuid,
  verb                   text NOT NULL,
  origin                 text NOT NULL,
  labels                 jsonb NOT NULL DEFAULT '{}',
  metadata               jsonb NOT NULL DEFAULT '{}',
  integrations_metadata  jsonb,
  metrics                jsonb,
  user_id                text NOT NULL,
  user_name              text NOT NULL,
  user_email             text NOT NULL,
  status                 text NOT NULL,
  exit_code              integer,
  end_reason             text,
  input                  bytea NOT NULL DEFAULT '\x',
  session_batch_id       text,
  correlation_id         text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  ended_at               timestamptz
);
CREATE INDEX sessions_by_created ON sessions (created_at DESC, id DESC);
CREATE INDEX sessions_open ON sessions (status) WHERE status = 'open';

-- Recorded events of a session, in segments of many encoded events each (see src/gateway/events).
CREATE TABLE session_event_segments (
  session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  seq         integer NOT NULL,
  data        bytea NOT NULL,
  PRIMARY KEY (session_id, seq)
);

-- One-time download links: only the SHA-256 of the token is kept.
CREATE TABLE session_download_tokens (
  token_hash  text PRIMARY KEY,
  session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  user_id     text NOT NULL,
  options     jsonb NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);
