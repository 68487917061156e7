import { uuidV5 } from '../../lib/ids.js';

/**
 * Operator names as libphonenumber's carrier data spells them, mapped to the seeded carriers
 * (src/modules/carriers/carriers.seed.ts), per country. A lookup whose name equals a carrier's
 * name (case-insensitive, same country) links without an alias.
 */
export const CARRIER_ALIASES: Array<[alias: string, country: string, carrier: string]> = [
  ['Three', 'GB', 'Three UK'],
  ['Vodafone', 'GB', 'Vodafone UK'],
  ['O2', 'GB', 'O2 UK'],
  ['Telefonica', 'GB', 'O2 UK'],
  ['Rogers Communications', 'CA', 'Rogers Wireless'],
  ['Bell', 'CA', 'Bell Mobility'],
  ['Telus', 'CA', 'Telus Mobility'],
  ['Freedom', 'CA', 'Freedom Mobile'],
  ['Movistar', 'MX', 'Movistar Mexico'],
  ['AT&T', 'MX', 'AT&T Mexico'],
  ['Telekom', 'DE', 'Telekom Deutschland'],
  ['T-Mobile', 'DE', 'Telekom Deutschland'],
  ['Vodafone', 'DE', 'Vodafone Germany'],
  ['O2', 'DE', 'O2 Germany'],
  ['Telefonica', 'DE', 'O2 Germany'],
  ['Orange', 'FR', 'Orange France'],
  ['Bouygues', 'FR', 'Bouygues Telecom'],
  ['Free', 'FR', 'Free Mobile'],
  ['Movistar', 'ES', 'Movistar Spain'],
  ['Vodafone', 'ES', 'Vodafone Spain'],
  ['Orange', 'ES', 'Orange Spain'],
  ['TIM', 'IT', 'TIM Italy'],
  ['Vodafone', 'IT', 'Vodafone Italy'],
  ['Wind Tre', 'IT', 'WindTre'],
  ['WIND', 'IT', 'WindTre'],
  ['3 Italia', 'IT', 'WindTre'],
  ['Reliance Jio', 'IN', 'Reliance Jio'],
  ['Jio', 'IN', 'Reliance Jio'],
  ['Airtel', 'IN', 'Airtel India'],
  ['Vodafone', 'IN', 'Vodafone Idea'],
  ['Idea', 'IN', 'Vodafone Idea'],
  ['Vodafone Idea', 'IN', 'Vodafone Idea'],
  ['NTT DOCOMO', 'JP', 'NTT Docomo'],
  ['KDDI', 'JP', 'KDDI au'],
  ['au', 'JP', 'KDDI au'],
  ['Vodafone', 'AU', 'Vodafone Australia'],
  ['Claro', 'BR', 'Claro Brasil'],
  ['TIM', 'BR', 'TIM Brasil'],
];

export const CARRIER_ALIAS_SEED = CARRIER_ALIASES.map(([alias, country, carrier]) => ({
  alias,
  country,
  carrierId: uuidV5(`carrier:${carrier}`),
}));
