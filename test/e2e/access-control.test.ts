/// <reference lib="dom" />
/**
 * The console's organization, project, user and user-group pages in Chromium: organizations and
 * projects made, renamed and deleted (and the scope switcher following at once); users created,
 * given a new password, deactivated and reactivated (checked by signing in over HTTP); a user group
 * with a member and a role that reaches the member's token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { menu, openConsole, screenshot, signInWithPassword, verify, type Console } from './browser.js';

describe('console: organizations, projects, users and user groups', () => {
  let c: Console;
  beforeAll(async () => {
    c = await openConsole();
    await signInWithPassword(c);
  }, 60_000);
  afterAll(async () => c?.close());

  const orgOptions = () => c.page.locator('#scope-org option').allTextContents();

  it('creates, renames and deletes an organization and a project; the scope switcher follows', async () => {
    const { page } = c;
    await page.getByRole('link', { name: 'Organizations' }).click();
    await page.getByRole('heading', { name: 'Organizations', level: 1 }).waitFor();
    await page.getByRole('button', { name: '+ New Organization' }).click();
    const od = page.getByRole('dialog', { name: 'New organization' });
    await od.getByLabel('Name').fill('Payments');
    await od.getByRole('button', { name: 'Save' }).click();
    await od.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Payments' }).waitFor();
    await expect.poll(orgOptions).toContain('Org: Payments');
    await screenshot(page, 'organizations');

    await page.getByRole('link', { name: 'Payments' }).click();
    await page.getByRole('heading', { name: 'Payments', level: 1 }).waitFor();
    await page.getByText('No projects in Payments yet').waitFor();
    await page.getByRole('button', { name: '+ New Project' }).click();
    const pd = page.getByRole('dialog', { name: 'New project' });
    await pd.getByLabel('Name').fill('Checkout');
    await pd.getByRole('button', { name: 'Save' }).click();
    await pd.waitFor({ state: 'detached' });
    await page.getByRole('table', { name: 'Projects of Payments' }).getByRole('link', { name: 'Checkout' }).waitFor();
    const res = await c.k.http.get('/ng/api/projects', { query: { accountIdentifier: c.k.admin.accountId, orgIdentifier: 'Payments' } });
    expect(res.body.data.content.map((p: any) => p.project.identifier)).toEqual(['Checkout']);

    // The project is a scope: the switcher offers it once its organization is chosen.
    await page.locator('#scope-org').selectOption('Payments');
    await expect.poll(() => page.getByLabel('Project').locator('option').allTextContents()).toContain('Project: Checkout');
    await page.locator('#scope-org').selectOption('');

    await menu(page, 'More options for project Checkout', 'Delete');
    await page.getByRole('alertdialog', { name: 'Delete project Checkout?' }).getByRole('button', { name: 'Delete project' }).click();
    await page.getByText('No projects in Payments yet').waitFor();

    await page.getByRole('link', { name: 'Organizations' }).first().click();
    await menu(page, 'More options for organization Payments', 'Edit');
    const ed = page.getByRole('dialog', { name: 'Edit organization Payments' });
    expect(await ed.getByLabel('Identifier').isDisabled()).toBe(true);
    await ed.getByLabel('Name').fill('Payments EU');
    await ed.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('link', { name: 'Payments EU' }).waitFor();
    await expect.poll(orgOptions).toContain('Org: Payments EU');

    await menu(page, 'More options for organization Payments EU', 'Delete');
    const confirm = page.getByRole('alertdialog', { name: 'Delete organization Payments EU?' });
    await confirm.getByText('everything in it').waitFor();
    await confirm.getByRole('button', { name: 'Delete organization' }).click();
    await page.getByRole('link', { name: 'Payments EU' }).waitFor({ state: 'detached' });
    await expect.poll(orgOptions).not.toContain('Org: Payments EU');
  }, 90_000);

  const signIn = (email: string, password: string) => c.k.anon.post('/v1/sessions', { email, password }, { headers: { 'x-keyward-console': '1' } }).then((r) => r.status);

  it('creates a user, resets their password, deactivates and reactivates them', async () => {
    const { page } = c;
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByRole('button', { name: '+ New User' }).click();
    const ud = page.getByRole('dialog', { name: 'New user' });
    await ud.getByLabel('Email').fill('dana@example.com');
    await ud.getByLabel('Name').fill('Dana');
    await ud.getByLabel('Password').fill('short');
    await ud.getByRole('button', { name: 'Create user' }).click();
    await ud.getByText('Use at least 8 characters.').waitFor();
    await ud.getByLabel('Password').fill('first password 1');
    await ud.getByRole('button', { name: 'Create user' }).click();
    await ud.waitFor({ state: 'detached' });
    const row = page.locator('tr[data-user="dana@example.com"]');
    await row.getByText('Active').waitFor();
    expect(await signIn('dana@example.com', 'first password 1')).toBeLessThan(300);

    // The same email again: named on the field.
    await page.getByRole('button', { name: '+ New User' }).click();
    await ud.getByLabel('Email').fill('dana@example.com');
    await ud.getByRole('button', { name: 'Create user' }).click();
    await ud.getByText('already exists').waitFor();
    await page.keyboard.press('Escape');

    await menu(page, 'More options for user dana@example.com', 'Reset password');
    const pd = page.getByRole('dialog', { name: 'Reset the password of dana@example.com' });
    await pd.getByLabel('New password', { exact: true }).fill('second password 2');
    await pd.getByLabel('New password again').fill('second password 3');
    await pd.getByRole('button', { name: 'Set password' }).click();
    await pd.getByText('The two passwords differ.').waitFor();
    await pd.getByLabel('New password again').fill('second password 2');
    await pd.getByRole('button', { name: 'Set password' }).click();
    await pd.waitFor({ state: 'detached' });
    expect(await signIn('dana@example.com', 'first password 1')).toBe(401);
    expect(await signIn('dana@example.com', 'second password 2')).toBeLessThan(300);

    await menu(page, 'More options for user dana@example.com', 'Deactivate');
    const confirm = page.getByRole('alertdialog', { name: 'Deactivate dana@example.com?' });
    await confirm.getByText('stops working at once').waitFor();
    await confirm.getByRole('button', { name: 'Deactivate user' }).click();
    await row.getByText('Deactivated').waitFor();
    expect(await signIn('dana@example.com', 'second password 2')).toBe(401);

    await menu(page, 'More options for user dana@example.com', 'Reactivate');
    await row.getByText('Active', { exact: true }).waitFor();
    expect(await signIn('dana@example.com', 'second password 2')).toBeLessThan(300);
  }, 90_000);

  it('gives a user group a member and a role, which reach the member’s token; removes both', async () => {
    const { page, k } = c;
    const dana = (await k.http.get(`/v1/accounts/${k.admin.accountId}/users`, { query: { search: 'dana' } })).body.items[0];
    // Dana's own token, from a key made with her session.
    const session = await fetch(`${k.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-keyward-console': '1' }, body: JSON.stringify({ email: 'dana@example.com', password: 'second password 2' }) });
    const cookie = session.headers.get('set-cookie')!.split(';')[0]!;
    const asDana = { cookie, 'x-keyward-console': '1' };
    expect((await k.http.post(`/ng/api/apikey?accountIdentifier=${k.admin.accountId}`, { identifier: 'mine', name: 'mine', apiKeyType: 'USER', parentIdentifier: dana.id, accountIdentifier: k.admin.accountId }, { token: null, headers: asDana })).status).toBe(200);
    const tokenRes = await k.http.post(`/ng/api/token?accountIdentifier=${k.admin.accountId}`, { identifier: 't', name: 't', apiKeyIdentifier: 'mine', apiKeyType: 'USER', parentIdentifier: dana.id, accountIdentifier: k.admin.accountId }, { token: null, headers: asDana });
    expect(tokenRes.status, tokenRes.text).toBe(200);
    const danaToken = tokenRes.body.data as string;
    const before = await verify(k, danaToken);
    expect(before.permissions ?? []).not.toContain('core_project_view');

    await page.getByRole('link', { name: 'User Groups' }).click();
    await page.getByRole('heading', { name: 'User Groups', level: 1 }).waitFor();
    await page.getByRole('button', { name: '+ New User Group' }).click();
    const gd = page.getByRole('dialog', { name: 'New user group' });
    await gd.getByLabel('Name').fill('Release managers');
    await gd.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Release managers', level: 1 }).waitFor();

    await page.getByRole('button', { name: '+ Member' }).click();
    const md = page.getByRole('dialog', { name: 'Add a member to Release managers' });
    await md.getByLabel('User').selectOption({ label: 'Dana (dana@example.com)' });
    await md.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('list', { name: 'Members' }).getByText('Dana · dana@example.com').waitFor();

    await page.getByRole('button', { name: '+ Role' }).click();
    const rd = page.getByRole('dialog', { name: 'Give Release managers a role' });
    await rd.getByLabel('Role').selectOption('_account_viewer');
    await rd.getByRole('button', { name: 'Add role' }).click();
    await page.getByRole('list', { name: 'Role assignments' }).getByText('Account Viewer').waitFor();
    await screenshot(page, 'user-group');
    await expect.poll(async () => (await verify(k, danaToken)).permissions.length).toBeGreaterThan(before.permissions.length);

    await page.getByRole('button', { name: 'Remove role Account Viewer' }).click();
    await page.getByRole('alertdialog', { name: 'Remove role Account Viewer?' }).getByRole('button', { name: 'Remove role' }).click();
    await page.getByText('No roles yet').waitFor();
    await expect.poll(async () => (await verify(k, danaToken)).permissions.length).toBe(before.permissions.length);

    await page.getByRole('button', { name: 'Remove member dana@example.com' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Remove member' }).click();
    await page.getByText('No members yet').waitFor();

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('alertdialog', { name: 'Delete user group Release managers?' }).getByRole('button', { name: 'Delete user group' }).click();
    await page.getByRole('heading', { name: 'User Groups', level: 1 }).waitFor();
    await page.getByText('No user groups in the account').waitFor();
  }, 90_000);
});
