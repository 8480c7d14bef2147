/// <reference lib="dom" />
/**
 * Accessibility in Chromium: axe-core on every page and dialog, at desktop and at phone width,
 * with no critical or serious violation; and the whole personal-key flow done with the keyboard
 * alone (sign in, create a key, a token, copy it, rotate it, delete the token and the key, sign out).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { axe, axeFindings, openConsole, PASSWORD, readNewToken, signInWithPassword, verify, type Console } from './browser.js';

/** Opens each page and dialog and runs axe on it. */
async function sweep(c: Console, label: string): Promise<void> {
  const { page, k } = c;
  const at = (what: string) => `${what} (${label})`;
  await page.goto(k.url);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await axe(page, at('sign-in, password'));
  await page.getByRole('tab', { name: 'Token' }).click();
  await axe(page, at('sign-in, token'));
  // A failed sign-in shows its error.
  await page.getByRole('button', { name: 'Sign in with token' }).click();
  await page.getByText('Paste a personal access token').first().waitFor();
  await axe(page, at('sign-in with errors'));

  await signInWithPassword(c);
  await page.getByRole('listitem', { name: 'API key admin' }).getByText('1 token').waitFor();
  await axe(page, at('My API Keys'));

  await page.getByRole('button', { name: '+ API Key' }).click();
  const kd = page.getByRole('dialog', { name: 'New API key' });
  await kd.getByLabel('Name').fill(`a11y ${label}`);
  await axe(page, at('new API key dialog'));
  await kd.getByRole('button', { name: 'Save' }).click();
  await kd.waitFor({ state: 'detached' });
  const keyName = `a11y ${label}`;
  await page.getByRole('button', { name: `Add a token to ${keyName}` }).click();
  const td = page.getByRole('dialog', { name: `New token for ${keyName}` });
  await td.getByLabel('Name').fill('reader');
  await td.getByLabel('Set Expiration Date').check();
  await axe(page, at('new token dialog'));
  await td.getByRole('button', { name: 'Generate Token' }).click();
  await td.getByText('Pick an expiration date').waitFor();
  await axe(page, at('new token dialog with an error'));
  await td.getByRole('button', { name: 'In 1 year' }).click();
  await td.getByRole('button', { name: 'Generate Token' }).click();
  await readNewToken(page, 'Token created');
  await axe(page, at('token shown once'));
  await page.keyboard.press('Escape');
  await page.getByText('You have not copied this token').waitFor();
  await axe(page, at('token shown once, closing uncopied'));
  await page.getByRole('button', { name: 'Close without copying' }).click();
  await page.locator(`tr[data-token="reader"]`).first().waitFor();
  await axe(page, at('My API Keys with tokens'));

  const tokenMenu = page.getByRole('button', { name: 'More options for token reader', exact: true }).first();
  await tokenMenu.click();
  await axe(page, at('token menu open'));
  await page.getByRole('menuitem', { name: 'Rotate Token' }).click();
  await page.getByRole('dialog', { name: 'Rotate token reader' }).getByLabel('The old token').selectOption('at');
  await axe(page, at('rotate dialog'));
  await page.keyboard.press('Escape');
  await tokenMenu.click();
  await page.getByRole('menuitem', { name: 'Edit' }).click();
  await page.getByRole('dialog', { name: 'Edit token reader' }).waitFor();
  await axe(page, at('edit token dialog'));
  await page.keyboard.press('Escape');
  await tokenMenu.click();
  await page.getByRole('menuitem', { name: 'Delete' }).click();
  await page.getByRole('alertdialog').waitFor();
  await axe(page, at('delete token confirmation'));
  await page.keyboard.press('Escape');

  await page.getByLabel('Search API keys, or paste a token to find it').fill('no such key');
  await page.getByText('No API key matches').waitFor();
  await axe(page, at('My API Keys, nothing found'));
  await page.getByLabel('Search API keys, or paste a token to find it').fill('');

  await page.goto(`${k.url}/service-accounts`);
  await page.getByRole('heading', { name: 'Service Accounts' }).waitFor();
  await page.getByText('No service accounts in').waitFor();
  await axe(page, at('service accounts, empty'));
  await page.getByRole('button', { name: '+ New Service Account' }).click();
  const sd = page.getByRole('dialog', { name: 'New service account' });
  await sd.getByLabel('Name').fill(`Bot ${label}`);
  await axe(page, at('new service account dialog'));
  await sd.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: `Bot ${label}`, level: 1 }).waitFor();
  await axe(page, at('service account'));
  await page.goto(`${k.url}/service-accounts`);
  await page.getByRole('link', { name: `Bot ${label}` }).waitFor();
  await axe(page, at('service accounts'));

  await page.goto(`${k.url}/audit`);
  await page.getByRole('table', { name: 'Audit events' }).waitFor();
  await axe(page, at('audit log'));
  await page.getByRole('button', { name: /^Details of / }).first().click();
  await page.locator('.audit-detail').waitFor();
  await axe(page, at('audit log with an event open'));

  await page.goto(`${k.url}/organizations`);
  await page.getByRole('table', { name: 'Organizations' }).waitFor();
  await axe(page, at('organizations'));
  await page.getByRole('button', { name: '+ New Organization' }).click();
  await page.getByRole('dialog', { name: 'New organization' }).getByLabel('Name').fill(`Org ${label}`);
  await axe(page, at('new organization dialog'));
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('link', { name: `Org ${label}` }).click();
  await page.getByText(`No projects in Org ${label} yet`).waitFor();
  await axe(page, at('organization'));
  await page.getByRole('button', { name: '+ New Project' }).click();
  await page.getByRole('dialog', { name: 'New project' }).getByLabel('Name').fill('Proj');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('table', { name: `Projects of Org ${label}` }).waitFor();
  await axe(page, at('organization with a project'));
  await page.goto(`${k.url}/users`);
  await page.getByRole('table', { name: 'Users' }).waitFor();
  await axe(page, at('users'));
  await page.getByRole('button', { name: '+ New User' }).click();
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByText('Enter an email address').waitFor();
  await axe(page, at('new user dialog with an error'));
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: `More options for user ${k.admin.email}` }).click();
  await page.getByRole('menuitem', { name: 'Reset password' }).click();
  await axe(page, at('reset password dialog'));
  await page.keyboard.press('Escape');

  await page.goto(`${k.url}/user-groups`);
  await page.getByText('No user groups in').waitFor();
  await axe(page, at('user groups, empty'));
  await page.getByRole('button', { name: '+ New User Group' }).click();
  await page.getByRole('dialog', { name: 'New user group' }).getByLabel('Name').fill('Group');
  await axe(page, at('new user group dialog'));
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'Group', level: 1 }).waitFor();
  await page.getByText('No members yet').waitFor();
  await axe(page, at('user group'));
  await page.getByRole('button', { name: '+ Member' }).click();
  await axe(page, at('add member dialog'));
  await page.getByRole('button', { name: 'Add member' }).click();
  await page.getByRole('list', { name: 'Members' }).waitFor();
  await page.getByRole('button', { name: '+ Role' }).click();
  await axe(page, at('user group role dialog'));
  await page.getByRole('button', { name: 'Add role' }).click();
  await page.getByRole('list', { name: 'Role assignments' }).waitFor();
  await axe(page, at('user group with a member and a role'));
  await page.goto(`${k.url}/user-groups`);
  await page.getByRole('table', { name: 'User groups' }).waitFor();
  await axe(page, at('user groups'));

  await page.goto(`${k.url}/policies`);
  await page.getByRole('heading', { name: 'Policies', level: 1 }).waitFor();
  await page.getByText('Every working token keeps to the policies.').waitFor();
  await axe(page, at('policies'));
  await page.getByLabel('API keys per owner', { exact: true }).selectOption('limit');
  await page.getByLabel('Maximum token lifetime (days)').fill('a month');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await page.getByText('Enter a whole number from 1, or leave it empty').waitFor();
  await axe(page, at('policies with errors'));

  await page.goto(`${k.url}/nothing-here`);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await axe(page, at('not found'));
}

describe('console: accessibility', () => {
  let desktop: Console;
  let phone: Console;
  beforeAll(async () => {
    desktop = await openConsole();
    phone = await openConsole({ width: 390, height: 844 });
  }, 60_000);
  afterAll(async () => {
    await desktop?.close();
    await phone?.close();
    // What axe found below serious, for whoever reads the log.
    const minor = axeFindings.filter((f) => f.impact !== 'serious' && f.impact !== 'critical');
    if (minor.length > 0) console.log('axe-core, minor and moderate:', JSON.stringify(minor));
  });

  it('axe-core finds no critical or serious violation on any page or dialog at 1280 px', async () => {
    await sweep(desktop, 'desktop');
  }, 120_000);

  it('axe-core finds no critical or serious violation on any page or dialog at 390 px', async () => {
    await sweep(phone, 'phone');
  }, 120_000);

  it('walks the whole personal-key flow with the keyboard alone', async () => {
    const c = desktop;
    const { page, k } = c;
    await page.goto(`${k.url}/keys`);
    await page.getByRole('heading', { name: 'My API Keys' }).waitFor();
    await tabTo(page, 'Sign out');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    // Sign in: the email field has the focus.
    await page.keyboard.type(k.admin.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'My API Keys' }).waitFor();

    // A key: the dialog opens on its Name field; Enter saves.
    await tabTo(page, '+ API Key');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'New API key' }).waitFor();
    await page.keyboard.type('keyboard only');
    await page.keyboard.press('Enter');
    await page.getByRole('listitem', { name: 'API key keyboard only' }).waitFor();
    expect(await focused(page)).toBe('+ API Key');

    // A token, copied with the keyboard.
    await tabTo(page, 'Add a token to keyboard only');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'New token for keyboard only' }).waitFor();
    await page.keyboard.type('kb');
    await page.keyboard.press('Enter');
    const token = await readNewToken(page, 'Token created');
    await tabTo(page, 'Copy token');
    await page.keyboard.press('Enter');
    await page.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(token);
    await tabTo(page, 'I have copied it');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Token created' }).waitFor({ state: 'detached' });
    expect((await verify(k, token)).valid).toBe(true);

    // Rotate from the ⋮ menu: ↓ to the item, Enter; the dialog's own button by Tab.
    await tabTo(page, 'More options for token kb');
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowDown');
    expect(await focused(page)).toBe('Rotate Token');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Rotate token kb' }).waitFor();
    await tabTo(page, 'Rotate Token');
    await page.keyboard.press('Enter');
    const rotated = await readNewToken(page, 'Token rotated');
    await tabTo(page, 'Copy token');
    await page.keyboard.press('Enter');
    await page.getByText('Copied to the clipboard.').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Token rotated' }).waitFor({ state: 'detached' });
    expect(await focused(page)).toMatch(/^More options for token kb/);
    expect((await verify(k, rotated)).valid).toBe(true);

    // Delete the new token: Cancel has the focus, so the red button takes a deliberate Shift+Tab.
    await tabTo(page, 'More options for token kb');
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
    expect(await focused(page)).toBe('Delete');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog', { name: 'Delete token kb?' }).waitFor();
    expect(await focused(page)).toBe('Cancel');
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toBe('Delete token');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    await expect.poll(() => verify(k, rotated).then((v) => v.valid)).toBe(false);
    expect(await focused(page)).toBe('More options for API key keyboard only');

    // Delete the key, the same way.
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog', { name: 'Delete API key keyboard only?' }).waitFor();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('listitem', { name: 'API key keyboard only' }).waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('+ API Key');

    await tabTo(page, 'Sign out');
    await page.keyboard.press('Enter');
    await page.getByText('You are signed out.').waitFor();
  }, 120_000);
});

/** The focused element's accessible name, roughly: its aria-label, else its text. */
async function focused(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el?.getAttribute('aria-label') ?? el?.textContent?.trim() ?? null;
  });
}

/** Presses Tab until the element named `name` has the focus; fails if 80 presses do not reach it. */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let i = 0; i < 80; i++) {
    const now = await focused(page);
    if (now === name) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${name}`);
}
