-- The seed scenario's legacy integration: the order service writes its order and, in the same
-- transaction, one integration row per downstream service; inventory and payment each poll their
-- own table. Same shape as samples/orders' shop.order_integration, one table per consumer, so
-- each table has one poller, one status column and one migration.
CREATE SCHEMA IF NOT EXISTS shop;
CREATE SCHEMA IF NOT EXISTS inventory;
CREATE SCHEMA IF NOT EXISTS payment;

CREATE TABLE IF NOT EXISTS shop.orders (
  id          bigserial PRIMARY KEY,
  customer    text          NOT NULL,
  amount      numeric(12,2) NOT NULL,
  created_at  timestamptz   NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS shop.inventory_integration (
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
CREATE INDEX IF NOT EXISTS inventory_integration_pending
  ON shop.inventory_integration (status, id);

CREATE TABLE IF NOT EXISTS shop.payment_integration (
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
CREATE INDEX IF NOT EXISTS payment_integration_pending ON shop.payment_integration (status, id);

-- The services' effects, and a handling log each: every time a row was handled and by which path
-- (poller or consumer), so double handling is visible instead of hidden by a constraint.
CREATE TABLE IF NOT EXISTS inventory.reservations (
  order_id        bigint PRIMARY KEY,
  integration_id  bigint      NOT NULL,
  reserved_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS inventory.handling_log (
  integration_id  bigint      NOT NULL,
  order_id        bigint      NOT NULL,
  handled_by      text        NOT NULL,
  handled_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS payment.charges (
  order_id        bigint PRIMARY KEY,
  integration_id  bigint        NOT NULL,
  amount          numeric(12,2) NOT NULL,
  charged_at      timestamptz   NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS payment.handling_log (
  integration_id  bigint      NOT NULL,
  order_id        bigint      NOT NULL,
  handled_by      text        NOT NULL,
  handled_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
