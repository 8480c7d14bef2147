/// <reference lib="dom" />
/**
 * The Policies page in Chromium (docs/policies.md): set the account's policy and an organization's
 * override, see what is in force and where it comes from, see a token that breaks the new policy
 * listed (and still working), field errors from the page and from the server, and a token the
 * policy refuses on My API Keys. axe-core finds nothing serious.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axe, DAY, openConsole, screenshot, signInWithPassword, verify, type Console } from './browser.js';

describe('console: policies', () => {
  let c: Console;
  beforeAll(async () => {
    c = await openConsole();
  }, 60_000);
  afterAll(async () => c?.close());

  it('sets the account policy and an organization override; lists the tokens that break them', async () => {
    const { page, k } = c;
    const acct = k.admin.accountId;
    expect((await k.http.post(`/ng/api/organizations?accountIdentifier=${acct}`, { organization: { identifier: 'eng', name: 'Eng' } })).status).toBe(200);
    const body = { apiKeyType: 'USER', parentIdentifier: k.admin.userId, accountIdentifier: acct };
    expect((await k.http.post(`/ng/api/apikey?accountIdentifier=${acct}`, { ...body, identifier: 'ci', name: 'ci' })).status).toBe(200);
    const long = (await k.http.post(`/ng/api/token?accountIdentifier=${acct}`, { ...body, identifier: 'long', name: 'long', apiKeyIdentifier: 'ci', validTo: k.clock.now() + 90 * DAY })).body.data as string;

    await signInWithPassword(c);
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('heading', { name: 'Policies', level: 1 }).waitFor();
    await page.getByText('No policy is set: the defaults apply everywhere.').waitFor();
    await page.getByText('Every working token keeps to the policies.').waitFor();
    await page.getByText('In force here: 5 (from the default).').first().waitFor();
    await axe(page, 'policies, none set');

    // A value the page cannot read is refused by the page; one the server refuses, by the server, next to its field.
    const lifetime = page.getByLabel('Maximum token lifetime (days)');
    await lifetime.fill('a month');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Enter a whole number from 1, or leave it empty').waitFor();
    await lifetime.fill('99999999');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('alert').filter({ hasText: 'must be a whole number from 1 to 36500, or null' }).waitFor();
    await axe(page, 'policies, with errors');

    await lifetime.fill('30');
    await page.getByLabel('API keys per owner', { exact: true }).selectOption('unlimited');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Policy of the account saved').waitFor();
    await page.getByText('In force here: 30 days (from the account).').waitFor();
    const set = await k.http.get(`/v1/accounts/${acct}/policy`);
    expect(set.body.policy).toMatchObject({ maxTokenLifetimeDays: 30, maxApiKeysPerOwner: 'unlimited', requireExpiry: null });

    // The 90-day token is listed, and still works.
    const row = page.locator('tr[data-violation="long"]');
    await row.getByText('allows at most 30 days').waitFor();
    expect(await row.getByText('Maximum token lifetime').count()).toBe(1);
    expect((await verify(k, long)).valid).toBe(true);
    await axe(page, 'policies, with a violation');

    // The organization: its own lifetime; the key limit still comes from the account.
    await page.getByLabel('Organization').selectOption('eng');
    await page.getByRole('form', { name: 'Policy of organization eng' }).waitFor();
    await page.getByLabel('Maximum token lifetime (days)').fill('7');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Policy of organization eng saved').waitFor();
    await page.getByText('In force here: 7 days (from organization eng).').waitFor();
    await page.getByText('In force here: no limit (from the account).').waitFor();
    const scopes = page.getByRole('table', { name: 'Policies set' });
    await expect.poll(() => scopes.locator('tbody tr').count()).toBe(2);
    expect((await k.http.get(`/v1/accounts/${acct}/policy`, { query: { orgIdentifier: 'eng' } })).body.effective.maxTokenLifetimeDays).toBe(7);
    await screenshot(page, 'policies');

    // The audit log has both changes.
    const audit = await k.http.get(`/v1/accounts/${acct}/audit`, { query: { action: 'policy.update' } });
    expect(audit.body.items).toHaveLength(2);
  });

  it('on My API Keys, a token longer than the policy allows is refused in words', async () => {
    const { page } = c;
    await page.getByRole('link', { name: 'My API Keys' }).click();
    await page.getByLabel('Organization').selectOption('');
    await page.getByRole('heading', { name: 'My API Keys' }).waitFor();
    await page.getByRole('button', { name: 'Add a token to ci' }).click();
    const td = page.getByRole('dialog', { name: 'New token for ci' });
    await td.getByLabel('Name').fill('yearly');
    await td.getByLabel('Set Expiration Date').check();
    await td.getByRole('button', { name: 'In 1 year' }).click();
    await td.getByRole('button', { name: 'Generate Token' }).click();
    await td.getByText('the account policy allows at most 30 days').waitFor();
    await axe(page, 'token refused by a policy');
  });
});
