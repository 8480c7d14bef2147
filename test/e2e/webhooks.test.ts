/// <reference lib="dom" />
/**
 * The Webhooks page in Chromium: create an endpoint with an event filter (its signing secret shown
 * once), a real receiver gets a signed delivery, the delivery log shows it, Replay resends it with
 * the same webhook-id, edit and delete; axe-core finds nothing serious.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';
import { issueUserToken } from '../helpers/nativeApi.js';
import { axe, closeTokenDialog, openConsole, signInWithPassword, type Console } from './browser.js';

describe('console: webhooks', () => {
  let c: Console;
  let rx: WebhookReceiver;
  beforeAll(async () => {
    c = await openConsole({ config: { masterKey: randomBytes(32).toString('base64'), webhookIntervalMs: 100 } });
    rx = await new WebhookReceiver().start();
  }, 60_000);
  afterAll(async () => {
    await rx?.stop();
    await c?.close();
  });

  it('creates an endpoint, shows its secret once, logs a signed delivery and replays it', async () => {
    const { page, k } = c;
    await signInWithPassword(c);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No webhook endpoints').waitFor();
    await axe(page, 'webhooks, empty');

    await page.getByRole('button', { name: '+ New Endpoint' }).click();
    const d = page.getByRole('dialog', { name: 'New webhook endpoint' });
    await d.getByRole('button', { name: 'Create endpoint' }).click();
    await d.getByText('Enter an http or https URL').waitFor();
    await axe(page, 'new endpoint dialog with an error');
    await d.getByLabel('URL').fill(rx.url);
    await d.getByLabel('Description', { exact: false }).fill('receiver');
    await d.getByLabel('token.created').check();
    await d.getByRole('button', { name: 'Create endpoint' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'Signing secret' });
    await secretDialog.waitFor();
    const secret = await secretDialog.getByTestId('new-token').inputValue();
    expect(secret).toMatch(/^whsec_/);
    await axe(page, 'signing secret shown once');
    await closeTokenDialog(page);
    const row = page.locator(`tr[data-webhook="${rx.url}"]`);
    await row.getByText('token.created').waitFor();
    await axe(page, 'webhooks');
    // The secret is nowhere on the page any more.
    expect(await page.content()).not.toContain(secret);

    await issueUserToken(k, k.admin.accountId, k.admin.userId);
    await rx.waitFor((r) => r.length === 1);
    expect(rx.received[0]!.type).toBe('token.created');
    expect(() => WebhookReceiver.verify(rx.received[0]!, secret)).not.toThrow();

    const hooks = (await k.http.get(`/v1/accounts/${k.admin.accountId}/webhooks`)).body.items as Array<{ id: string }>;
    await expect
      .poll(async () => (await k.http.get(`/v1/accounts/${k.admin.accountId}/webhooks/${hooks[0]!.id}/deliveries`)).body.deliveries[0]?.status)
      .toBe('succeeded');
    await page.getByRole('button', { name: `Deliveries of ${rx.url}` }).click();
    const log = page.getByRole('dialog', { name: `Deliveries to ${rx.url}` });
    await log.getByText('succeeded').waitFor();
    await log.getByText(/200 · \d+ ms/).waitFor();
    await axe(page, 'delivery log');
    await log.getByRole('button', { name: /^Replay token.created delivery/ }).click();
    await rx.waitFor((r) => r.length === 2);
    expect(rx.received[1]!.id).toBe(rx.received[0]!.id);
    expect(() => WebhookReceiver.verify(rx.received[1]!, secret)).not.toThrow();
    await page.keyboard.press('Escape');

    await page.getByRole('button', { name: `More options for endpoint ${rx.url}` }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    const ed = page.getByRole('dialog', { name: 'Edit webhook endpoint' });
    await ed.getByLabel('Enabled').uncheck();
    await axe(page, 'edit endpoint dialog');
    await ed.getByRole('button', { name: 'Save endpoint' }).click();
    await row.getByText('Disabled').waitFor();

    await page.getByRole('button', { name: `More options for endpoint ${rx.url}` }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByText('No webhook endpoints').waitFor();
    expect((await k.http.get(`/v1/accounts/${k.admin.accountId}/webhooks`)).body.items).toEqual([]);
  }, 90_000);
});
