/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';
import { gsmSeptets } from '../../modules/messages/gsm7.js';
import { COUPON_TEMPLATE_SEED } from '../../modules/coupons/coupon-templates.seed.js';

/** The GSM-7 alphabet as two strings (basic, extension), derived from the codec's table. */
function gsmAlphabet(): { basic: string; extension: string } {
  let basic = '';
  let extension = '';
  for (let code = 1; code <= 0xffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    const char = String.fromCharCode(code);
    const septets = gsmSeptets(char);
    if (septets === 1) basic += char;
    else if (septets === 2) extension += char;
  }
  return { basic, extension };
}

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
/** A regular-expression bracket expression matching any of `chars` (ARE escapes). */
const bracket = (chars: string) => `[${chars.replace(/[\\\][^-]/g, (c) => `\\${c}`)}]`;

/**
 * Campaigns and coupons (issue 5): campaign templates, campaigns and their groups, coupon
 * templates (reference data: the designs the product ships), coupons, their pools of unique
 * codes and their redemptions, tracked short links and their clicks.
 *
 * Also two SQL functions that mirror src/modules/messages/segments.ts (`analyzeSegments`), so
 * a campaign's personalised messages are rendered, measured and charged inside one
 * INSERT ... SELECT, without bringing recipients into the process.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const { basic, extension } = gsmAlphabet();
  const all = literal(basic + extension);
  const ext = literal(extension);
  const gsmOnly = literal(`^${bracket(basic + extension)}*$`);
  const hasExt = literal(bracket(extension));

  await sql
    .raw(
      `
    -- Plain SQL with regular expressions (compiled once per statement), so the planner inlines
    -- them into a fan-out statement when called on a column.
    CREATE FUNCTION sms_encoding(t text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $fn$ SELECT CASE WHEN t ~ ${gsmOnly} THEN 'GSM-7' ELSE 'UCS-2' END $fn$;

    -- Segments exactly as analyzeSegments counts them: 160/153 septets (GSM-7, extension
    -- characters cost 2) or 70/67 UTF-16 units (UCS-2, characters beyond the BMP cost 2); parts
    -- never split a 2-unit character, so only texts holding such characters need the exact loop
    -- (sms_segments_exact); the others are arithmetic.
    CREATE FUNCTION sms_segments_exact(t text) RETURNS integer
      LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
      AS $fn$
      DECLARE
        gsm boolean;
        units integer;
        wide integer;
        single integer;
        part integer;
        used integer := 0;
        parts integer := 1;
        ch text;
        cost integer;
      BEGIN
        IF t IS NULL OR t = '' THEN RETURN 0; END IF;
        gsm := translate(t, ${all}, '') = '';
        IF gsm THEN
          wide := char_length(t) - char_length(translate(t, ${ext}, ''));
          single := 160; part := 153;
        ELSE
          wide := char_length(t) - char_length(regexp_replace(t, '[\\U00010000-\\U0010FFFF]', '', 'g'));
          single := 70; part := 67;
        END IF;
        units := char_length(t) + wide;
        IF units <= single THEN RETURN 1; END IF;
        IF wide = 0 THEN RETURN (units + part - 1) / part; END IF;
        FOREACH ch IN ARRAY regexp_split_to_array(t, '') LOOP
          IF gsm THEN
            cost := CASE WHEN strpos(${ext}, ch) > 0 THEN 2 ELSE 1 END;
          ELSE
            cost := CASE WHEN ascii(ch) > 65535 THEN 2 ELSE 1 END;
          END IF;
          IF used + cost > part THEN parts := parts + 1; used := 0; END IF;
          used := used + cost;
        END LOOP;
        RETURN parts;
      END $fn$;

    CREATE FUNCTION sms_segments(t text) RETURNS integer
      LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $fn$ SELECT CASE
        WHEN t IS NULL OR t = '' THEN 0
        WHEN t ~ ${gsmOnly} THEN
          CASE WHEN t ~ ${hasExt} THEN sms_segments_exact(t)
               WHEN char_length(t) <= 160 THEN 1
               ELSE (char_length(t) + 152) / 153 END
        WHEN t ~ '[\\U00010000-\\U0010FFFF]' THEN sms_segments_exact(t)
        WHEN char_length(t) <= 70 THEN 1
        ELSE (char_length(t) + 66) / 67 END $fn$;

    -- Quiet hours: the first instant at or after "at" inside the local window [start_min,
    -- end_min) (minutes after midnight) of time zone tz; a window may wrap past midnight.
    CREATE FUNCTION quiet_hours_release(at timestamptz, tz text, start_min integer, end_min integer) RETURNS timestamptz
      LANGUAGE plpgsql STABLE PARALLEL SAFE
      AS $fn$
      DECLARE
        local timestamp := at AT TIME ZONE tz;
        m integer := extract(hour FROM local)::integer * 60 + extract(minute FROM local)::integer;
        opening timestamp := date_trunc('day', local) + make_interval(mins => start_min);
      BEGIN
        IF start_min = end_min THEN RETURN at; END IF;
        IF start_min < end_min THEN
          IF m >= start_min AND m < end_min THEN RETURN at; END IF;
          IF m < start_min THEN RETURN opening AT TIME ZONE tz; END IF;
          RETURN (opening + interval '1 day') AT TIME ZONE tz;
        END IF;
        IF m >= start_min OR m < end_min THEN RETURN at; END IF;
        RETURN opening AT TIME ZONE tz;
      END $fn$;
  `,
    )
    .execute(db);

  await sql`
    CREATE TABLE campaign_templates (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      name text NOT NULL,
      message text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX campaign_templates_account_idx ON campaign_templates (account_id, created_at, id);

    -- Reference data: the coupon designs the product ships (seeded below, ids from uuidV5).
    CREATE TABLE coupon_templates (
      id uuid PRIMARY KEY,
      key text NOT NULL UNIQUE,
      name text NOT NULL,
      description text NOT NULL,
      design jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE coupons (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      name text NOT NULL,
      coupon_template_id uuid NOT NULL REFERENCES coupon_templates (id),
      title text NOT NULL,
      description text,
      disclaimer text,
      code text,
      unique_codes boolean NOT NULL DEFAULT false,
      starts_at timestamptz,
      expires_at timestamptz,
      redemption_limit integer CHECK (redemption_limit IS NULL OR redemption_limit > 0),
      redemptions integer NOT NULL DEFAULT 0 CHECK (redemptions >= 0),
      -- Signs the redeem form of the public page (CSRF token); never leaves the server.
      page_secret text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (starts_at IS NULL OR expires_at IS NULL OR expires_at > starts_at),
      CHECK (redemption_limit IS NULL OR redemptions <= redemption_limit)
    );
    CREATE INDEX coupons_account_idx ON coupons (account_id, created_at, id);

    -- The pool of per-contact unique codes: uploaded or generated; a code is given to a
    -- contact the first time that contact's coupon page is opened, and never to another (no
    -- foreign key on contact_id: a deleted contact's code stays spent).
    CREATE TABLE coupon_codes (
      coupon_id uuid NOT NULL REFERENCES coupons (id) ON DELETE CASCADE,
      code text NOT NULL,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      contact_id uuid,
      assigned_at timestamptz,
      redeemed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (coupon_id, code),
      UNIQUE (coupon_id, contact_id)
    );
    CREATE INDEX coupon_codes_free_idx ON coupon_codes (coupon_id, created_at) WHERE contact_id IS NULL;

    CREATE TABLE campaigns (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      name text NOT NULL,
      message text NOT NULL,
      media_url text,
      coupon_id uuid REFERENCES coupons (id) ON DELETE SET NULL,
      template_id uuid REFERENCES campaign_templates (id) ON DELETE SET NULL,
      track_links boolean NOT NULL DEFAULT true,
      -- Base URL of the short links in the messages (the product's public URL at creation).
      link_base text NOT NULL,
      -- No groups: every subscribed contact of the account. Groups deleted later do not widen it.
      all_contacts boolean NOT NULL DEFAULT false,
      send_at timestamptz,
      status text NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'canceled')),
      cancel_reason text,
      -- The audience is the one at launch: contacts (and group memberships) created later are not in it.
      launched_at timestamptz,
      completed_at timestamptz,
      canceled_at timestamptz,
      credits_reserved bigint NOT NULL DEFAULT 0,
      credits_used bigint NOT NULL DEFAULT 0,
      credits_refunded bigint NOT NULL DEFAULT 0,
      -- Fan-out progress: contacts are visited in id order; the cursor is the last one done.
      fanout_cursor uuid,
      fanout_done boolean NOT NULL DEFAULT false,
      recipients integer NOT NULL DEFAULT 0,
      skipped_unsubscribed integer NOT NULL DEFAULT 0,
      skipped_pending integer NOT NULL DEFAULT 0,
      skipped_bounced integer NOT NULL DEFAULT 0,
      skipped_deactivated integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX campaigns_account_idx ON campaigns (account_id, created_at, id);
    CREATE INDEX campaigns_coupon_idx ON campaigns (coupon_id) WHERE coupon_id IS NOT NULL;

    CREATE TABLE campaign_groups (
      campaign_id uuid NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
      group_id uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      PRIMARY KEY (campaign_id, group_id)
    );

    CREATE TABLE coupon_redemptions (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      coupon_id uuid NOT NULL REFERENCES coupons (id) ON DELETE CASCADE,
      campaign_id uuid REFERENCES campaigns (id) ON DELETE SET NULL,
      contact_id uuid REFERENCES contacts (id) ON DELETE SET NULL,
      code text,
      -- What makes two redemptions the same one (a unique code, a contact, a page form, a client reference).
      redemption_key text NOT NULL,
      source text NOT NULL CHECK (source IN ('page', 'api')),
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (coupon_id, redemption_key)
    );
    CREATE INDEX coupon_redemptions_campaign_idx ON coupon_redemptions (campaign_id) WHERE campaign_id IS NOT NULL;

    -- Short links served by the product: /l/{code} (a tracked URL of a campaign) and
    -- /c/{code} (a coupon's page, on its own or as carried by a campaign).
    CREATE TABLE short_links (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      code text NOT NULL UNIQUE,
      kind text NOT NULL CHECK (kind IN ('url', 'coupon')),
      url text,
      coupon_id uuid REFERENCES coupons (id) ON DELETE CASCADE,
      campaign_id uuid REFERENCES campaigns (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((kind = 'url' AND url IS NOT NULL) OR (kind = 'coupon' AND coupon_id IS NOT NULL))
    );
    CREATE UNIQUE INDEX short_links_campaign_url_key ON short_links (campaign_id, url) WHERE kind = 'url';
    CREATE UNIQUE INDEX short_links_coupon_key ON short_links (coupon_id, campaign_id) NULLS NOT DISTINCT WHERE kind = 'coupon';

    CREATE TABLE link_clicks (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      link_id uuid NOT NULL REFERENCES short_links (id) ON DELETE CASCADE,
      campaign_id uuid REFERENCES campaigns (id) ON DELETE CASCADE,
      contact_id uuid REFERENCES contacts (id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX link_clicks_campaign_idx ON link_clicks (campaign_id, contact_id) WHERE campaign_id IS NOT NULL;
    CREATE INDEX link_clicks_link_idx ON link_clicks (link_id);

    -- A campaign's messages live in the messaging outbox (0005). Each contact gets a campaign's
    -- message once: the fan-out inserts with ON CONFLICT on this index, so a batch repeated
    -- after a crash inserts nothing twice. The stats read the second index.
    ALTER TABLE messages ADD CONSTRAINT messages_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns (id) ON DELETE SET NULL;
    CREATE UNIQUE INDEX messages_campaign_contact_key ON messages (campaign_id, contact_id) WHERE campaign_id IS NOT NULL;
    CREATE INDEX messages_campaign_status_idx ON messages (campaign_id, status) WHERE campaign_id IS NOT NULL;
  `.execute(db);

  for (const t of COUPON_TEMPLATE_SEED) {
    await sql`INSERT INTO coupon_templates (id, key, name, description, design, created_at, updated_at)
              VALUES (${t.id}, ${t.key}, ${t.name}, ${t.description}, ${JSON.stringify(t.design)}::jsonb, ${t.createdAt}, ${t.createdAt})`.execute(db);
  }
}
