-- People who log in (local email and password today, OIDC later). API keys stay in api_keys.
CREATE TABLE users (
  id             uuid PRIMARY KEY,
  -- The login subject: the email for local logins, the identity provider's `sub` for OIDC.
  subject        text NOT NULL UNIQUE,
  email          text NOT NULL,
  name           text NOT NULL DEFAULT '',
  status         text NOT NULL CHECK (status IN ('active', 'inactive', 'invited')),
  verified       boolean NOT NULL DEFAULT false,
  slack_id       text NOT NULL DEFAULT '',
  picture        text NOT NULL DEFAULT '',
  groups         text[] NOT NULL DEFAULT '{}',
  -- scrypt$N$r$p$salt$hash (base64); NULL for users who cannot log in locally.
  password_hash  text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One account per address whatever its case: `Ada@x.io` and `ada@x.io` are the same person.
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

-- Groups created on their own (POST /api/users/groups), listed even while nobody is in them.
CREATE TABLE user_groups (
  name        text PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- The Ed25519 key that signs login tokens: one for the whole store, so every gateway sharing
-- it verifies every token.
CREATE TABLE token_signing_keys (
  id                  uuid PRIMARY KEY,
  singleton           boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton),
  -- SubjectPublicKeyInfo, DER.
  public_key          bytea NOT NULL,
  -- PKCS#8 DER, sealed with AES-256-GCM under the secret key like connection secrets.
  private_key_sealed  bytea NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now()
);
