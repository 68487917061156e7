import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { parsePhone, type PhoneNumber } from '../../lib/phone.js';
import type { CarrierLookup } from './carrier-lookup.js';
import type { LookupResult } from './phone-numbers.schema.js';

export type PhoneNumbersService = ReturnType<typeof createPhoneNumbersService>;

export interface ResolvedCarrier {
  carrierId: string | null;
  carrierName: string | null;
  timezones: string[];
}

/**
 * Phone-number lookups, and the link from a lookup's carrier name to a row of the carriers
 * table (by name or alias within the number's country). Carriers and aliases are seeded
 * reference data that only migrations change, so they are read once per process.
 */
export function createPhoneNumbersService(deps: { db: Kysely<DB>; carrierLookup: CarrierLookup }) {
  let directory: Promise<Map<string, string>> | null = null;
  // Zone lists come from the offline data (a few hundred distinct lists): the choice is cached.
  const picked = new Map<string, string | null>();

  function loadDirectory(): Promise<Map<string, string>> {
    directory ??= (async () => {
      const map = new Map<string, string>();
      const carriers = await deps.db.selectFrom('carriers').select(['id', 'name', 'country']).execute();
      for (const c of carriers) map.set(`${c.country}|${c.name.toLowerCase()}`, c.id);
      const aliases = await deps.db.selectFrom('carrier_aliases').select(['alias', 'country', 'carrier_id']).execute();
      for (const a of aliases) map.set(`${a.country}|${a.alias.toLowerCase()}`, a.carrier_id);
      return map;
    })().catch((error: unknown) => {
      directory = null;
      throw error;
    });
    return directory;
  }

  async function resolve(phone: PhoneNumber): Promise<ResolvedCarrier> {
    const info = await deps.carrierLookup.lookup(phone);
    let carrierId: string | null = null;
    if (info.carrier && phone.country) {
      carrierId = (await loadDirectory()).get(`${phone.country}|${info.carrier.toLowerCase()}`) ?? null;
    }
    return { carrierId, carrierName: info.carrier, timezones: info.timezones };
  }

  return {
    resolve,

    /**
     * The time zone to give a contact whose number resolves to `zones`: the zone when there is
     * one; when there are several that keep the same UTC offset all year (+44: Guernsey, Isle
     * of Man, London), the first; otherwise none (the number alone does not tell).
     */
    pickTimeZone(zones: readonly string[]): string | null {
      if (zones.length === 0) return null;
      if (zones.length === 1) return zones[0]!;
      const key = zones.join('&');
      if (picked.has(key)) return picked.get(key)!;
      const choice = pickAmong(zones);
      picked.set(key, choice);
      return choice;
    },

    /** The country that numbers without a + are read in: the account's default_country. */
    async defaultCountry(accountId: string): Promise<string> {
      const row = await deps.db.selectFrom('accounts').select('default_country').where('id', '=', accountId).executeTakeFirst();
      return row?.default_country.trim() || 'US';
    },

    async lookup(inputs: readonly string[], defaultCountry: string): Promise<LookupResult[]> {
      return Promise.all(
        inputs.map(async (input): Promise<LookupResult> => {
          const parsed = parsePhone(input, defaultCountry);
          const phone = parsed.phone;
          if (!phone) {
            return { input, phone_number: null, valid: false, possible: false, country: null, type: null, carrier: null, timezones: [], error: parsed.ok ? null : parsed.reason };
          }
          const resolved: ResolvedCarrier = parsed.ok ? await resolve(phone) : { carrierId: null, carrierName: null, timezones: [] };
          return {
            input,
            phone_number: phone.number,
            valid: parsed.ok,
            possible: phone.isPossible(),
            country: phone.country ?? null,
            type: phone.getType() ?? null,
            carrier: resolved.carrierName ? { id: resolved.carrierId, name: resolved.carrierName } : null,
            timezones: resolved.timezones,
            error: parsed.ok ? null : parsed.reason,
          };
        }),
      );
    },
  };
}

/** Several zones: the first when they all keep the same UTC offset in January and July, else none. */
function pickAmong(zones: readonly string[]): string | null {
  const year = new Date().getUTCFullYear();
  const probes = [new Date(Date.UTC(year, 0, 15)), new Date(Date.UTC(year, 6, 15))];
  const offsets = (zone: string) => probes.map((d) => new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).format(d).split(' ').pop()).join('|');
  try {
    const first = offsets(zones[0]!);
    return zones.every((z) => offsets(z) === first) ? zones[0]! : null;
  } catch {
    return null;
  }
}
