/**
 * The personal flow in Chromium: sign in, create a key, create a token and read it from the
 * dialog, use it on POST /v1/verify, rotate it keeping the old one until a date (both verify, then
 * only the new once the server's clock passes the date), delete it (verify fails), delete the key,
 * sign out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTokenDialog, DAY, menu, openConsole, PASSWORD, readNewToken, screenshot, signInWithPassword, verify, type Console } from './browser.js';

describe('console: My API Keys', () => {
  let c: Console;
  beforeAll(async () => {
    c = await openConsole();
  });
  afterAll(async () => c?.close());

  it('refuses a wrong password with one generic message, then signs in', async () => {
    const { page, k } = c;
    await page.goto(k.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'login');
    // Client-side: missing fields are named next to the field.
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByText('Enter your email address.').count()).toBe(1);
    await page.getByLabel('Email', { exact: true }).fill(k.admin.email);
    await page.getByLabel('Password', { exact: true }).fill('wrong password!');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid email or password' }).waitFor();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'My API Keys' }).waitFor();
    // The bootstrap admin's own key, with the token Keyward printed at first start.
    await page.getByRole('listitem', { name: /^API key / }).first().getByText('1 token').waitFor();
    expect(new URL(page.url()).pathname).toBe('/keys');
  }, 60_000);

  let token = '';
  it('creates a key with an identifier derived from its name, and a token shown once', async () => {
    const { page, k } = c;
    await page.getByRole('button', { name: '+ API Key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill('CI deploys-2026');
    // Harness: characters an identifier may not hold become _.
    expect(await dialog.getByLabel('Identifier').inputValue()).toBe('CI_deploys_2026');
    await dialog.getByLabel('Description').fill('Deploys from CI');
    await dialog.getByLabel('Tags').fill('env:prod, team:platform');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    const card = page.getByRole('listitem', { name: 'API key CI deploys-2026' });
    await card.waitFor();
    await card.getByText('No tokens yet').waitFor();
    await expect.poll(() => card.getByText('env:prod').count()).toBe(1);

    await card.getByRole('button', { name: 'Add a token to CI deploys-2026' }).click();
    const td = page.getByRole('dialog', { name: 'New token for CI deploys-2026' });
    await td.getByLabel('Name').fill('github actions');
    await td.getByLabel('Set Expiration Date').check();
    // A date picker; no date is named next to its field, before any request.
    expect(await td.getByLabel('Expiration date', { exact: true }).getAttribute('type')).toBe('date');
    await td.getByRole('button', { name: 'Generate Token' }).click();
    await td.getByText('Pick an expiration date').waitFor();
    await td.getByLabel('Expiration date', { exact: true }).fill('2026-12-31');
    await td.getByRole('button', { name: 'Generate Token' }).click();

    token = await readNewToken(page, 'Token created');
    expect(token).toMatch(new RegExp(`^pat\\.${k.admin.accountId}\\.[0-9a-f]{24}\\.[A-Za-z0-9]{20}$`));
    await screenshot(page, 'token-dialog');
    await page.getByRole('button', { name: 'Copy token' }).click();
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(token);
    await closeTokenDialog(page);

    const v = await verify(k, token);
    expect(v.valid).toBe(true);
    expect(v.principal).toMatchObject({ type: 'USER', id: k.admin.userId });
    // End of 12/31/2026 in the browser's time zone (UTC here).
    expect(v.expiresAt).toBe(Date.UTC(2026, 11, 31, 23, 59, 59, 999));

    // The token's row: state and, after that use, its last use.
    await page.reload();
    const row = page.locator('tr[data-token="github_actions"]');
    await row.getByText('Active').waitFor();
    await row.getByText('Dec 31, 2026').waitFor();
    await expect.poll(() => row.getByText('Never').count()).toBe(0);
    await screenshot(page, 'my-api-keys');
  }, 60_000);

  it('shows a duplicate identifier next to the Identifier field', async () => {
    const { page } = c;
    await page.getByRole('button', { name: '+ API Key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill('CI deploys 2026');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const idField = dialog.locator('.field', { has: page.getByLabel('Identifier') });
    await idField.locator('.field-error').filter({ hasText: 'already exists' }).waitFor();
    expect(await dialog.getByLabel('Identifier').getAttribute('aria-invalid')).toBe('true');
    // Escape closes the dialog and gives focus back to the button that opened it.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('+ API Key');
  }, 60_000);

  it('rotates keeping the old token until a date: both verify, then only the new one', async () => {
    const { page, k } = c;
    await menu(page, 'More options for token github actions', 'Rotate Token');
    const rd = page.getByRole('dialog', { name: 'Rotate token github actions' });
    await rd.getByLabel('The old token').selectOption('at');
    await rd.getByLabel('Old token works until').fill('2026-01-20T23:59');
    await rd.getByRole('button', { name: 'Rotate Token' }).click();
    const rotated = await readNewToken(page, 'Token rotated');
    expect(rotated).not.toBe(token);
    await closeTokenDialog(page);

    const oldV = await verify(k, token);
    const newV = await verify(k, rotated);
    expect(oldV.valid).toBe(true);
    expect(oldV.expiresAt).toBe(Date.UTC(2026, 0, 20, 23, 59));
    expect(newV.valid).toBe(true);
    // The new token keeps the old one's expiry.
    expect(newV.expiresAt).toBe(Date.UTC(2026, 11, 31, 23, 59, 59, 999));
    const card = page.getByRole('listitem', { name: 'API key CI deploys-2026' });
    await card.getByText('Rotated, still valid').waitFor();
    await card.getByText('2 tokens').waitFor();

    // Past the chosen date on the server's clock: only the new token works.
    k.clock.set(Date.UTC(2026, 0, 21, 9, 0, 0));
    expect(await verify(k, token)).toMatchObject({ valid: false, reason: 'rotated_out' });
    expect((await verify(k, rotated)).valid).toBe(true);
    await page.reload();
    await page.getByRole('listitem', { name: 'API key CI deploys-2026' }).getByText('Rotated out').waitFor();
    token = rotated;
  }, 60_000);

  it('deletes the token after a confirmation, and it stops verifying', async () => {
    const { page, k } = c;
    const row = page.locator('tr[data-token="github_actions"]');
    await row.getByRole('button', { name: 'More options for token github actions', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete token github actions?' });
    await confirm.getByText('stops working at once').waitFor();
    await confirm.getByRole('button', { name: 'Delete token' }).click();
    await confirm.waitFor({ state: 'detached' });
    await row.waitFor({ state: 'detached' });
    const v = await verify(k, token);
    expect(v.valid).toBe(false);
    expect(['deleted', 'unknown']).toContain(v.reason);
  }, 60_000);

  it('edits a key, then deletes it with a confirmation that says its tokens go too', async () => {
    const { page, k } = c;
    await menu(page, 'More options for API key CI deploys-2026', 'Edit');
    const ed = page.getByRole('dialog', { name: 'Edit API key CI deploys-2026' });
    expect(await ed.getByLabel('Identifier').isDisabled()).toBe(true);
    await ed.getByLabel('Name').fill('CI deploys');
    await ed.getByRole('button', { name: 'Save' }).click();
    await ed.waitFor({ state: 'detached' });
    const card = page.getByRole('listitem', { name: 'API key CI deploys' });
    await card.waitFor();

    // A token to be deleted along with the key.
    await card.getByRole('button', { name: 'Add a token to CI deploys' }).click();
    await page.getByRole('dialog', { name: 'New token for CI deploys' }).getByLabel('Name').fill('temp');
    await page.getByRole('button', { name: 'Generate Token' }).click();
    const temp = await readNewToken(page, 'Token created');
    await closeTokenDialog(page);
    expect((await verify(k, temp)).valid).toBe(true);

    await menu(page, 'More options for API key CI deploys', 'Delete');
    const confirm = page.getByRole('alertdialog', { name: 'Delete API key CI deploys?' });
    await confirm.getByText(/and all 2 of its tokens/).waitFor();
    await confirm.getByRole('button', { name: 'Delete key and its tokens' }).click();
    await card.waitFor({ state: 'detached' });
    expect((await verify(k, temp)).valid).toBe(false);
  }, 60_000);

  it('keeps no token in storage, and signing out ends the session', async () => {
    const { page } = c;
    const stored = await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })');
    expect(stored).toBe('{}');
    expect(await page.evaluate('document.cookie')).toBe('');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByText('You are signed out.').waitFor();
    const status = await page.evaluate("fetch('/v1/whoami', { headers: { 'x-keyward-console': '1' } }).then((r) => r.status)");
    expect(status).toBe(401);
    // Back to a protected page: the sign-in form, not the keys.
    await page.goto(`${c.k.url}/keys`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  }, 60_000);

  it('moves to the sign-in page when the session expires', async () => {
    const { page, k } = c;
    await signInWithPassword(c);
    // Let the page's first reads finish before the session expires, so that the next request is ours.
    await page.waitForLoadState('networkidle');
    k.clock.advance(61 * DAY);
    await page.getByRole('button', { name: '+ API Key' }).click();
    await page.getByRole('dialog', { name: 'New API key' }).getByLabel('Name').fill('after expiry');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
  }, 60_000);
});
