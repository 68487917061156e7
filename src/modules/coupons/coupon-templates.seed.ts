import { uuidV5 } from '../../lib/ids.js';

/**
 * The coupon designs the product ships. A design is data, not code: the page renderer
 * (coupon-page.ts) reads these fields, so every design works with every coupon.
 */
export interface CouponDesign {
  layout: 'ticket' | 'banner' | 'minimal' | 'stamp';
  background: string;
  card: string;
  accent: string;
  text: string;
  muted: string;
  font: 'sans' | 'serif' | 'rounded' | 'mono';
  /** How the offer is shown: a redeem button (staff taps it at the till) or the code itself. */
  show: 'button' | 'code';
}

const SEED: Array<{ key: string; name: string; description: string; design: CouponDesign }> = [
  {
    key: 'classic-ticket',
    name: 'Classic ticket',
    description: 'A cream ticket with a perforated edge and a red redeem button.',
    design: { layout: 'ticket', background: '#f4efe6', card: '#fffdf8', accent: '#c0392b', text: '#2b2118', muted: '#7a6a58', font: 'serif', show: 'button' },
  },
  {
    key: 'bold-banner',
    name: 'Bold banner',
    description: 'A full-width colour banner with a large headline, for flash sales.',
    design: { layout: 'banner', background: '#101828', card: '#ffffff', accent: '#f59e0b', text: '#101828', muted: '#475467', font: 'sans', show: 'button' },
  },
  {
    key: 'clean-minimal',
    name: 'Clean minimal',
    description: 'White space and one accent colour; shows the code in large type.',
    design: { layout: 'minimal', background: '#ffffff', card: '#ffffff', accent: '#2563eb', text: '#111827', muted: '#6b7280', font: 'sans', show: 'code' },
  },
  {
    key: 'loyalty-stamp',
    name: 'Loyalty stamp',
    description: 'A rounded green card with a stamp-style badge, for rewards and loyalty offers.',
    design: { layout: 'stamp', background: '#ecfdf3', card: '#ffffff', accent: '#039855', text: '#054f31', muted: '#3b7a57', font: 'rounded', show: 'button' },
  },
  {
    key: 'night-code',
    name: 'Night code',
    description: 'A dark card with a monospaced code, for online checkouts.',
    design: { layout: 'minimal', background: '#0b0f19', card: '#161b2e', accent: '#a78bfa', text: '#f5f3ff', muted: '#a5a3c2', font: 'mono', show: 'code' },
  },
];

const SEEDED_AT = new Date('2026-01-01T00:00:00.000Z');

export const COUPON_TEMPLATE_SEED = SEED.map((t) => ({ ...t, id: uuidV5(`coupon-template:${t.key}`), createdAt: SEEDED_AT }));
export const DEFAULT_COUPON_TEMPLATE_ID = COUPON_TEMPLATE_SEED[0]!.id;
