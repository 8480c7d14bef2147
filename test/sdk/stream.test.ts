/**
 * The invalidation stream (GET /v1/accounts/{id}/invalidations, src/services/invalidationStream.ts)
 * and the SDK that follows it (packages/sdk), against a real Keyward over real HTTP, on SQLite and
 * PostgreSQL (one node; test/sdk/two-nodes.test.ts runs two processes on one PostgreSQL).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { makeScope } from '../../src/domain/scope.js';
import { SYSTEM_CALLER } from '../../src/services/context.js';
import { createKeywardClient, type KeywardClient } from '../../packages/sdk/src/index.js';
import { describeEachDb } from '../helpers/databases.js';
import { HttpClient, startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { expectNativeError, userWithToken } from '../helpers/nativeApi.js';
import { data, openStream, serviceAccountToken, tokenQuery, within, type RawStream } from './fixture.js';

describeEachDb('invalidation stream', (kind) => {
  let k: TestKeyward;
  let acc: string;
  const open: RawStream[] = [];
  const clients: KeywardClient[] = [];
  const stream = async (token: string | null, account: string, lastEventId?: string) => {
    const s = await openStream(k.url, token, account, lastEventId);
    open.push(s);
    return s;
  };
  const sdk = (opts: Partial<Parameters<typeof createKeywardClient>[0]> = {}) => {
    const c = createKeywardClient({ baseUrl: k.url, token: k.admin.token, ...opts });
    clients.push(c);
    return c;
  };
  const gauge = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec((await k.anon.get('/metrics')).text)?.[1] ?? NaN);

  beforeAll(async () => {
    // The SDK compares expiry with its own clock: the server's clock starts at the real time.
    k = await startKeyward(kind, {
      clock: new ManualClock(Date.now()),
      config: { streamHeartbeatMs: 300, streamBufferEvents: 16, streamMaxPendingBytes: 64 * 1024 },
    });
    acc = k.admin.accountId;
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of open) s.close();
    await k?.close();
  });

  describe('who may subscribe', () => {
    it('refuses no token (401), a token without core_account_view (403) and another account (403), in the native error shape', async () => {
      expectNativeError(await k.anon.get(`/v1/accounts/${acc}/invalidations`), 401, { code: 'UNAUTHENTICATED' });
      const plain = await userWithToken(k, acc, 'plain@stream.example');
      expectNativeError(await k.http.withToken(plain.token).get(`/v1/accounts/${acc}/invalidations`), 403);
      const viewer = await userWithToken(k, acc, 'viewer@stream.example', { role: '_account_viewer' });
      const ok = await stream(viewer.token, acc);
      expect(ok.status).toBe(200);
      await ok.next((e) => e.event === 'ready');
      const other = await k.http.post('/v1/accounts', { name: 'Other', admin: { email: 'root@other.example' } });
      expect(other.status, other.text).toBe(201);
      expectNativeError(await k.http.withToken(other.body.token).get(`/v1/accounts/${acc}/invalidations`), 403);
    });

    it('answers text/event-stream, starts with ready (id <node>-<seq>) and sends heartbeats', async () => {
      const s = await stream(k.admin.token, acc);
      expect(s.status).toBe(200);
      const ready = await s.next((e) => e.event === 'ready');
      expect(ready.id).toMatch(/^[0-9a-f]{12}-\d+$/);
      expect(data(ready)).toMatchObject({ accountId: acc, heartbeatMs: 300 });
      await within(2000, () => s.text().includes(': heartbeat\n\n'), 'heartbeat');
    });

    it('ends the stream of a subscriber whose own token is deleted', async () => {
      const bot = await serviceAccountToken(k.http, acc, { role: '_account_viewer' });
      const s = await stream(bot.token, acc);
      await s.next((e) => e.event === 'ready');
      expect((await k.http.delete('/ng/api/token/t', { query: tokenQuery(acc, bot.sa) })).status).toBe(200);
      await within(2000, () => s.closed(), 'stream closed');
    });
  });

  describe('events', () => {
    it('carries every kind of invalidation, each naming its account', async () => {
      const s = await stream(k.admin.token, acc);
      await s.next((e) => e.event === 'ready');
      const inv = (pred: (d: Record<string, any>) => boolean) => s.next((e) => e.event === 'invalidate' && pred(data(e)));

      // token deleted
      const a = await serviceAccountToken(k.http, acc);
      expect((await k.http.delete('/ng/api/token/t', { query: tokenQuery(acc, a.sa) })).status).toBe(200);
      expect(data(await inv((d) => d.kind === 'token' && d.tokenIds.includes(a.id)))).toMatchObject({ accountId: acc });
      // token rotated out
      const b = await serviceAccountToken(k.http, acc);
      expect((await k.http.post('/ng/api/token/rotate/t', undefined, { query: tokenQuery(acc, b.sa) })).status).toBe(200);
      await inv((d) => d.kind === 'token' && d.tokenIds.includes(b.id) && d.accountId === acc);
      const c = await serviceAccountToken(k.http, acc);
      const keyOf = (await k.http.post('/v1/verify', { token: c.token })).body.apiKeyId as string;
      // key deleted
      expect((await k.http.delete('/ng/api/apikey/k', { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: c.sa } })).status).toBe(200);
      await inv((d) => d.kind === 'apiKey' && d.apiKeyIds.includes(keyOf) && d.accountId === acc);
      // principal deactivated
      const d1 = await serviceAccountToken(k.http, acc);
      const principal = (await k.http.post('/v1/verify', { token: d1.token })).body.principal.id as string;
      expect((await k.http.patch(`/v1/accounts/${acc}/service-accounts/${d1.sa}`, { active: false })).status).toBe(200);
      await inv((d) => d.kind === 'principal' && d.principalId === principal && d.accountId === acc);
      // principal deleted
      const gone = await serviceAccountToken(k.http, acc);
      const goneId = (await k.http.post('/v1/verify', { token: gone.token })).body.principal.id as string;
      await k.keyward.services.serviceAccounts.delete(SYSTEM_CALLER, makeScope(acc), gone.sa);
      await inv((d) => d.kind === 'principal' && d.principalId === goneId && d.accountId === acc);
      // user deactivated
      const u = await userWithToken(k, acc, 'gone@stream.example');
      expect((await k.http.patch(`/v1/accounts/${acc}/users/${u.id}`, { active: false })).status).toBe(200);
      await inv((d) => d.kind === 'principal' && d.principalId === u.id);
      // role assignment (permissions)
      await serviceAccountToken(k.http, acc, { role: '_account_viewer' });
      await inv((d) => d.kind === 'permissions' && d.accountId === acc);
      // a user group's members changed
      const before = s.events.length;
      await k.keyward.services.userGroups.create(SYSTEM_CALLER, { scope: makeScope(acc) }, { identifier: 'g1', name: 'g1' });
      await k.keyward.services.userGroups.update(SYSTEM_CALLER, { scope: makeScope(acc), identifier: 'g1' }, { name: 'g1', users: [u.id] });
      await s.next((e) => e.event === 'invalidate' && data(e).kind === 'permissions' && data(e).accountId === acc, 2000, before);
      // an organization deleted: everything
      await k.keyward.services.scopes.createOrganization(SYSTEM_CALLER, acc, { identifier: 'o1', name: 'o1' });
      await k.keyward.services.scopes.deleteOrganization(SYSTEM_CALLER, acc, 'o1');
      await inv((d) => d.kind === 'all');
      // Ids increase by one per event this node heard.
      const ids = s.events.map((e) => Number(e.id!.split('-')[1]));
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
    });

    it('isolates accounts: a subscriber hears its own account and flush-alls, nothing of another account', async () => {
      const other = await k.http.post('/v1/accounts', { name: 'Iso', admin: { email: 'root@iso.example' } });
      expect(other.status).toBe(201);
      const acc2 = other.body.account.id as string;
      const http2 = new HttpClient(k.url, other.body.token);
      const s1 = await stream(k.admin.token, acc);
      const s2 = await stream(other.body.token, acc2);
      await s1.next((e) => e.event === 'ready');
      await s2.next((e) => e.event === 'ready');
      const mine = await serviceAccountToken(k.http, acc);
      expect((await k.http.delete('/ng/api/token/t', { query: tokenQuery(acc, mine.sa) })).status).toBe(200);
      const theirs = await serviceAccountToken(http2, acc2);
      expect((await http2.delete('/ng/api/token/t', { query: tokenQuery(acc2, theirs.sa) })).status).toBe(200);
      // An invalidation whose account nobody named goes to everyone as a flush that names nothing.
      k.keyward.services.ctx.bus.publish({ kind: 'token', tokenIds: ['0123456789abcdef01234567'] });
      await s2.next((e) => e.event === 'invalidate' && data(e).kind === 'token' && data(e).tokenIds.includes(theirs.id));
      await s1.next((e) => e.event === 'invalidate' && data(e).kind === 'token' && data(e).tokenIds.includes(mine.id));
      await s1.next((e) => e.event === 'invalidate' && data(e).kind === 'all');
      await s2.next((e) => e.event === 'invalidate' && data(e).kind === 'all');
      expect(s2.text()).not.toContain(acc);
      expect(s2.text()).not.toContain(mine.id);
      expect(s2.text()).not.toContain('0123456789abcdef01234567');
      expect(s1.text()).not.toContain(theirs.id);
    });

    it('replays what a subscriber missed after its Last-Event-ID, and resets on an unknown or too old id', async () => {
      const s = await stream(k.admin.token, acc);
      const last = (await s.next((e) => e.event === 'ready')).id!;
      s.close();
      const a = await serviceAccountToken(k.http, acc);
      expect((await k.http.delete('/ng/api/token/t', { query: tokenQuery(acc, a.sa) })).status).toBe(200);
      const again = await stream(k.admin.token, acc, last);
      await again.next((e) => e.event === 'ready');
      const first = again.events[0]!;
      expect(first.event).toBe('invalidate');
      expect(again.events.some((e) => e.event === 'invalidate' && data(e).kind === 'token' && data(e).tokenIds.includes(a.id))).toBe(true);
      expect(again.events.some((e) => e.event === 'reset')).toBe(false);

      const node = last.split('-')[0]!;
      for (const unknown of ['nope-1', `${node}-999999999`, 'garbage']) {
        const r = await stream(k.admin.token, acc, unknown);
        await r.next((e) => e.event === 'ready');
        expect(r.events[0]!.event, unknown).toBe('reset');
      }
      // Too old: more events than the buffer holds (16 here) since.
      for (let i = 0; i < 20; i++) k.keyward.services.ctx.bus.publish({ kind: 'permissions', accountId: acc });
      const old = await stream(k.admin.token, acc, last);
      await old.next((e) => e.event === 'ready');
      expect(old.events[0]!.event).toBe('reset');
      expect(old.events.filter((e) => e.event === 'invalidate')).toHaveLength(0);
    });
  });

  describe('resources', () => {
    it('counts connections in /metrics', async () => {
      const before = await gauge('keyward_invalidation_stream_connections');
      expect(before).toBe(k.keyward.services.invalidationStream.connections);
      const s = await stream(k.admin.token, acc);
      await s.next((e) => e.event === 'ready');
      expect(await gauge('keyward_invalidation_stream_connections')).toBe(before + 1);
      s.close();
      await within(2000, async () => (await gauge('keyward_invalidation_stream_connections')) === before, 'connection count back');
    });

    it('drops a subscriber that does not read (bounded buffer), and keeps serving the others', async () => {
      // Only the slow subscriber is open while the flood runs (readers in this process would lag too).
      for (const s of open.splice(0)) s.close();
      await within(2000, () => k.keyward.services.invalidationStream.connections === 0, 'streams closed');
      const { port } = new URL(k.url);
      const sock = net.connect(Number(port), '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      sock.pause();
      sock.write(`GET /v1/accounts/${acc}/invalidations HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${k.admin.token}\r\n\r\n`);
      const svc = k.keyward.services.invalidationStream;
      const n = svc.connections;
      await within(2000, () => svc.connections > n, 'raw subscriber connected');
      const dropped = svc.slowDropped;
      // About 54 kB per event: the socket buffers fill, then the node's own buffer for it passes the bound.
      const ids = Array.from({ length: 2000 }, (_, i) => i.toString(16).padStart(24, '0'));
      await within(20_000, async () => {
        for (let i = 0; i < 20; i++) k.keyward.services.ctx.bus.publish({ kind: 'token', tokenIds: ids, accountId: acc });
        await new Promise((r) => setTimeout(r, 5));
        return svc.slowDropped > dropped;
      }, 'slow subscriber dropped');
      expect(svc.connections).toBe(n);
      expect(await gauge('keyward_invalidation_stream_slow_dropped')).toBeGreaterThan(dropped);
      sock.destroy();
      // Others are still served.
      const reader = await stream(k.admin.token, acc);
      await reader.next((e) => e.event === 'ready');
      k.keyward.services.ctx.bus.publish({ kind: 'principal', principalId: 'still-here', accountId: acc });
      await reader.next((e) => e.event === 'invalidate' && data(e).principalId === 'still-here');
    });
  });

  describe('the SDK', () => {
    it('answers from its cache while in step, and refuses a revoked token within a second because of the pushed eviction', async () => {
      const c = sdk();
      expect(await c.connect()).toBe(true);
      const bot = await serviceAccountToken(k.http, acc);
      const first = await c.verify(bot.token);
      expect(first).toMatchObject({ valid: true, cached: false, tokenId: bot.id, accountId: acc, principal: { type: 'SERVICE_ACCOUNT', identifier: bot.sa } });
      const second = await c.verify(bot.token);
      expect(second).toMatchObject({ valid: true, cached: true });
      const m0 = c.metrics();
      expect(m0).toMatchObject({ hits: 1, misses: 1, streamConnected: true });

      const t0 = performance.now();
      expect((await k.http.delete('/ng/api/token/t', { query: tokenQuery(acc, bot.sa) })).status).toBe(200);
      await within(1000, () => c.metrics().evictions > m0.evictions, 'eviction pushed to the SDK');
      const after = await c.verify(bot.token);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(after).toMatchObject({ valid: false, reason: 'deleted' });
      // The refusal came from Keyward (a miss), after the event evicted the entry.
      expect(c.metrics()).toMatchObject({ hits: 1, misses: 2 });
    });

    it('does not trust its cache while the stream is down, and says so in its metrics', async () => {
      const c = sdk({ stream: { backoff: { initialMs: 50, maxMs: 100 } } });
      expect(await c.connect()).toBe(true);
      const bot = await serviceAccountToken(k.http, acc);
      await c.verify(bot.token);
      expect((await c.verify(bot.token)).cached).toBe(true);
      // The node stops accepting subscribers (as when its PostgreSQL listener drops).
      k.keyward.services.invalidationStream.suspend();
      try {
        await within(2000, () => !c.metrics().streamConnected, 'stream down');
        const misses = c.metrics().misses;
        const hits = c.metrics().hits;
        const v = await c.verify(bot.token);
        expect(v).toMatchObject({ valid: true, cached: false });
        expect(c.metrics()).toMatchObject({ misses: misses + 1, hits, streamConnected: false });
        // A revocation it cannot hear about is still refused: every verify asks Keyward.
        expect((await k.http.delete('/ng/api/token/t', { query: tokenQuery(acc, bot.sa) })).status).toBe(200);
        expect(await c.verify(bot.token)).toMatchObject({ valid: false, reason: 'deleted' });
      } finally {
        k.keyward.services.invalidationStream.resume();
      }
      // Back in step; the node could not replay across the gap, so the SDK got a reset (cache flushed).
      expect(await c.connect()).toBe(true);
      expect(c.metrics().reconnects).toBeGreaterThan(0);
    });

    it('reconnects with Last-Event-ID: missed events are replayed (the rest of the cache stays), an unknown id resets', async () => {
      const c = sdk({ stream: { backoff: { initialMs: 1500, maxMs: 1500 } } });
      expect(await c.connect()).toBe(true);
      const keep = await serviceAccountToken(k.http, acc);
      const gone = await serviceAccountToken(k.http, acc);
      await c.verify(keep.token);
      await c.verify(gone.token);
      expect((await c.verify(gone.token)).cached).toBe(true);
      const lastId = c.metrics().lastEventId;
      expect(lastId).toMatch(/-\d+$/);
      // Every stream ends (the buffer stays); the SDK waits its backoff before reconnecting.
      k.keyward.services.invalidationStream.closeAll();
      await within(1000, () => !c.metrics().streamConnected, 'stream down');
      expect((await k.http.delete('/ng/api/token/t', { query: tokenQuery(acc, gone.sa) })).status).toBe(200);
      const evictions = c.metrics().evictions;
      expect(await c.connect(5000)).toBe(true);
      // The missed delete was replayed: its entry is gone, the other token is still cached.
      expect(c.metrics().evictions).toBe(evictions + 1);
      expect(await c.verify(gone.token)).toMatchObject({ valid: false, reason: 'deleted' });
      expect(await c.verify(keep.token)).toMatchObject({ valid: true, cached: true });
    });

    it('checks a required permission and scope, and caches the decision per requirement', async () => {
      const c = sdk();
      expect(await c.connect()).toBe(true);
      const viewer = await serviceAccountToken(k.http, acc, { role: '_account_viewer' });
      expect(await c.verify(viewer.token, { permission: 'core_serviceaccount_view' })).toMatchObject({ valid: true, cached: false });
      expect(await c.verify(viewer.token, { permission: 'core_serviceaccount_view' })).toMatchObject({ valid: true, cached: true });
      expect(await c.verify(viewer.token, { permission: 'core_serviceaccount_edit' })).toMatchObject({ valid: false, reason: 'permission_denied', cached: false });
      expect(await c.verify(viewer.token, { permission: 'core_serviceaccount_edit' })).toMatchObject({ valid: false, reason: 'permission_denied', cached: true });
      expect(await c.verify(viewer.token, { scope: { accountId: 'someone_else' } })).toMatchObject({ valid: false, reason: 'out_of_scope' });
      // The role goes: the permissions event evicts, and the next check asks again.
      expect((await k.http.delete(`/authz/api/roleassignments/${viewer.sa}_role`, { query: { accountIdentifier: acc } })).status).toBe(200);
      await within(1000, async () => (await c.verify(viewer.token, { permission: 'core_serviceaccount_view' })).valid === false, 'permission gone');
    });

    it.runIf(kind === 'postgres')('stops being trusted while the node cannot hear other nodes, and resets when it can again', async () => {
      const relay = k.keyward.relay!;
      const c = sdk({ stream: { backoff: { initialMs: 50, maxMs: 200 } } });
      expect(await c.connect()).toBe(true);
      const bot = await serviceAccountToken(k.http, acc);
      await c.verify(bot.token);
      expect((await c.verify(bot.token)).cached).toBe(true);
      // The node's LISTEN connection drops: it ends its streams and refuses new ones (503) until it listens again.
      await relay.simulateDisconnect();
      await within(5000, () => c.metrics().reconnects > 0 && c.metrics().streamConnected, 'back in step');
      expect(relay.connected).toBe(true);
      // It could not replay across the gap: a reset flushed what was cached before it.
      expect(c.metrics().entries).toBe(0);
      expect(await c.verify(bot.token)).toMatchObject({ valid: true, cached: false });
    });

    it('keeps only a digest of each token, never the token', async () => {
      const c = sdk();
      await c.connect();
      const bot = await serviceAccountToken(k.http, acc);
      await c.verify(bot.token);
      const secret = bot.token.split('.').pop()!;
      const seen = new WeakSet<object>();
      const holds = (x: unknown, depth: number): boolean => {
        if (typeof x === 'string') return x.includes(secret);
        if (x === null || typeof x !== 'object' || depth > 6 || seen.has(x)) return false;
        seen.add(x);
        const values = x instanceof Map ? [...x.keys(), ...x.values()] : Object.values(x);
        return values.some((v) => holds(v, depth + 1));
      };
      expect(holds((c as unknown as { cache: unknown }).cache, 0)).toBe(false);
      expect(c.metrics().entries).toBe(1);
    });
  });
});
