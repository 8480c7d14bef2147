/// <reference lib="dom" />
/**
 * A key's usage chart in Chromium: verifications by hour and outcome over 7 or 30 days, for the
 * whole key or one token, in a chart, in words and in a table by day; axe-core finds nothing serious.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, openConsole, screenshot, signInWithPassword, verify, type Console } from './browser.js';

const HOUR = 3_600_000;

describe('console: usage of a key', () => {
  let c: Console;
  beforeAll(async () => {
    c = await openConsole();
  }, 60_000);
  afterAll(async () => c?.close());

  it('charts verifications by hour and outcome, for the key or one token, over 7 or 30 days', async () => {
    const { page, k } = c;
    const acct = k.admin.accountId;
    const body = { apiKeyType: 'USER', parentIdentifier: k.admin.userId, accountIdentifier: acct };
    expect((await k.http.post(`/ng/api/apikey?accountIdentifier=${acct}`, { ...body, identifier: 'ci', name: 'ci' })).status).toBe(200);
    const mk = async (id: string, validTo?: number) =>
      (await k.http.post(`/ng/api/token?accountIdentifier=${acct}`, { ...body, identifier: id, name: id, apiKeyIdentifier: 'ci', ...(validTo ? { validTo } : {}) })).body.data as string;
    const shortLived = await mk('short', k.clock.now() + HOUR);
    const lasting = await mk('lasting');
    expect((await verify(k, shortLived)).valid).toBe(true);
    expect((await verify(k, lasting)).valid).toBe(true);
    // Ten days ago, as far as the 7-day view is concerned: only the 30-day view shows these.
    k.clock.advance(2 * HOUR);
    expect((await verify(k, shortLived)).reason).toBe('expired');
    expect((await verify(k, lasting)).valid).toBe(true);
    await k.keyward.services.usage.flush();
    k.clock.advance(10 * 24 * HOUR);
    expect((await verify(k, lasting)).valid).toBe(true);

    await signInWithPassword(c);
    const card = page.getByRole('listitem', { name: 'API key ci' });
    await card.getByRole('button', { name: 'Usage of ci' }).click();
    const panel = page.getByTestId('usage-ci');
    await panel.getByText('1 verification in the last 7 days: 1 valid, 0 refused.').waitFor();
    expect(await panel.locator('rect.bar-valid').count()).toBe(1);
    await axe(page, 'usage of a key');

    await panel.getByLabel('Period').selectOption('30');
    await panel.getByText('5 verifications in the last 30 days: 4 valid, 1 refused (1 expired).').waitFor();
    expect(await panel.locator('rect.bar-refused').count()).toBe(1);
    expect(await panel.locator('rect.bar-valid').count()).toBe(3);
    await panel.getByText('By day, as a table').click();
    const rows = await panel.getByRole('table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
    expect(rows).toHaveLength(30);
    expect(rows.reduce((n, r) => n + Number(r[1]), 0)).toBe(4);
    expect(rows.reduce((n, r) => n + Number(r[2]), 0)).toBe(1);
    await panel.getByText('By day, as a table').click();
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'usage');

    await panel.getByLabel('Token').selectOption(shortLived.split('.')[2]!);
    await panel.getByText('2 verifications in the last 30 days: 1 valid, 1 refused (1 expired).').waitFor();
    await axe(page, 'usage of one token, 30 days');
  }, 90_000);
});
