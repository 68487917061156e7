/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';
import { CARRIER_ALIAS_SEED } from '../../modules/carriers/carriers.aliases.js';
import { OPT_IN_SEED } from '../../modules/optins/optins.seed.js';

/**
 * The audience: contacts, groups (with keywords), opt-ins (reference data), custom fields and
 * their values, group membership, bulk imports, and carrier name aliases for phone lookups.
 *
 * Deleting a contact deletes its row (a hard delete): message rows (a later migration) reference
 * contacts with ON DELETE SET NULL and keep their own copy of the number, so history stays
 * countable without pointing at a person. Unfiltered list totals come from contact_counts, kept
 * by statement-level triggers in the same transaction as every insert and delete; deep pages
 * of the creation-ordered list are found through contacts.seq and contact_seq_gaps.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE opt_ins (
      id uuid PRIMARY KEY,
      key text NOT NULL UNIQUE,
      name text NOT NULL,
      description text NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE carrier_aliases (
      alias text NOT NULL,
      country char(2) NOT NULL,
      carrier_id uuid NOT NULL REFERENCES carriers (id) ON DELETE CASCADE,
      PRIMARY KEY (country, alias)
    );

    CREATE TABLE groups (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      name text NOT NULL,
      join_message text,
      one_time_message boolean NOT NULL DEFAULT false,
      always_send_join boolean NOT NULL DEFAULT false,
      social_profiling boolean NOT NULL DEFAULT false,
      email_new_contact boolean NOT NULL DEFAULT false,
      optin_id uuid REFERENCES opt_ins (id),
      keyword text,
      keyword_created_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX groups_account_created_idx ON groups (account_id, created_at, id);
    CREATE UNIQUE INDEX groups_account_keyword_key ON groups (account_id, upper(keyword)) WHERE keyword IS NOT NULL;

    CREATE TABLE contacts (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      phone_number text NOT NULL,
      first_name text,
      last_name text,
      email text,
      gender text,
      birth_date date,
      address text,
      city text,
      state text,
      zip text,
      reward_points integer NOT NULL DEFAULT 0,
      timezone text,
      carrier_id uuid REFERENCES carriers (id) ON DELETE SET NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'subscribed', 'unsubscribed')),
      carrier_status text NOT NULL DEFAULT 'active' CHECK (carrier_status IN ('active', 'suspended', 'deactivated')),
      opt_in_id uuid REFERENCES opt_ins (id),
      subscribed_at timestamptz,
      unsubscribed_at timestamptz,
      bounces integer NOT NULL DEFAULT 0,
      source text NOT NULL DEFAULT 'api',
      -- Creation order within the account: dense, allocated from contact_counts.next_seq in the
      -- inserting transaction (see contact_seq_gaps). It is the order of created_at.
      seq bigint NOT NULL,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE UNIQUE INDEX contacts_account_phone_key ON contacts (account_id, phone_number);
    CREATE UNIQUE INDEX contacts_account_seq_key ON contacts (account_id, seq);
    CREATE INDEX contacts_account_updated_idx ON contacts (account_id, updated_at, id);
    CREATE INDEX contacts_account_id_idx ON contacts (account_id, id);
    CREATE INDEX contacts_account_reward_points_idx ON contacts (account_id, reward_points, id);

    -- Per account: how many contacts exist (the unfiltered list total) and the last creation
    -- sequence number handed out. Allocating seq numbers locks this row until commit, which also
    -- makes created_at (clock_timestamp(), taken after the lock) follow seq order.
    CREATE TABLE contact_counts (
      account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
      contacts bigint NOT NULL DEFAULT 0,
      next_seq bigint NOT NULL DEFAULT 0
    );

    -- Sequence numbers allocated but not (or no longer) used: deleted contacts, and rows an
    -- import allocated for numbers that turned out to exist. The n-th contact in creation order
    -- has seq = n + (gaps at or below it), which finds a deep page without scanning to it.
    CREATE TABLE contact_seq_gaps (
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      seq bigint NOT NULL,
      PRIMARY KEY (account_id, seq)
    );

    CREATE FUNCTION contact_counts_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO contact_counts AS c (account_id, contacts)
        SELECT account_id, count(*) FROM new_rows GROUP BY account_id
      ON CONFLICT (account_id) DO UPDATE SET contacts = c.contacts + excluded.contacts;
      RETURN NULL;
    END $$;

    CREATE FUNCTION contact_counts_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE contact_counts c SET contacts = c.contacts - d.n
        FROM (SELECT account_id, count(*) AS n FROM old_rows GROUP BY account_id) d
       WHERE c.account_id = d.account_id;
      INSERT INTO contact_seq_gaps (account_id, seq)
        SELECT account_id, seq FROM old_rows
        WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = old_rows.account_id)
      ON CONFLICT DO NOTHING;
      RETURN NULL;
    END $$;

    CREATE TRIGGER contacts_count_insert AFTER INSERT ON contacts
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contact_counts_on_insert();
    CREATE TRIGGER contacts_count_delete AFTER DELETE ON contacts
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION contact_counts_on_delete();

    CREATE TABLE contact_groups (
      contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
      group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (contact_id, group_id)
    );
    CREATE INDEX contact_groups_group_idx ON contact_groups (group_id, contact_id);

    CREATE TABLE custom_fields (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      name text NOT NULL,
      type text NOT NULL CHECK (type IN ('text', 'number', 'date', 'boolean')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX custom_fields_account_name_key ON custom_fields (account_id, lower(name));

    -- Values are stored in a canonical text form per type (numbers as written by JavaScript,
    -- dates YYYY-MM-DD, booleans true/false), so an exact filter is one indexed comparison.
    CREATE TABLE contact_field_values (
      contact_id uuid NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
      field_id uuid NOT NULL REFERENCES custom_fields (id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      value text NOT NULL,
      PRIMARY KEY (contact_id, field_id)
    );
    CREATE INDEX contact_field_values_lookup_idx ON contact_field_values (field_id, value, contact_id);

    CREATE TABLE contact_imports (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      status text NOT NULL CHECK (status IN ('receiving', 'queued', 'processing', 'completed', 'failed')),
      format text NOT NULL CHECK (format IN ('csv', 'ndjson')),
      validate_only boolean NOT NULL DEFAULT false,
      update_existing boolean NOT NULL DEFAULT false,
      group_ids uuid[] NOT NULL DEFAULT '{}',
      columns text[] NOT NULL DEFAULT '{}',
      total_rows integer NOT NULL DEFAULT 0,
      cursor integer NOT NULL DEFAULT 0,
      created integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      skipped integer NOT NULL DEFAULT 0,
      invalid integer NOT NULL DEFAULT 0,
      error text,
      lease_until timestamptz,
      started_at timestamptz,
      completed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX contact_imports_account_idx ON contact_imports (account_id, created_at, id);
    CREATE INDEX contact_imports_pending_idx ON contact_imports (status) WHERE status IN ('queued', 'processing');

    -- One row per data row of an import: the raw row as received (kept until processed, then
    -- cleared), then its outcome. Rows are numbered from 1 (the first data row after a CSV
    -- header). Processing updates each row once; the fill factor leaves room for that update.
    CREATE TABLE contact_import_rows (
      import_id uuid NOT NULL REFERENCES contact_imports (id) ON DELETE CASCADE,
      row_number integer NOT NULL,
      data text,
      phone_number text,
      outcome text CHECK (outcome IN ('created', 'updated', 'skipped_duplicate', 'invalid')),
      contact_id uuid,
      message text,
      PRIMARY KEY (import_id, row_number)
    ) WITH (fillfactor = 70);

    -- The numbers a validate_only import has seen so far (it writes no contacts, so duplicates
    -- inside the file are found here); emptied when the import completes.
    CREATE TABLE contact_import_seen (
      import_id uuid NOT NULL REFERENCES contact_imports (id) ON DELETE CASCADE,
      phone_number text NOT NULL,
      row_number integer NOT NULL,
      PRIMARY KEY (import_id, phone_number)
    );
  `.execute(db);

  for (const optIn of OPT_IN_SEED) {
    await sql`INSERT INTO opt_ins (id, key, name, description, enabled, created_at, updated_at)
              VALUES (${optIn.id}, ${optIn.key}, ${optIn.name}, ${optIn.description}, true, ${optIn.createdAt}, ${optIn.createdAt})`.execute(db);
  }
  for (const alias of CARRIER_ALIAS_SEED) {
    await sql`INSERT INTO carrier_aliases (alias, country, carrier_id) VALUES (${alias.alias}, ${alias.country}, ${alias.carrierId})`.execute(db);
  }
}
