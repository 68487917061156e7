/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * `uuid_v7()`: a UUID whose first 48 bits are the time in milliseconds (RFC 9562 version 7),
 * for the campaign fan-out, which makes its message ids in SQL. A message row is rewritten
 * three times after its insert (claimed, sent, delivered), each time adding an entry to the
 * primary key's index beside the old one: with random ids a campaign's rows are spread over
 * every page of that index, with time-ordered ids they share a few. (PostgreSQL 18 has uuidv7();
 * this is the same layout for 15 and for PGlite.)
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
      SELECT encode(
        set_bit(set_bit(
          overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
          52, 1), 53, 1),
        'hex')::uuid
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION uuid_v7()`.execute(db);
}
