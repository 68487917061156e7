import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_audience.js';
import * as m0003 from './0003_oauth_dashboard.js';
import * as m0004 from './0004_jobs_and_events.js';
import * as m0005 from './0005_messaging.js';
import * as m0006 from './0006_webhooks.js';
import * as m0007 from './0007_campaigns_coupons.js';
import * as m0008 from './0008_contacts_seq_on_insert.js';
import * as m0009a from './0009_audience_list_paths.js';
import * as m0009m from './0009_messaging_handover_key.js';
import * as m0010 from './0010_messaging_claim_is_ledger.js';
import * as m0011 from './0011_webhook_delivery_indexes.js';
import * as m0012 from './0012_time_ordered_ids.js';
import * as m0013 from './0013_webhook_cycle_function.js';
import * as m0014 from './0014_webhook_attempts_cleanup_trigger.js';

/**
 * Every schema change, in order. A migration is never edited once released; a change is a new
 * file. Names sort in order and are recorded in kysely_migration.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_audience': m0002,
  '0003_oauth_dashboard': m0003,
  '0004_jobs_and_events': m0004,
  '0005_messaging': m0005,
  '0006_webhooks': m0006,
  '0007_campaigns_coupons': m0007,
  '0008_contacts_seq_on_insert': m0008,
  '0009_audience_list_paths': m0009a,
  '0009_messaging_handover_key': m0009m,
  '0010_messaging_claim_is_ledger': m0010,
  '0011_webhook_delivery_indexes': m0011,
  '0012_time_ordered_ids': m0012,
  '0013_webhook_cycle_function': m0013,
  '0014_webhook_attempts_cleanup_trigger': m0014,
};
