-- unpoll outbox table (strategy TABLE), compatible with Debezium's Outbox Event Router.
-- Event format: docs/reference/event-format.md
CREATE TABLE "public"."unpoll_outbox" (
  "id" uuid PRIMARY KEY,
  "aggregatetype" varchar(255) NOT NULL,
  "aggregateid" varchar(255) NOT NULL,
  "type" varchar(255) NOT NULL,
  "payload" jsonb,
  "headers" jsonb,
  "created_at" timestamptz NOT NULL DEFAULT now()
);
