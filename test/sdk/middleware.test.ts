/**
 * The SDK's middleware in real apps of each framework (Fastify 5, Express 5, Hono 4 on
 * @hono/node-server), over real HTTP, in front of a real Keyward: the token from X-Api-Key or
 * Authorization: Bearer, 401/403 JSON, the principal handed to the route.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import express from 'express';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { createKeywardClient, type KeywardClient } from '../../packages/sdk/src/index.js';
import { keywardFastify } from '../../packages/sdk/src/fastify.js';
import { keywardExpress } from '../../packages/sdk/src/express.js';
import { keywardHono, type KeywardEnv } from '../../packages/sdk/src/hono.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { serviceAccountToken, tokenQuery, within } from './fixture.js';

let k: TestKeyward;
let client: KeywardClient;
let acc: string;
let viewer: { token: string; id: string; sa: string };
let plain: { token: string; id: string; sa: string };

beforeAll(async () => {
  k = await startKeyward('sqlite', { clock: new ManualClock(Date.now()) });
  acc = k.admin.accountId;
  client = createKeywardClient({ baseUrl: k.url, token: k.admin.token });
  expect(await client.connect()).toBe(true);
  viewer = await serviceAccountToken(k.http, acc, { role: '_account_viewer' });
  plain = await serviceAccountToken(k.http, acc);
});
afterAll(async () => {
  client?.close();
  await k?.close();
});

interface App {
  url: string;
  close(): Promise<void>;
}

async function fastifyApp(): Promise<App> {
  const app: FastifyInstance = Fastify();
  app.get('/open', async () => ({ open: true }));
  await app.register(async (scoped) => {
    await scoped.register(keywardFastify, { client });
    scoped.get('/me', async (req) => ({ principal: req.keyward!.principal, accountId: req.keyward!.accountId }));
  });
  await app.register(async (scoped) => {
    await scoped.register(keywardFastify, { client, permission: 'core_serviceaccount_view' });
    scoped.get('/admin', async (req) => ({ principal: req.keyward!.principal }));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

async function listening(server: Server): Promise<string> {
  await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function expressApp(): Promise<App> {
  const app = express();
  app.get('/open', (_req, res) => void res.json({ open: true }));
  app.get('/me', keywardExpress({ client }), (req, res) => void res.json({ principal: req.keyward!.principal, accountId: req.keyward!.accountId }));
  app.get('/admin', keywardExpress({ client, permission: 'core_serviceaccount_view' }), (req, res) => void res.json({ principal: req.keyward!.principal }));
  const server = app.listen(0, '127.0.0.1');
  const url = await listening(server);
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}

async function honoApp(): Promise<App> {
  const app = new Hono<KeywardEnv>();
  app.get('/open', (c) => c.json({ open: true }));
  app.get('/me', keywardHono({ client }), (c) => c.json({ principal: c.get('keyward').principal, accountId: c.get('keyward').accountId }));
  app.get('/admin', keywardHono({ client, permission: 'core_serviceaccount_view' }), (c) => c.json({ principal: c.get('keyward').principal }));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  const url = await listening(server);
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}

const frameworks: Array<[string, () => Promise<App>]> = [
  ['fastify', fastifyApp],
  ['express', expressApp],
  ['hono', honoApp],
];

describe.each(frameworks)('%s middleware', (_name, make) => {
  let app: App;
  beforeAll(async () => {
    app = await make();
  });
  afterAll(async () => app?.close());

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${app.url}${path}`, { headers });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  };

  it('leaves unprotected routes alone', async () => {
    expect(await get('/open')).toMatchObject({ status: 200, body: { open: true } });
  });

  it('puts the principal on the request for a valid token in X-Api-Key or Authorization: Bearer', async () => {
    for (const headers of [{ 'x-api-key': plain.token }, { authorization: `Bearer ${plain.token}` }] as Array<Record<string, string>>) {
      const res = await get('/me', headers);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ principal: expect.objectContaining({ type: 'SERVICE_ACCOUNT', identifier: plain.sa }), accountId: acc });
    }
  });

  it('answers 401 with {error, reason} without a token or with a bad one', async () => {
    const none = await get('/me');
    expect(none).toMatchObject({ status: 401, body: { error: 'unauthorized', reason: 'no_token' } });
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(await get('/me', { 'x-api-key': 'not a token' })).toMatchObject({ status: 401, body: { error: 'unauthorized', reason: 'malformed' } });
    const wrong = plain.token.slice(0, -4) + 'zzzz';
    expect(await get('/me', { authorization: `Bearer ${wrong}` })).toMatchObject({ status: 401, body: { error: 'unauthorized', reason: 'wrong_secret' } });
  });

  it('answers 403 when the required permission is missing, 200 when held', async () => {
    expect(await get('/admin', { 'x-api-key': plain.token })).toMatchObject({ status: 403, body: { error: 'forbidden', reason: 'permission_denied' } });
    expect(await get('/admin', { 'x-api-key': viewer.token })).toMatchObject({ status: 200, body: { principal: { identifier: viewer.sa } } });
  });
});

describe('middleware and revocation', () => {
  it('a token revoked in Keyward is refused by every framework within a second', async () => {
    const bot = await serviceAccountToken(k.http, acc);
    const apps = await Promise.all(frameworks.map(([, make]) => make()));
    try {
      for (const a of apps) expect((await fetch(`${a.url}/me`, { headers: { 'x-api-key': bot.token } })).status).toBe(200);
      expect((await k.http.delete('/ng/api/token/t', { query: tokenQuery(acc, bot.sa) })).status).toBe(200);
      await within(1000, async () => {
        const statuses = await Promise.all(apps.map(async (a) => (await fetch(`${a.url}/me`, { headers: { 'x-api-key': bot.token } })).status));
        return statuses.every((s) => s === 401);
      }, 'refused everywhere');
    } finally {
      await Promise.all(apps.map((a) => a.close()));
    }
  });

  it('answers 503 when Keyward cannot be reached', async () => {
    const unreachable = createKeywardClient({ baseUrl: 'http://127.0.0.1:9', cache: false });
    const app = Fastify();
    await app.register(keywardFastify, { client: unreachable });
    app.get('/x', async () => ({ ok: true }));
    const res = await app.inject({ method: 'GET', url: '/x', headers: { 'x-api-key': plain.token } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: 'unavailable', reason: 'keyward_unreachable' });
    await app.close();
  });
});
