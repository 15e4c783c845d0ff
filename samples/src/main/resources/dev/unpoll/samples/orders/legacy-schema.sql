-- The legacy integration, as teams build it: service A (orders) writes a row into an
-- integration table in the same transaction as its order; service B (shipping) polls it.
CREATE SCHEMA IF NOT EXISTS shop;
CREATE SCHEMA IF NOT EXISTS shipping;

CREATE TABLE IF NOT EXISTS shop.orders (
  id          bigserial PRIMARY KEY,
  customer    text          NOT NULL,
  amount      numeric(12,2) NOT NULL,
  created_at  timestamptz   NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS shop.order_integration (
  id            bigserial PRIMARY KEY,
  order_id      bigint      NOT NULL,
  event_type    text        NOT NULL,
  payload       jsonb       NOT NULL,
  status        text        NOT NULL DEFAULT 'NEW'
                CHECK (status IN ('NEW', 'PROCESSING', 'DONE', 'FAILED')),
  created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  processed_at  timestamptz,
  retry_count   integer     NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS order_integration_pending ON shop.order_integration (status, id);

-- Service B's effect: one shipment per order. The handling log records every time a row was
-- handled and by which path, so double handling is visible instead of hidden by a constraint.
CREATE TABLE IF NOT EXISTS shipping.shipments (
  order_id        bigint PRIMARY KEY,
  integration_id  bigint      NOT NULL,
  customer        text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS shipping.handling_log (
  integration_id  bigint      NOT NULL,
  handled_by      text        NOT NULL,
  row_created_at  timestamptz NOT NULL,
  handled_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS handling_log_id ON shipping.handling_log (integration_id);
