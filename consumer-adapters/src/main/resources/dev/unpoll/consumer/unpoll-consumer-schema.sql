CREATE TABLE IF NOT EXISTS "unpoll_processed" (
  consumer_group text NOT NULL,
  idempotency_key text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, idempotency_key)
);
CREATE INDEX IF NOT EXISTS unpoll_processed_processed_at_idx ON "unpoll_processed" USING brin (processed_at);
CREATE TABLE IF NOT EXISTS "unpoll_shadow_ledger" (
  consumer_group text NOT NULL,
  idempotency_key text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  event_time timestamptz,
  PRIMARY KEY (consumer_group, idempotency_key)
);
