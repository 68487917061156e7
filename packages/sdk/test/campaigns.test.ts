import { NotFoundError, Shortcode, UnprocessableEntityError, type Campaign } from '@shortcode/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './server.js';
import { startWorkers } from './workers.js';

let server: TestServer;
let stopWorkers: () => Promise<void>;
let client: Shortcode;
let shortCode: string;
let n = 0;
const phone = () => `+1202557${String(1000 + (n++ % 9000)).padStart(4, '0')}`;

beforeAll(async () => {
  server = await startServer({ SIMULATOR_REPORT_DELAY_MS: '0' });
  stopWorkers = await startWorkers(server);
  ({ client, shortCode } = await server.newAccount());
});
afterAll(async () => {
  await stopWorkers();
  await server.close();
});

/** Contacts who confirmed their opt-in by texting YES from their (simulated) handsets. */
async function subscribedContacts(count: number, groupId: string) {
  const contacts = [];
  for (let i = 0; i < count; i += 1) {
    const contact = await client.contacts.create({ phone_number: phone(), groups: [groupId] });
    await client.simulator.inbound({ from: contact.phone_number, to: shortCode, message: 'YES' });
    const confirmed = await client.contacts.retrieve(contact.id, { include: 'status' });
    expect(confirmed.status?.subscription).toBe('subscribed');
    contacts.push(contact);
  }
  return contacts;
}

describe('campaigns', () => {
  it('creates a draft, previews it, launches it and follows its stats until sent', async () => {
    const group = await client.groups.create({ name: 'Campaign audience' });
    await subscribedContacts(3, group.id);
    const draft = await client.campaigns.create({ name: 'Spring sale', message: 'Hi {first_name|there}, 20% off today', groups: [group.id], draft: true });
    expect(draft).toMatchObject({ name: 'Spring sale', status: 'draft', groups: [group.id] });
    expect(await client.campaigns.retrieve(draft.id)).toMatchObject({ id: draft.id, status: 'draft' });

    const preview = await client.campaigns.preview(draft.id);
    expect(JSON.stringify(preview)).toContain('Hi there, 20% off today');

    const renamed = await client.campaigns.update(draft.id, { name: 'Spring sale!' });
    expect(renamed.name).toBe('Spring sale!');
    await client.campaigns.update(draft.id, { draft: false });

    let campaign: Campaign = await client.campaigns.retrieve(draft.id);
    const deadline = Date.now() + 20_000;
    while (!(campaign.status === 'sent' && campaign.stats.delivered === 3) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      campaign = await client.campaigns.retrieve(draft.id);
    }
    expect(campaign.status).toBe('sent');
    expect(campaign.stats).toMatchObject({ recipients: 3, delivered: 3, failed: 0 });

    const listed = await client.campaigns.list({ sort: '-created_at' });
    expect(listed.data.map((c) => c.id)).toContain(draft.id);
    const sentError = (await client.campaigns.delete(draft.id).catch((e: unknown) => e)) as UnprocessableEntityError;
    expect(sentError).toBeInstanceOf(UnprocessableEntityError);
  });

  it('deletes a scheduled campaign', async () => {
    const scheduled = await client.campaigns.create({ name: 'Later', message: 'Soon', send_at: new Date(Date.now() + 86_400_000).toISOString() });
    expect(scheduled.status).toBe('scheduled');
    await client.campaigns.delete(scheduled.id);
    await expect(client.campaigns.retrieve(scheduled.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('campaign templates', () => {
  it('creates, retrieves, updates, lists and deletes templates, and starts a campaign from one', async () => {
    const template = await client.campaignTemplates.create({ name: 'Welcome', message: 'Welcome to the club!' });
    expect(await client.campaignTemplates.retrieve(template.id)).toEqual(template);
    const updated = await client.campaignTemplates.update(template.id, { message: 'Welcome aboard!' });
    expect(updated.message).toBe('Welcome aboard!');
    expect((await client.campaignTemplates.listAll()).map((t) => t.id)).toContain(template.id);
    const campaign = await client.campaigns.create({ name: 'From template', template_id: template.id, draft: true });
    expect(campaign.message).toBe('Welcome aboard!');
    await client.campaignTemplates.delete(template.id);
    await expect(client.campaignTemplates.retrieve(template.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('coupons and coupon templates', () => {
  it('lists and retrieves the shipped coupon templates', async () => {
    const templates = await client.couponTemplates.listAll();
    expect(templates.length).toBeGreaterThan(0);
    expect(await client.couponTemplates.retrieve(templates[0]!.id)).toEqual(templates[0]);
  });

  it('creates, updates, redeems (once per reference), lists and deletes coupons', async () => {
    const coupon = await client.coupons.create({ name: 'Ten off', title: '$10 off', code: 'TEN', redemption_limit: 5 });
    expect(coupon).toMatchObject({ name: 'Ten off', code: 'TEN', redemptions: 0 });
    expect((await client.coupons.retrieve(coupon.id)).id).toBe(coupon.id);
    const updated = await client.coupons.update(coupon.id, { title: '$10 off anything' });
    expect(updated.title).toBe('$10 off anything');
    const first = await client.coupons.redeem(coupon.id, { reference: 'order-1' });
    const again = await client.coupons.redeem(coupon.id, { reference: 'order-1' });
    expect(again.id).toBe(first.id);
    expect((await client.coupons.retrieve(coupon.id)).redemptions).toBe(1);
    expect((await client.coupons.list()).data.map((c) => c.id)).toContain(coupon.id);
    await client.coupons.delete(coupon.id);
    await expect(client.coupons.retrieve(coupon.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});
