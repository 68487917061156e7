import { uuidV5 } from '../../lib/ids.js';

/**
 * The product's standard opt-ins, shared by every account (reference data, like carriers).
 * Ids derive from the key so every installation has the same ones.
 */
const OPT_INS: Array<{ key: string; name: string; description: string }> = [
  { key: 'single', name: 'Single', description: 'Subscribed as soon as they join; no confirmation needed' },
  { key: 'double', name: 'Double', description: 'Reply Y to confirm' },
  { key: 'email', name: 'Email', description: 'Text Email Address to confirm' },
];

const SEEDED_AT = new Date('2026-01-01T00:00:00.000Z');

export const OPT_IN_SEED = OPT_INS.map((o) => ({ id: uuidV5(`opt-in:${o.key}`), key: o.key, name: o.name, description: o.description, createdAt: SEEDED_AT }));

export const SINGLE_OPT_IN_ID = uuidV5('opt-in:single');
export const DOUBLE_OPT_IN_ID = uuidV5('opt-in:double');
export const EMAIL_OPT_IN_ID = uuidV5('opt-in:email');
