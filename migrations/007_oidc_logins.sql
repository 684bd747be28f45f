-- Logins through the identity provider that were started (GET /api/login) and not yet
-- completed (GET /api/callback). In the database, not in memory, so that any gateway sharing
-- it can complete a login another one started. Each row is taken (deleted) by its callback.
CREATE TABLE oidc_logins (
  -- SHA-256 (hex) of the `state` sent to the provider: a database read does not reveal it.
  state_hash     text PRIMARY KEY,
  -- The PKCE code verifier, sent with the code to the provider's token endpoint.
  code_verifier  text NOT NULL,
  -- Expected in the ID token, so a token issued for another login is refused.
  nonce          text NOT NULL,
  -- Where the browser (or the CLI) goes once the login is done.
  redirect_url   text NOT NULL,
  expires_at     timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX oidc_logins_expires_at ON oidc_logins (expires_at);
