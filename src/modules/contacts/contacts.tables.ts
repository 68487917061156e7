import type { ColumnType, Generated } from 'kysely';

export type SubscriptionStatus = 'pending' | 'subscribed' | 'unsubscribed';
export type CarrierStatus = 'active' | 'suspended' | 'deactivated';

export interface ContactsTable {
  id: string;
  account_id: string;
  phone_number: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  gender: string | null;
  /** DATE, read back as YYYY-MM-DD (src/db/database.ts). */
  birth_date: string | null;
  address: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
  reward_points: Generated<number>;
  timezone: string | null;
  carrier_id: string | null;
  status: Generated<SubscriptionStatus>;
  carrier_status: Generated<CarrierStatus>;
  opt_in_id: string | null;
  subscribed_at: Date | null;
  unsubscribed_at: Date | null;
  bounces: Generated<number>;
  source: Generated<string>;
  /** Creation order within the account (dense; see migration 0002). */
  seq: number;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ContactGroupsTable {
  contact_id: string;
  group_id: string;
  account_id: string;
  created_at: Generated<Date>;
}

export interface ContactCountsTable {
  account_id: string;
  contacts: number;
  next_seq: number;
}

export interface ContactSeqGapsTable {
  account_id: string;
  seq: number;
}

export interface CarrierAliasesTable {
  alias: string;
  country: string;
  carrier_id: string;
}

export interface ContactTables {
  contacts: ContactsTable;
  contact_groups: ContactGroupsTable;
  contact_counts: ContactCountsTable;
  contact_seq_gaps: ContactSeqGapsTable;
  carrier_aliases: CarrierAliasesTable;
}
