/// <reference lib="dom" />
/**
 * What a new user tripped over in the console (issue 16), each in Chromium: focus after a dialog
 * from a ⋮ menu, Delete not focused in confirmations, a visible focus ring, a warning before an
 * uncopied token is closed, server errors in words on the right fields, a date picker, rotation
 * that sets the new token's expiry and tells the two rows apart, long names at phone width,
 * token prefixes and search by a pasted token, the page number and audit filters in the URL, and
 * audit events in words with their details.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Request } from 'playwright-core';
import { closeTokenDialog, menu, openConsole, readNewToken, screenshot, signInWithPassword, verify, type Console } from './browser.js';
import type { TestKeyward } from '../helpers/keyward.js';

async function createKey(k: TestKeyward, identifier: string, name = identifier): Promise<void> {
  const res = await k.http.post(`/ng/api/apikey?accountIdentifier=${k.admin.accountId}`, {
    identifier,
    name,
    apiKeyType: 'USER',
    parentIdentifier: k.admin.userId,
    accountIdentifier: k.admin.accountId,
  });
  expect(res.status, res.text).toBe(200);
}

async function createToken(k: TestKeyward, apiKeyIdentifier: string, identifier: string, validTo?: number): Promise<string> {
  const res = await k.http.post(`/ng/api/token?accountIdentifier=${k.admin.accountId}`, {
    identifier,
    name: identifier,
    apiKeyIdentifier,
    apiKeyType: 'USER',
    parentIdentifier: k.admin.userId,
    accountIdentifier: k.admin.accountId,
    ...(validTo ? { validTo } : {}),
  });
  expect(res.status, res.text).toBe(200);
  return res.body.data as string;
}

const focusedLabel = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? null);

describe('console: first use, at desktop width', () => {
  let c: Console;
  beforeAll(async () => {
    c = await openConsole();
    await createKey(c.k, 'focus');
    await createToken(c.k, 'focus', 't1');
    await signInWithPassword(c);
  }, 60_000);
  afterAll(async () => c?.close());

  it('gives the focus back to ⋮ after Edit, Rotate or Delete closes; after a deletion, to the key’s ⋮', async () => {
    const { page } = c;
    const card = page.getByRole('listitem', { name: 'API key focus' });
    await card.locator('tr[data-token="t1"]').waitFor();

    await menu(page, 'More options for API key focus', 'Edit');
    await page.getByRole('dialog', { name: 'Edit API key focus' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await focusedLabel(page)).toBe('More options for API key focus');

    await menu(page, 'More options for token t1', 'Rotate Token');
    await page.getByRole('dialog', { name: 'Rotate token t1' }).getByRole('button', { name: 'Rotate Token' }).click();
    await readNewToken(page, 'Token rotated');
    await closeTokenDialog(page);
    expect(await focusedLabel(page)).toMatch(/^More options for token t1/);

    await menu(page, 'More options for token t1', 'Delete');
    const confirm = page.getByRole('alertdialog', { name: 'Delete token t1?' });
    await confirm.waitFor();
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    expect(await focusedLabel(page)).toBe('More options for token t1');

    await menu(page, 'More options for token t1 (old, rotated)', 'Delete');
    await page.getByRole('alertdialog', { name: 'Delete token t1 (old, rotated)?' }).getByRole('button', { name: 'Delete token' }).click();
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    await expect.poll(() => card.locator('tr[data-token-id]').count()).toBe(1);
    expect(await focusedLabel(page)).toBe('More options for API key focus');
  }, 60_000);

  it('focuses Cancel in a delete confirmation: ⋮, Enter, ↓, Enter, Enter deletes nothing', async () => {
    const { page } = c;
    await page.getByRole('button', { name: 'More options for API key focus', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menuitem', { name: 'Edit' }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('alertdialog', { name: 'Delete API key focus?' });
    await confirm.waitFor();
    expect(await focusedLabel(page)).toBe('Cancel');
    await page.keyboard.press('Enter');
    await confirm.waitFor({ state: 'detached' });
    await page.reload();
    await page.getByRole('listitem', { name: 'API key focus' }).locator('tr[data-token="t1"]').waitFor();
    expect(await focusedLabel(page)).not.toBe('Delete key and its tokens');
  }, 60_000);

  it('draws a focus ring of at least 3:1 on the dark header and on white', async () => {
    const { page } = c;
    const ring = async (selector: string) => {
      await page.keyboard.press('Tab'); // the last input is a key, so focus is drawn as for a keyboard user
      await page.locator(selector).first().focus();
      return page.evaluate((sel) => {
        const el = document.querySelector(sel)!;
        const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
        const lum = (c: number[]) => {
          const [r, g, b] = c.slice(0, 3).map((v) => {
            const s = v / 255;
            return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        };
        let bgEl: Element | null = el.parentElement;
        let bg = [255, 255, 255, 1];
        while (bgEl) {
          const c = parse(getComputedStyle(bgEl).backgroundColor);
          if (c.length === 3 || (c[3] ?? 1) > 0) {
            bg = c;
            break;
          }
          bgEl = bgEl.parentElement;
        }
        const s = getComputedStyle(el);
        const fg = parse(s.outlineColor);
        const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a) as [number, number];
        return { matches: el.matches(':focus-visible'), style: s.outlineStyle, width: parseFloat(s.outlineWidth), contrast: (l1 + 0.05) / (l2 + 0.05) };
      }, selector);
    };
    for (const sel of ['.topbar .nav-link', '.topbar .btn-ghost', '.panel .btn-primary', '.key-card .icon-btn']) {
      const r = await ring(sel);
      expect(r.matches, sel).toBe(true);
      expect(r.style, sel).toBe('solid');
      expect(r.width, sel).toBeGreaterThanOrEqual(2);
      expect(r.contrast, sel).toBeGreaterThanOrEqual(3);
    }
  }, 60_000);

  it('asks before closing a token that was never copied (Escape, ×, or the button)', async () => {
    const { page, k } = c;
    await page.getByRole('button', { name: 'Add a token to focus' }).click();
    await page.getByRole('dialog', { name: 'New token for focus' }).getByLabel('Name').fill('uncopied');
    await page.getByRole('button', { name: 'Generate Token' }).click();
    const dialog = page.getByRole('dialog', { name: 'Token created' });
    const token = await readNewToken(page, 'Token created');
    await page.keyboard.press('Escape');
    const ask = dialog.getByRole('alert').filter({ hasText: 'You have not copied this token' });
    await ask.waitFor();
    expect(await dialog.getByTestId('new-token').inputValue()).toBe(token);
    await dialog.getByRole('button', { name: 'Back to the token' }).click();
    await ask.waitFor({ state: 'detached' });
    expect(await focusedLabel(page)).toBe('Copy token');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await ask.waitFor();
    await dialog.getByRole('button', { name: 'Close without copying' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await verify(k, token)).valid).toBe(true);

    // Copied: Escape closes at once.
    await menu(page, 'More options for token uncopied', 'Rotate Token');
    await page.getByRole('button', { name: 'Rotate Token' }).click();
    await readNewToken(page, 'Token rotated');
    await page.getByRole('button', { name: 'Copy token' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Token rotated' }).waitFor({ state: 'detached' });
  }, 60_000);

  it('names problems in words, on the right fields: a past date, a duplicate, a character, the key limit', async () => {
    const { page } = c;
    // A date that has passed on the server's clock.
    await page.getByRole('button', { name: 'Add a token to focus' }).click();
    const td = page.getByRole('dialog', { name: 'New token for focus' });
    await td.getByLabel('Name').fill('too late');
    await td.getByLabel('Set Expiration Date').check();
    await td.getByLabel('Expiration date', { exact: true }).fill('2025-06-01');
    await td.getByRole('button', { name: 'Generate Token' }).click();
    const dateField = td.locator('.field', { has: page.getByLabel('Expiration date', { exact: true }) });
    await dateField.locator('.field-error').filter({ hasText: 'That date has already passed' }).waitFor();
    expect(await td.getByText("Token's validTo").count()).toBe(0);
    await page.keyboard.press('Escape');
    await td.waitFor({ state: 'detached' });

    // A duplicate: both Name and Identifier are marked.
    await page.getByRole('button', { name: '+ API Key' }).click();
    const kd = page.getByRole('dialog', { name: 'New API key' });
    await kd.getByLabel('Name').fill('focus');
    await kd.getByRole('button', { name: 'Save' }).click();
    await kd.locator('.field-error').filter({ hasText: 'already exists' }).waitFor();
    expect(await kd.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await kd.getByLabel('Identifier').getAttribute('aria-invalid')).toBe('true');
    expect(await kd.locator('.field', { has: page.getByLabel('Name') }).locator('.field-error').textContent()).toContain('Choose another name');

    // A character a name cannot hold is named while typing, before any save; the hint names spaces.
    await kd.getByLabel('Name').fill('deploys (prod)');
    await kd.getByText('A name cannot contain “(” “)”').waitFor();
    expect(await kd.locator('.field', { has: page.getByLabel('Name') }).locator('.hint').textContent()).toContain('spaces');
    await kd.getByLabel('Name').fill('deploys prod');
    await expect.poll(() => kd.getByText('A name cannot contain').count()).toBe(0);

    // The sixth key: the limit, and how to raise it.
    await page.keyboard.press('Escape');
    for (const id of ['k3', 'k4', 'k5']) await createKey(c.k, id);
    await page.reload();
    await page.getByRole('listitem', { name: 'API key k5' }).waitFor();
    await page.getByRole('button', { name: '+ API Key' }).click();
    await kd.getByLabel('Name').fill('sixth');
    await kd.getByRole('button', { name: 'Save' }).click();
    const err = kd.locator('.form-error');
    await err.filter({ hasText: 'You have 5 API keys here' }).waitFor();
    expect(await err.textContent()).toContain('KEYWARD_MAX_API_KEYS_PER_PARENT');
    expect(await err.textContent()).not.toContain('Maximum limit has reached');
    await page.keyboard.press('Escape');
    await kd.waitFor({ state: 'detached' });
  }, 60_000);

  it('picks an expiry with a date picker or a quick choice; 2027-03-01 is a date', async () => {
    const { page, k } = c;
    await page.getByRole('button', { name: 'Add a token to k3' }).click();
    const td = page.getByRole('dialog', { name: 'New token for k3' });
    await td.getByLabel('Name').fill('dated');
    await td.getByLabel('Set Expiration Date').check();
    const date = td.getByLabel('Expiration date', { exact: true });
    expect(await date.getAttribute('type')).toBe('date');
    await td.getByRole('button', { name: 'In 90 days' }).click();
    const in90 = await page.evaluate(() => {
      const d = new Date(Date.now() + 90 * 86_400_000);
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    });
    expect(await date.inputValue()).toBe(in90);
    await date.fill('2027-03-01');
    await td.getByRole('button', { name: 'Generate Token' }).click();
    const token = await readNewToken(page, 'Token created');
    await closeTokenDialog(page);
    expect((await verify(k, token)).expiresAt).toBe(Date.UTC(2027, 2, 1, 23, 59, 59, 999));
  }, 60_000);

  it('sets the new token’s expiry at rotation, and tells the old row from the new one', async () => {
    const { page, k } = c;
    const old = await createToken(k, 'k4', 'r1', Date.UTC(2026, 11, 31));
    await page.reload();
    await menu(page, 'More options for token r1', 'Rotate Token');
    const rd = page.getByRole('dialog', { name: 'Rotate token r1' });
    await rd.getByLabel('The old token').selectOption('7d');
    expect(await rd.getByLabel('New token expires').inputValue()).toBe('2026-12-31');
    await rd.getByLabel('New token expires').fill('2027-06-30');
    await screenshot(page, 'rotate-dialog');
    await rd.getByRole('button', { name: 'Rotate Token' }).click();
    const rotated = await readNewToken(page, 'Token rotated');
    await closeTokenDialog(page);
    expect((await verify(k, rotated)).expiresAt).toBe(Date.UTC(2027, 5, 30, 23, 59, 59, 999));
    expect((await verify(k, old)).valid).toBe(true);

    const card = page.getByRole('listitem', { name: 'API key k4' });
    await card.getByText('r1 (old, rotated)').waitFor();
    // Each row shows its own token's prefix: the old one on the rotated row.
    const prefixOf = (name: string) => card.locator('tr', { has: page.getByText(name, { exact: true }) }).locator('.token-prefix').textContent();
    expect(await prefixOf('r1 (old, rotated)')).toBe(old.split('.').slice(0, 3).join('.'));
    expect(await prefixOf('r1')).toBe(rotated.split('.').slice(0, 3).join('.'));
    await menu(page, 'More options for token r1 (old, rotated)', 'Delete');
    const confirm = page.getByRole('alertdialog', { name: 'Delete token r1 (old, rotated)?' });
    await confirm.getByText(old.split('.').slice(0, 3).join('.')).waitFor();
    await confirm.getByText('replaced by a rotation').waitFor();
    await page.keyboard.press('Escape');
  }, 60_000);

  it('finds a pasted token’s row by its prefix, never sending its secret', async () => {
    const { page, k } = c;
    const token = await createToken(k, 'k5', 'held');
    const secret = token.split('.')[3]!;
    await page.reload();
    await page.getByRole('listitem', { name: 'API key k5' }).waitFor();
    const sent: string[] = [];
    const onRequest = (r: Request) => sent.push(`${r.url()} ${r.postData() ?? ''}`);
    page.on('request', onRequest);
    const box = page.getByLabel('Search API keys, or paste a token to find it');
    await box.fill(token);
    expect(await box.inputValue()).toBe(token.split('.').slice(0, 3).join('.'));
    await page.getByText('That token is').waitFor();
    const row = page.locator('tr[aria-current="true"]');
    await row.getByText('held', { exact: true }).waitFor();
    expect(await page.getByRole('listitem', { name: /^API key / }).count()).toBe(1);
    page.off('request', onRequest);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((s) => s.includes(secret))).toEqual([]);
    expect(page.url()).not.toContain(secret);
  }, 60_000);

  it('keeps the audit filters in the URL and shows events in words with their details', async () => {
    const { page, k } = c;
    // A real failed sign-in (a wrong password for the admin's email): the backend audits it.
    const refused = await k.anon.post('/v1/sessions', { email: k.admin.email, password: 'not-the-password-1' }, { headers: { 'x-keyward-console': '1' } });
    expect(refused.status).toBe(401);
    const events = await k.http.get(`/v1/accounts/${k.admin.accountId}/audit`, { query: { action: 'session.signin' } });
    const failedId: string = events.body.items.find((e: { outcome: string }) => e.outcome === 'failure')?.id;
    expect(failedId).toBeTruthy();
    await page.getByRole('link', { name: 'Audit Log' }).click();
    await page.getByRole('heading', { name: 'Audit Log' }).waitFor();
    await page.getByLabel('Action').selectOption({ label: 'Token rotated' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('action')).toBe('token.rotate');
    await page.reload();
    await page.getByRole('heading', { name: 'Audit Log' }).waitFor();
    expect(await page.getByLabel('Action').inputValue()).toBe('token.rotate');
    const table = page.getByRole('table', { name: 'Audit events' });
    await table.getByText('Token rotated').first().waitFor();
    expect(await table.getByText('Token created').count()).toBe(0);
    await table.getByRole('button', { name: /^Details of Token rotated/ }).first().click();
    const detail = table.locator('.audit-detail');
    await detail.getByText('newTokenId').waitFor();
    await detail.getByText('oldTokenEndsAt').waitFor();
    await page.goBack();
    await expect.poll(() => new URL(page.url()).searchParams.get('action')).toBe(null);
    const failed = table.locator(`tr[data-event="${failedId}"]`);
    await failed.getByText('Sign-in failed').waitFor();
    await failed.getByText('Failed', { exact: true }).waitFor();
    await failed.getByText('invalid_credentials').waitFor();
  }, 60_000);
});

describe('console: first use, at phone width', () => {
  let c: Console;
  beforeAll(async () => {
    c = await openConsole({ width: 390, height: 844, config: { maxApiKeysPerParent: 30 } });
    for (let i = 1; i <= 11; i++) await createKey(c.k, `key_${String(i).padStart(2, '0')}`);
    // Newest first: the long name on the first page.
    c.k.clock.advance(1000);
    await createKey(c.k, 'long', 'x'.repeat(80));
    await signInWithPassword(c);
  }, 60_000);
  afterAll(async () => c?.close());

  it('wraps an unbroken 80-character name inside 390 px, left-aligned', async () => {
    const { page } = c;
    const card = page.getByRole('listitem', { name: `API key ${'x'.repeat(80)}` });
    await card.waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const name = card.locator('.key-name');
    const [nameBox, cardBox] = [await name.boundingBox(), await card.boundingBox()];
    expect(nameBox!.width).toBeLessThanOrEqual(cardBox!.width);
    expect(await card.locator('.disclosure').evaluate((el) => getComputedStyle(el).textAlign)).toMatch(/^(left|start)$/);
  }, 60_000);

  it('keeps the page number in the URL', async () => {
    const { page, k } = c;
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('page')).toBe('2');
    await page.getByText('Page 2 of 2').waitFor();
    await page.reload();
    await page.getByText('Page 2 of 2').waitFor();
    await page.goto(`${k.url}/keys`);
    await page.getByText('Page 1 of 2').waitFor();
  }, 60_000);
});
