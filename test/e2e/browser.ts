/**
 * Browser tests: Debian's chromium (never a downloaded browser) driven by playwright-core, against
 * a Keyward started in-process on a fresh database with an injected clock.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Config } from '../../src/server/config.js';
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
export async function openConsole(opts: { width?: number; height?: number; config?: Partial<Config> } = {}): Promise<Console> {
  // Long sessions: the tests move the server's clock by days.
  const k = await startKeyward('sqlite', { config: { bootstrapPassword: PASSWORD, consoleSessionMinutes: 60 * 24 * 60, ...opts.config } });
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

/** Copies the new token (closing before that asks first) and closes its dialog. */
export async function closeTokenDialog(page: Page): Promise<void> {
  const copy = page.getByRole('button', { name: 'Copy token' });
  if ((await copy.count()) > 0) await copy.click();
  await page.getByText('Copied to the clipboard.').waitFor();
  await page.getByRole('button', { name: 'I have copied it' }).click();
  await page.getByTestId('new-token').waitFor({ state: 'detached' });
}

/** Opens the ⋮ menu named `menu` and picks `item`. */
export async function menu(page: Page, menuLabel: string, item: string): Promise<void> {
  await page.getByRole('button', { name: menuLabel, exact: true }).click();
  await page.getByRole('menuitem', { name: item }).click();
}

// ---- accessibility: axe-core, injected as source (its Playwright wrapper needs a newer Node) ----------

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

/** Every violation axe found, by page or dialog, for the report at the end of a run. */
export const axeFindings: Array<{ where: string; id: string; impact: string | null; nodes: number }> = [];

/**
 * Runs axe-core on the page as it is now (with any open dialog) and fails on a critical or serious
 * violation, naming the rule and the first elements. Minor and moderate ones are kept in `axeFindings`.
 */
export async function axe(page: Page, where: string): Promise<AxeViolation[]> {
  // Let transitions and delayed spinners settle first.
  await page.waitForTimeout(250);
  if ((await page.evaluate('typeof window.axe')) !== 'object') await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as { violations: AxeViolation[] };
  for (const v of result.violations) axeFindings.push({ where, id: v.id, impact: v.impact, nodes: v.nodes.length });
  const bad = result.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious');
  expect(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} (${(n.failureSummary ?? '').split('\n').slice(1, 2).join('').trim()})`).join('; ')}`),
    `axe-core at ${where}`,
  ).toEqual([]);
  return result.violations;
}
