import { uuidV5 } from '../../lib/ids.js';

/**
 * The mobile carriers shipped with every installation. Ids are derived from the name so they are
 * the same everywhere; names follow the operator names in libphonenumber's carrier data so that
 * phone-number lookups can link a contact to its carrier.
 */
const CARRIERS: Array<[name: string, country: string]> = [
  // United States
  ['Verizon Wireless', 'US'],
  ['AT&T Wireless', 'US'],
  ['T-Mobile USA', 'US'],
  ['US Cellular', 'US'],
  ['Cricket Wireless', 'US'],
  ['Boost Mobile', 'US'],
  ['Metro by T-Mobile', 'US'],
  ['Google Fi', 'US'],
  ['Visible', 'US'],
  ['Mint Mobile', 'US'],
  ['Consumer Cellular', 'US'],
  ['Tracfone', 'US'],
  ['C Spire', 'US'],
  ['Appalachian Wireless', 'US'],
  // Canada
  ['Rogers Wireless', 'CA'],
  ['Bell Mobility', 'CA'],
  ['Telus Mobility', 'CA'],
  ['Freedom Mobile', 'CA'],
  ['Videotron', 'CA'],
  // Mexico
  ['Telcel', 'MX'],
  ['AT&T Mexico', 'MX'],
  ['Movistar Mexico', 'MX'],
  // United Kingdom
  ['EE', 'GB'],
  ['Vodafone UK', 'GB'],
  ['O2 UK', 'GB'],
  ['Three UK', 'GB'],
  // Europe
  ['Telekom Deutschland', 'DE'],
  ['Vodafone Germany', 'DE'],
  ['O2 Germany', 'DE'],
  ['Orange France', 'FR'],
  ['SFR', 'FR'],
  ['Bouygues Telecom', 'FR'],
  ['Free Mobile', 'FR'],
  ['Movistar Spain', 'ES'],
  ['Vodafone Spain', 'ES'],
  ['Orange Spain', 'ES'],
  ['TIM Italy', 'IT'],
  ['Vodafone Italy', 'IT'],
  ['WindTre', 'IT'],
  // Asia-Pacific
  ['Reliance Jio', 'IN'],
  ['Airtel India', 'IN'],
  ['Vodafone Idea', 'IN'],
  ['NTT Docomo', 'JP'],
  ['KDDI au', 'JP'],
  ['SoftBank', 'JP'],
  ['China Mobile', 'CN'],
  ['China Unicom', 'CN'],
  ['China Telecom', 'CN'],
  ['Telstra', 'AU'],
  ['Optus', 'AU'],
  ['Vodafone Australia', 'AU'],
  // Latin America
  ['Vivo', 'BR'],
  ['Claro Brasil', 'BR'],
  ['TIM Brasil', 'BR'],
];

const SEEDED_AT = new Date('2026-01-01T00:00:00.000Z');

export const CARRIER_SEED = CARRIERS.map(([name, country]) => ({
  id: uuidV5(`carrier:${name}`),
  name,
  country,
  createdAt: SEEDED_AT,
}));
