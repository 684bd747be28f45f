-- Plugins (only access_control so far) and their per-connection configuration: for
-- access_control, the groups that may see and use the connection.
CREATE TABLE plugins (
  id          uuid PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plugin_connections (
  id             uuid PRIMARY KEY,
  plugin_name    text NOT NULL REFERENCES plugins (name) ON DELETE CASCADE,
  connection_id  uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
  config         text[] NOT NULL DEFAULT '{}',
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (plugin_name, connection_id)
);
