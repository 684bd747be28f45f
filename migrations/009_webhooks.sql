-- Outgoing webhooks: where to POST notifications, and the outbox of deliveries. A delivery row
-- is written in the same moment the event is published, so nothing is lost if the gateway stops
-- before sending; any gateway sharing the store may send it (claimed with SKIP LOCKED and a lease).
CREATE TABLE webhooks (
  id             uuid PRIMARY KEY,
  name           text NOT NULL,
  url            text NOT NULL,
  -- The notification types sent to this webhook.
  events         text[] NOT NULL,
  -- The HMAC signing secret, sealed (AES-256-GCM) like every secret at rest.
  secret_sealed  bytea NOT NULL,
  enabled        boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  id                uuid PRIMARY KEY,
  webhook_id        uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_type        text NOT NULL,
  -- The exact JSON sent (and signed), built when the event was published.
  body              text NOT NULL,
  -- pending (to send or being sent), delivered, failed (gave up).
  status            text NOT NULL DEFAULT 'pending',
  -- Sends started; counted when a send is claimed, so a sender that crashes still uses one up.
  attempts          integer NOT NULL DEFAULT 0,
  last_status_code  integer,
  last_error        text,
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  -- While a sender holds the row; after it, another sender may take it (the holder died).
  locked_until      timestamptz,
  delivered_at      timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- What the dispatchers poll: due pending rows only.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);
