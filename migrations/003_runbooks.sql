-- Runbook repositories: git repositories whose `.runbook.` files people run against connections.
-- One row per repository; the whole set is "the runbook configuration" of the API.
CREATE TABLE runbook_repositories (
  -- UUIDv5 (URL namespace) of git_url, as the reference computes configuration ids.
  id               uuid PRIMARY KEY,
  -- The normalized URL (host/path), the repository's name in listings, exec and labels.
  repository       text NOT NULL UNIQUE,
  git_url          text NOT NULL,
  git_branch       text NOT NULL DEFAULT '',
  path_prefix      text NOT NULL DEFAULT '',
  git_user         text NOT NULL DEFAULT '',
  ssh_user         text NOT NULL DEFAULT '',
  ssh_known_hosts  text NOT NULL DEFAULT '',
  git_hook_ttl     integer NOT NULL DEFAULT 0,
  -- AES-256-GCM sealed JSON {git_password, ssh_key, ssh_keypass}; never returned in clear.
  secrets_sealed   bytea,
  position         integer NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The configuration as a whole: its id and timestamps (one row at most).
CREATE TABLE runbook_configuration (
  id          uuid PRIMARY KEY,
  singleton   boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
