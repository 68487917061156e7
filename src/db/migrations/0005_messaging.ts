/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * The messaging engine: the message log (which is also the durable outbox the dispatcher claims
 * from), the send ledger (one carrier hand-over per message), extra carrier ids of multi-part
 * messages, idempotency keys of send requests, scheduled messages, the simulated carrier's
 * handsets (in the database so every process sees them), and the account settings that sending
 * needs (help text, quiet hours).
 *
 * messages.contact_id references contacts ON DELETE SET NULL (a deleted contact's history stays
 * countable but anonymous); campaign_id has no foreign key yet (the campaigns migration adds it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE accounts
      ADD COLUMN help_text text,
      ADD COLUMN quiet_hours_enabled boolean NOT NULL DEFAULT false,
      ADD COLUMN quiet_hours_start smallint NOT NULL DEFAULT 480 CHECK (quiet_hours_start BETWEEN 0 AND 1439),
      ADD COLUMN quiet_hours_end smallint NOT NULL DEFAULT 1260 CHECK (quiet_hours_end BETWEEN 0 AND 1440);

    CREATE TABLE messages (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      type text NOT NULL CHECK (type IN ('INCOMING', 'OUTGOING')),
      "from" text NOT NULL,
      phone_number text NOT NULL,
      message text NOT NULL,
      media_url text,
      segments integer NOT NULL,
      encoding text NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
      credits integer NOT NULL DEFAULT 0,
      status text NOT NULL CHECK (status IN ('scheduled', 'queued', 'sending', 'sent', 'delivered', 'failed', 'canceled', 'received')),
      read boolean NOT NULL DEFAULT false,
      contact_id uuid,
      campaign_id uuid,
      metadata jsonb,
      -- Compliance replies (STOP/HELP confirmations) go out whatever the contact's status.
      bypass_consent boolean NOT NULL DEFAULT false,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      lease_until timestamptz,
      claimed_by text,
      last_error text,
      carrier_message_id text,
      receipt_code smallint,
      receipt_text text,
      receipt_at timestamptz,
      bounce boolean NOT NULL DEFAULT false,
      sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX messages_dispatch_idx ON messages (next_attempt_at) WHERE status IN ('queued', 'scheduled');
    CREATE INDEX messages_lease_idx ON messages (lease_until) WHERE status = 'sending';
    CREATE INDEX messages_account_created_idx ON messages (account_id, created_at, id);
    CREATE INDEX messages_unread_idx ON messages (account_id, created_at, id) WHERE type = 'INCOMING' AND NOT read;
    CREATE INDEX messages_carrier_id_idx ON messages (carrier_message_id) WHERE carrier_message_id IS NOT NULL;
    CREATE INDEX messages_contact_idx ON messages (contact_id) WHERE contact_id IS NOT NULL;

    -- Carrier ids of the second and later parts of a concatenated message (the first part's id
    -- is messages.carrier_message_id): each part gets its own delivery receipt.
    CREATE TABLE message_parts (
      message_id uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
      part smallint NOT NULL,
      carrier_message_id text NOT NULL,
      PRIMARY KEY (message_id, part)
    );
    CREATE INDEX message_parts_carrier_id_idx ON message_parts (carrier_message_id);

    -- One row per message handed to a carrier. The row is written before an external carrier is
    -- contacted (state submitting) and in the same transaction as the hand-over for the simulator,
    -- so a message is never handed over twice, whatever process dies when.
    CREATE TABLE send_ledger (
      message_id uuid PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
      transport text NOT NULL,
      state text NOT NULL CHECK (state IN ('submitting', 'accepted', 'rejected', 'in_doubt')),
      worker text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX send_ledger_submitting_idx ON send_ledger (created_at) WHERE state = 'submitting';

    -- Delivery reports that arrived before the carrier id they name was recorded (a fast carrier
    -- can report before the dispatcher has stored the submit's answer); applied when it is.
    CREATE TABLE unmatched_reports (
      carrier_message_id text NOT NULL,
      code smallint NOT NULL,
      text text,
      received_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX unmatched_reports_carrier_id_idx ON unmatched_reports (carrier_message_id);

    CREATE TABLE idempotency_keys (
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      key text NOT NULL,
      route text NOT NULL,
      request_hash text NOT NULL,
      status_code integer NOT NULL,
      response jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, key)
    );
    CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

    CREATE TABLE scheduled_messages (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      message_id uuid NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
      phone_number text NOT NULL,
      message text NOT NULL,
      send_at timestamptz NOT NULL,
      canceled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX scheduled_messages_account_idx ON scheduled_messages (account_id, created_at, id);

    -- The simulated carrier: what each simulated handset received (MT) and sent (MO), with the
    -- delivery report the simulator will send for each MT message.
    CREATE TABLE simulator_messages (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      direction text NOT NULL CHECK (direction IN ('MT', 'MO')),
      handset text NOT NULL,
      short_code text NOT NULL,
      message text NOT NULL,
      message_id uuid,
      report_code smallint,
      report_due_at timestamptz,
      report_lease_until timestamptz,
      reported_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX simulator_messages_handset_idx ON simulator_messages (handset, created_at, id);
    CREATE INDEX simulator_messages_report_idx ON simulator_messages (report_due_at) WHERE reported_at IS NULL AND direction = 'MT';
  `.execute(db);

  // Contacts come from the audience migration (0002), which runs first.
  await sql`
    ALTER TABLE messages ADD CONSTRAINT messages_contact_id_fkey
      FOREIGN KEY (contact_id) REFERENCES contacts (id) ON DELETE SET NULL;
  `.execute(db);
}
