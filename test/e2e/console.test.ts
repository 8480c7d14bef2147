/**
 * The console as served: the page at `/` and its client-side routes, API paths never shadowed by
 * the page, the page's security headers; and the layout at phone width in Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsole, PASSWORD, screenshot, type Console } from './browser.js';

describe('console: serving and phone layout', () => {
  let c: Console;
  beforeAll(async () => {
    c = await openConsole({ width: 375, height: 812 });
  });
  afterAll(async () => c?.close());

  it('serves the page at / and on client-side routes, with a strict Content-Security-Policy', async () => {
    const page = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    for (const path of ['/', '/keys', '/service-accounts/Deploy_Bot', '/audit']) {
      const res = await c.k.anon.get(path, { headers: page });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.text).toContain('<div id="root">');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec((await c.k.anon.get('/')).text)![1]!;
    const js = await c.k.anon.get(asset);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
  });

  it('never answers an API path with the page, nor a client that does not ask for HTML', async () => {
    const page = { accept: 'text/html,*/*;q=0.8' };
    // curl and SDKs keep the JSON 404 for an unknown route; a browser gets the page and its own "not found".
    const notBrowser = await c.k.anon.get('/no-such-page');
    expect(notBrowser.status).toBe(404);
    expect(notBrowser.body.error.code).toBe('NOT_FOUND');
    expect((await c.k.anon.get('/no-such-page', { headers: page })).status).toBe(200);
    const native = await c.k.anon.get('/v1/no-such-route');
    expect(native.status).toBe(404);
    expect(native.body.error.code).toBe('NOT_FOUND');
    const ng = await c.k.anon.get('/ng/api/no-such-route');
    expect(ng.status).toBe(400);
    expect(ng.body.code).toBe('RESOURCE_NOT_FOUND_EXCEPTION');
    for (const path of ['/authz/api/nothing', '/api/v1/nothing', '/gateway/ng/api/nothing', '/metrics/x', '/readyz/x', '/assets/missing.js', '/favicon.ico']) {
      const res = await c.k.anon.get(path, { headers: page });
      expect(res.headers.get('content-type') ?? '', path).not.toContain('text/html');
    }
    expect((await c.k.anon.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await c.k.anon.get('/openapi.json')).body.paths['/v1/sessions']).toBeDefined();
  });

  it('works at phone width: no sideways scrolling, the menu opens, dialogs fit', async () => {
    const { page, k } = c;
    await page.goto(k.url);
    await page.getByLabel('Email', { exact: true }).fill(k.admin.email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'My API Keys' }).waitFor();
    await page.getByRole('listitem', { name: 'API key admin' }).getByText('1 token').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await screenshot(page, 'phone');

    // The navigation folds into a menu button.
    const nav = page.getByRole('link', { name: 'Service Accounts' });
    expect(await nav.isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav.click();
    await page.getByRole('heading', { name: 'Service Accounts' }).waitFor();
    await page.getByRole('button', { name: 'Create a service account' }).click();
    const dialog = page.getByRole('dialog', { name: 'New service account' });
    const box = await dialog.boundingBox();
    expect(box!.width).toBeLessThanOrEqual(375);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  }, 60_000);
});
