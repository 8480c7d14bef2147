/**
 * Service accounts in Chromium: token sign-in, the scope switcher, create a service account in an
 * organization, give it a role, a key and a token that verifies with the role's permissions,
 * rotate, remove the role, delete; then the audit log of all of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTokenDialog, menu, openConsole, readNewToken, screenshot, verify, type Console } from './browser.js';

describe('console: service accounts', () => {
  let c: Console;
  beforeAll(async () => {
    c = await openConsole();
  });
  afterAll(async () => c?.close());

  it('signs in by pasting a token', async () => {
    const { page, k } = c;
    await page.goto(k.url);
    await page.getByRole('tab', { name: 'Token' }).click();
    await page.getByLabel('Personal access token').fill('pat.not.a.token');
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByRole('alert').filter({ hasText: 'The token is not valid' }).waitFor();
    await page.getByLabel('Personal access token').fill(k.admin.token);
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByText('Signed in with a token').waitFor();
    // The pasted token is not kept anywhere the page can reach later.
    expect(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })')).toBe('{}');
    expect(await page.content()).not.toContain(k.admin.token);
  }, 60_000);

  let saToken = '';
  let spare = '';
  it('creates a service account in an organization chosen with the scope switcher, with a role', async () => {
    const { page } = c;
    await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Service Accounts' }).click();
    await page.getByText('No service accounts in the account').waitFor();
    await page.getByRole('combobox', { name: 'Organization' }).selectOption('default');
    await page.getByText('No service accounts in organization default').waitFor();
    expect(new URL(page.url()).search).toBe('?org=default');

    await page.getByRole('button', { name: 'Create a service account' }).click();
    const d = page.getByRole('dialog', { name: 'New service account' });
    await d.getByLabel('Name').fill('Deploy Bot');
    expect(await d.getByLabel('Identifier').inputValue()).toBe('Deploy_Bot');
    expect(await d.getByLabel('Email').inputValue()).toBe('deploy_bot@service.keyward.local');
    await d.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Deploy Bot', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/service-accounts/Deploy_Bot');

    await page.getByText('No roles yet').waitFor();
    await page.getByRole('button', { name: '+ Role' }).click();
    const rd = page.getByRole('dialog', { name: 'Give Deploy Bot a role' });
    await rd.getByLabel('Role').selectOption({ label: 'Organization Admin' });
    await rd.getByRole('button', { name: 'Add role' }).click();
    await page.getByRole('list', { name: 'Role assignments' }).getByText('Organization Admin').waitFor();
  }, 60_000);

  it('gives it a key and a token that verifies as the service account with the role', async () => {
    const { page, k } = c;
    const keys = page.getByRole('region', { name: 'API Keys' });
    await keys.getByText('No API keys yet').waitFor();
    await keys.getByRole('button', { name: '+ API Key' }).click();
    await page.getByRole('dialog', { name: 'New API key' }).getByLabel('Name').fill('pipeline');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Add a token to pipeline' }).click();
    await page.getByRole('dialog', { name: 'New token for pipeline' }).getByLabel('Name').fill('release');
    await page.getByRole('button', { name: 'Generate Token' }).click();
    saToken = await readNewToken(page, 'Token created');
    expect(saToken).toMatch(/^sat\./);
    await closeTokenDialog(page);

    const v = await verify(k, saToken);
    expect(v.valid).toBe(true);
    expect(v.principal).toMatchObject({ type: 'SERVICE_ACCOUNT', identifier: 'Deploy_Bot' });
    expect(v.scope).toEqual({ accountId: k.admin.accountId, orgId: 'default', projectId: null });
    expect(v.permissions).toContain('core_serviceaccount_view');
    await screenshot(page, 'service-account');

    // A second token, to see that deleting the service account takes it too.
    await page.getByRole('button', { name: 'Add a token to pipeline' }).click();
    await page.getByRole('dialog', { name: 'New token for pipeline' }).getByLabel('Name').fill('spare');
    await page.getByRole('button', { name: 'Generate Token' }).click();
    spare = await readNewToken(page, 'Token created');
    await closeTokenDialog(page);
    expect((await verify(k, spare)).valid).toBe(true);

    await page.getByRole('link', { name: 'Service Accounts' }).last().click();
    const row = page.getByRole('row', { name: /Deploy Bot/ });
    await row.getByText('Organization Admin').waitFor();
    await screenshot(page, 'service-accounts');
    await row.getByRole('link', { name: 'Deploy Bot' }).click();
    await page.getByRole('heading', { name: 'Deploy Bot', level: 1 }).waitFor();
  }, 60_000);

  it('rotates at once: the old token stops, the new one works', async () => {
    const { page, k } = c;
    await menu(page, 'More options for token release', 'Rotate Token');
    const rd = page.getByRole('dialog', { name: 'Rotate token release' });
    expect(await rd.getByLabel('The old token').inputValue()).toBe('now');
    await rd.getByRole('button', { name: 'Rotate Token' }).click();
    const next = await readNewToken(page, 'Token rotated');
    await closeTokenDialog(page);
    expect(await verify(k, saToken)).toMatchObject({ valid: false, reason: 'rotated_out' });
    expect((await verify(k, next)).valid).toBe(true);
    saToken = next;
  }, 60_000);

  it('removes the role: the token verifies with no permissions left', async () => {
    const { page, k } = c;
    await page.getByRole('button', { name: 'Remove role Organization Admin' }).click();
    await page.getByRole('alertdialog', { name: 'Remove role Organization Admin?' }).getByRole('button', { name: 'Remove role' }).click();
    await page.getByText('No roles yet').waitFor();
    const v = await verify(k, saToken);
    expect(v.valid).toBe(true);
    expect(v.permissions).toEqual([]);
  }, 60_000);

  it('deletes a token, then the service account with its keys and tokens', async () => {
    const { page, k } = c;
    const row = page.locator('tr[data-token="release"]');
    await row.getByRole('button', { name: 'More options for token release' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('alertdialog', { name: 'Delete token release?' }).getByRole('button', { name: 'Delete token' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await verify(k, saToken)).valid).toBe(false);

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete service account Deploy Bot?' });
    await confirm.getByText('all of its API keys and their tokens').waitFor();
    await confirm.getByRole('button', { name: 'Delete service account' }).click();
    await page.getByText('No service accounts in organization default').waitFor();
    expect((await verify(k, spare)).valid).toBe(false);
  }, 60_000);

  it('shows who did what in the audit log, filtered by action and actor', async () => {
    const { page, k } = c;
    await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Audit Log' }).click();
    await page.getByRole('heading', { name: 'Audit Log' }).waitFor();
    // The scope follows: every event above happened in organization default.
    const table = page.getByRole('table', { name: 'Audit events' });
    await table.getByText('serviceaccount.delete').waitFor();
    await page.getByLabel('Action').selectOption('token.rotate');
    await page.getByLabel('Actor').fill('me');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(async () => (await table.locator('tbody tr').allInnerTexts()).join('\n')).toMatch(/token\.rotate/);
    const rows = await table.locator('tbody tr').allInnerTexts();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(`You (${k.admin.email})`);
    await screenshot(page, 'audit-log');
    await page.getByLabel('Action').selectOption('apikey.delete');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No events match').waitFor();
  }, 60_000);
});
