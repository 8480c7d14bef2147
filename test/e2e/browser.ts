/**
 * Browser tests: Debian's chromium (never a downloaded browser) driven by playwright-core, against
 * a Keyward started in-process on a fresh database with an injected clock.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';

export const CHROMIUM = process.env.KEYWARD_CHROMIUM ?? '/usr/bin/chromium';
export const PASSWORD = 'console e2e password 1';
export const DAY = 24 * 60 * 60 * 1000;

/**
 * Screenshots go to docs/screenshots/ (shown in the README) when KEYWARD_SCREENSHOTS=1
 * (`npm run screenshots`); otherwise to a temporary folder, so `npm test` leaves the tree clean.
 */
export const SHOTS = process.env.KEYWARD_SCREENSHOTS === '1' ? path.resolve('docs/screenshots') : path.join(tmpdir(), 'keyward-screenshots');

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: install Debian's package (apt-get install chromium); .ci/run does this in CI`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface Console {
  k: TestKeyward;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh Keyward (bootstrap admin with a password) and a laptop-sized page in UTC. */
export async function openConsole(opts: { width?: number; height?: number } = {}): Promise<Console> {
  // Long sessions: the tests move the server's clock by days.
  const k = await startKeyward('sqlite', { config: { bootstrapPassword: PASSWORD, consoleSessionMinutes: 60 * 24 * 60 } });
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 860 }, timezoneId: 'UTC', locale: 'en-US' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: k.url });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/401|Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return {
    k,
    browser,
    context,
    page,
    async close() {
      await browser.close().catch(() => undefined);
      await k.close();
      expect(errors, 'errors in the page').toEqual([]);
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

export async function signInWithPassword(c: Console): Promise<void> {
  const { page, k } = c;
  await page.goto(k.url);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email', { exact: true }).fill(k.admin.email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'My API Keys' }).waitFor();
}

/** POST /v1/verify, as any service would call it. */
export async function verify(k: TestKeyward, token: string): Promise<{ valid: boolean; reason?: string; [k: string]: any }> {
  const res = await k.anon.post('/v1/verify', { token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Reads the token from the "shown once" dialog and closes it. */
export async function readNewToken(page: Page, title: string | RegExp): Promise<string> {
  const dialog = page.getByRole('dialog', { name: title });
  await dialog.waitFor();
  await expect.poll(() => dialog.getByText('it will not be shown again').count()).toBe(1);
  const token = await dialog.getByTestId('new-token').inputValue();
  return token;
}

export async function closeTokenDialog(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'I have copied it' }).click();
  await page.getByTestId('new-token').waitFor({ state: 'detached' });
}

/** Opens the ⋮ menu named `menu` and picks `item`. */
export async function menu(page: Page, menuLabel: string, item: string): Promise<void> {
  await page.getByRole('button', { name: menuLabel }).click();
  await page.getByRole('menuitem', { name: item }).click();
}
