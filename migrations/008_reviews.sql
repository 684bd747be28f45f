-- Reviews: a connection with reviewers holds an exec (one-time review) or grants time-bound
-- access (jit review) until its reviewer groups approve.
CREATE TABLE reviews (
  id                     uuid PRIMARY KEY,
  -- The session that asked; for a one-time review its input is the script that will run.
  session_id             uuid NOT NULL UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
  type                   text NOT NULL CHECK (type IN ('onetime', 'jit')),
  status                 text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'REVOKED', 'PROCESSING', 'EXECUTED')),
  connection_id          uuid NOT NULL,
  connection_name        text NOT NULL,
  -- The request's env vars as one JSON document, AES-256-GCM sealed (values are secrets).
  input_env_vars_sealed  bytea,
  -- Their keys only, to show reviewers what is set without showing values.
  input_env_var_keys     text[] NOT NULL DEFAULT '{}',
  input_client_args      text[] NOT NULL DEFAULT '{}',
  access_duration_sec    integer NOT NULL DEFAULT 0,
  owner_id               text NOT NULL,
  owner_email            text NOT NULL,
  owner_name             text NOT NULL,
  min_approvals          integer,
  force_approval_groups  text[] NOT NULL DEFAULT '{}',
  -- {"type":"time_range","configuration":{"start_time":"HH:MM","end_time":"HH:MM"}} (UTC)
  time_window            jsonb,
  rejection_reason       text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  -- jit: when the approved access ends (approval time + duration, or the revocation time).
  revoked_at             timestamptz
);
CREATE INDEX reviews_by_created ON reviews (created_at DESC, id DESC);
-- The approved time-bound access of one user on one connection, looked up at every exec.
CREATE INDEX reviews_active_jit ON reviews (owner_id, connection_id) WHERE type = 'jit' AND status = 'APPROVED';

-- One row per reviewer group: its decision, who took it and when.
CREATE TABLE review_groups (
  id               uuid PRIMARY KEY,
  review_id        uuid NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
  group_name       text NOT NULL,
  status           text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'REVOKED')),
  reviewer_id      text,
  reviewer_email   text,
  reviewer_name    text,
  reviewed_at      timestamptz,
  forced_review    boolean NOT NULL DEFAULT false,
  position         integer NOT NULL,
  UNIQUE (review_id, group_name)
);
