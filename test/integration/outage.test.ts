/**
 * Issue 18: a real PostgreSQL outage. Two Keyward nodes (in process, each with its own pool and
 * listener) on a throwaway cluster of our own, under verification and write load; the cluster is
 * stopped (`-m fast`), started again, then killed (`-m immediate`, crash recovery) and started again.
 * In every phase: no 500; while down, cached answers come back flagged stale within
 * KEYWARD_STALE_IF_ERROR_MS and 503 past it, uncached ones 503 in each protocol's shape with
 * Retry-After; after, the listener and cache are back within seconds and nothing buffered is lost.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { loadConfig } from '../../src/server/config.js';
import { createKeyward, type Keyward } from '../../src/server/keyward.js';
import { openStore } from '../../src/store/database.js';
import { HttpClient, type HttpResponse } from '../helpers/keyward.js';
import { createCluster, serverBinDir, type PgCluster } from '../helpers/pgCluster.js';

const d = serverBinDir() ? describe : describe.skip;

async function until(check: () => boolean | Promise<boolean>, limitMs = 10_000, what = 'condition'): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - start;
}

interface Node {
  keyward: Keyward;
  http: HttpClient;
  logs: string[];
}

const STALE_MS = 30_000;

async function startNode(url: string, clock: ManualClock): Promise<Node> {
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...chunk.toString('utf8').split('\n').filter((l: string) => l !== ''));
      cb();
    },
  });
  const store = await openStore({ databaseUrl: url, poolSize: 5 });
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', logLevel: 'info', usageFlushMs: 60_000, staleIfErrorMs: STALE_MS, maxApiKeysPerParent: 100_000 });
  const keyward = await createKeyward({ config, clock, store, logStream, announce: () => undefined });
  return { keyward, http: new HttpClient(await keyward.listen()), logs };
}

/** A well-formed Harness NG token that names no token in the database. */
function unknownToken(acc: string): string {
  return `pat.${acc}.${randomBytes(12).toString('hex')}.${randomBytes(10).toString('hex')}`;
}

interface Sample {
  phase: string;
  what: 'verify' | 'write';
  status: number;
  stale: boolean;
  id?: string;
}

d('a PostgreSQL outage under load, two nodes', () => {
  let cluster: PgCluster;
  const clock = new ManualClock(Date.UTC(2026, 0, 15, 12, 0, 0));
  let a: Node;
  let b: Node;
  let token: string;
  let acc: string;
  let userId: string;

  beforeAll(async () => {
    cluster = (await createCluster())!;
    a = await startNode(cluster.url, clock);
    b = await startNode(cluster.url, clock);
    token = a.keyward.bootstrapped!.token;
    acc = a.keyward.bootstrapped!.account.id;
    userId = a.keyward.bootstrapped!.admin.id;
  }, 60_000);

  let current: { stop(): Promise<void> } | null = null;
  afterEach(async () => {
    await current?.stop();
    current = null;
  });

  afterAll(async () => {
    await b?.keyward.close();
    await a?.keyward.close();
    cluster?.destroy();
  });

  const q = () => ({ accountIdentifier: acc });
  const verify = (n: Node, t: string) => n.http.post('/v1/verify', { token: t });
  const createKey = (n: Node, id: string) =>
    n.http.post('/ng/api/apikey', { identifier: id, name: id, apiKeyType: 'USER', parentIdentifier: userId, accountIdentifier: acc }, { query: q(), token });
  async function issue(id: string): Promise<string> {
    expect((await createKey(a, id)).status).toBe(200);
    const t = await a.http.post('/ng/api/token', { identifier: id, name: id, apiKeyType: 'USER', parentIdentifier: userId, apiKeyIdentifier: id, accountIdentifier: acc }, { query: q(), token });
    expect(t.status).toBe(200);
    return t.body.data as string;
  }
  const inStep = (n: Node) => n.keyward.relay!.connected && n.keyward.services.verification.cache.enabled;
  const cacheOf = (n: Node) => n.keyward.services.verification.cache;

  /** Verification and write traffic on both nodes until stopped; every answer is kept with its phase. */
  function load(tokens: () => string[], phase: () => string) {
    const samples: Sample[] = [];
    let running = true;
    let n = 0;
    const prefix = randomBytes(3).toString('hex');
    const loops = [a, b].flatMap((node, ni) => [
      (async () => {
        while (running) {
          const list = tokens();
          const t = list[n++ % list.length]!;
          const p = phase();
          const r = await verify(node, t).catch(() => null);
          // A request that began in one phase and ended in another belongs to neither.
          samples.push({ phase: p === phase() ? p : 'transition', what: 'verify', status: r?.status ?? 0, stale: r?.body?.stale === true });
          await new Promise((r) => setTimeout(r, 2));
        }
      })(),
      (async () => {
        while (running) {
          const id = `w${prefix}_${ni}_${n++}`;
          const p = phase();
          const r = await createKey(node, id).catch(() => null);
          samples.push({ phase: p === phase() ? p : 'transition', what: 'write', status: r?.status ?? 0, stale: false, id });
          await new Promise((r) => setTimeout(r, 25));
        }
      })(),
    ]);
    const traffic = {
      samples,
      async stop() {
        running = false;
        await Promise.all(loops);
      },
    };
    current = traffic;
    return traffic;
  }

  async function expect503(res: HttpResponse, check: (body: any) => void): Promise<void> {
    expect(res.status, res.text).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    check(res.body);
  }

  it('answers honestly while PostgreSQL is down, stale within the bound, and recovers at once with nothing lost', async () => {
    const kept = await issue('kept');
    const revoked = await issue('revoked');
    const quiet = await issue('quiet');
    const unknown = unknownToken(acc);
    await until(() => inStep(a) && inStep(b), 10_000, 'both listeners');
    // Warm both caches: the admin token (used by every protocol below), live tokens, a token about to be
    // revoked, and an unknown one (a cached "not found").
    for (const n of [a, b]) for (const t of [token, kept, quiet, revoked, unknown]) for (let i = 0; i < 2; i++) await verify(n, t);
    expect(cacheOf(b).size).toBeGreaterThanOrEqual(4);

    // A revocation B hears of before the outage is never undone by stale answers.
    const del = await a.http.delete('/ng/api/token/revoked', { query: { ...q(), apiKeyType: 'USER', parentIdentifier: userId, apiKeyIdentifier: 'revoked' }, token });
    expect(del.status).toBe(200);
    await until(async () => (await verify(b, revoked)).body.reason === 'deleted', 2000, 'B to hear of the revocation');

    clock.advance(1000);
    const outageAt = clock.now();
    let phase = 'before';
    const traffic = load(() => [kept, unknown, revoked], () => phase);
    await new Promise((r) => setTimeout(r, 300));

    // ---- PostgreSQL stopped -------------------------------------------------------------------
    phase = 'stopping';
    await cluster.stop('fast');
    await until(() => !a.keyward.relay!.connected && !b.keyward.relay!.connected, 5000, 'listeners to notice');
    phase = 'down';
    await new Promise((r) => setTimeout(r, 300));

    for (const n of [a, b]) {
      const v = await verify(n, kept);
      expect(v.status).toBe(200);
      expect(v.body).toMatchObject({ valid: true, stale: true, tokenId: expect.any(String) });
      expect(v.headers.get('keyward-stale')).toBe('true');
      const u = await verify(n, unknown);
      expect(u.body).toEqual({ valid: false, reason: 'unknown', stale: true });
      const r = await verify(n, revoked);
      expect(r.body).toEqual({ valid: false, reason: 'deleted', stale: true });
      // Never cached: no answer to give.
      await expect503(await verify(n, unknownToken(acc)), (body) => expect(body.error.code).toBe('UNAVAILABLE'));
      // The forward-auth GET /v1/verify says the same, in its own shape.
      const g = await n.http.get('/v1/verify', { token: kept });
      expect(g.status).toBe(200);
      expect(g.body).toMatchObject({ valid: true, stale: true });
      expect(g.headers.get('keyward-stale')).toBe('true');
      expect(g.headers.get('x-keyward-principal-id')).toBe(userId);
      const gr = await n.http.get('/v1/verify', { token: revoked });
      expect(gr.status).toBe(401);
      expect(gr.body).toEqual({ valid: false, reason: 'deleted', stale: true });
      expect(gr.headers.get('keyward-stale')).toBe('true');
      await expect503(await n.http.get('/v1/verify', { token: unknownToken(acc) }), (body) => expect(body.error.code).toBe('UNAVAILABLE'));
    }
    // `quiet` is used only now, answered stale; its last use is buffered, a flush fails and keeps it.
    expect((await verify(a, quiet)).body).toMatchObject({ valid: true, stale: true });
    await a.keyward.services.usage.flush();
    expect(a.keyward.services.usage.peek(quiet.split('.')[2]!)?.at).toBe(outageAt);
    // Every protocol: a 503 in its own shape (the admin token verifies stale; the route itself needs the database).
    await expect503(await createKey(a, 'during'), (body) => expect(body).toMatchObject({ status: 'ERROR', code: 'SERVICE_UNAVAILABLE' }));
    await expect503(await a.http.get('/ng/api/apikey', { query: { ...q(), apiKeyType: 'USER', parentIdentifier: userId }, token }), (body) => expect(body.code).toBe('SERVICE_UNAVAILABLE'));
    await expect503(await a.http.get('/api/api-keys', { query: { accountId: acc }, token }), (body) => expect(body.responseMessages[0].code).toBe('SERVICE_UNAVAILABLE'));
    await expect503(await a.http.post('/api/graphql', { query: '{ apiKeys(limit: 5) { nodes { id } } }' }, { token }), (body) => expect(body.errors[0].extensions).toMatchObject({ classification: 'ExecutionAborted', code: 'SERVICE_UNAVAILABLE' }));
    await expect503(await a.http.get('/api/v1/service_accounts', { headers: { authorization: `Bearer ${token}` } }), (body) => expect(body.detail[0]).toBe('RuntimeError'));
    await expect503(await a.http.get('/v1/whoami', { token: unknownToken(acc) }), (body) => expect(body.error.code).toBe('UNAVAILABLE'));
    expect((await a.http.get('/healthz')).status).toBe(200);
    expect((await a.http.get('/readyz')).status).toBe(503);
    const metrics = (await a.http.get('/metrics')).text;
    expect(Number(/^keyward_verification_stale_answers (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^keyward_database_reachable 0$/m);
    expect(metrics).toMatch(/^keyward_verification_cache_enabled 0$/m);

    // Past the bound: no more stale answers, 503 instead.
    clock.advance(STALE_MS + 1000);
    phase = 'past-bound';
    await new Promise((r) => setTimeout(r, 200));
    for (const n of [a, b]) {
      await expect503(await verify(n, kept), (body) => expect(body.error.code).toBe('UNAVAILABLE'));
      await expect503(await verify(n, unknown), (body) => expect(body.error.code).toBe('UNAVAILABLE'));
    }

    // ---- PostgreSQL started again -------------------------------------------------------------
    phase = 'starting';
    await cluster.start();
    const started = performance.now();
    phase = 'after';
    await until(() => inStep(a) && inStep(b), 5000, 'both caches back on');
    const recoveredMs = performance.now() - started;
    await until(async () => (await createKey(a, `after_${randomBytes(3).toString('hex')}`)).status === 200, 3000, 'writes');
    await new Promise((r) => setTimeout(r, 300));
    await traffic.stop();

    // ---- the answers, phase by phase ------------------------------------------------------------
    const s = traffic.samples;
    expect(s.filter((x) => x.status >= 500 && x.status !== 503), 'no 500s').toEqual([]);
    expect(s.filter((x) => x.status !== 200 && x.status !== 503)).toEqual([]);
    const down = s.filter((x) => x.phase === 'down');
    expect(down.filter((x) => x.what === 'verify' && x.status === 200 && !x.stale), 'every 200 while down is stale').toEqual([]);
    expect(down.filter((x) => x.what === 'verify' && x.stale).length).toBeGreaterThan(0);
    expect(down.filter((x) => x.what === 'write' && x.status !== 503)).toEqual([]);
    expect(s.filter((x) => x.phase === 'past-bound' && x.what === 'verify' && x.status === 200)).toEqual([]);
    expect(s.filter((x) => x.phase === 'before' && x.status !== 200)).toEqual([]);
    expect(s.filter((x) => x.phase === 'after' && x.what === 'verify' && (x.status !== 200 || x.stale)), 'after recovery: fresh answers').toEqual([]);
    // Logged once per outage per node (and once at recovery), not per request.
    for (const n of [a, b]) {
      expect(n.logs.filter((l) => l.includes('database unreachable')).length).toBe(1);
      expect(n.logs.filter((l) => l.includes('database reachable again')).length).toBe(1);
      expect(n.logs.filter((l) => l.includes('invalidation listener lost')).length).toBe(1);
      expect(n.logs.filter((l) => l.includes('"level":50') && l.includes('unhandled'))).toEqual([]);
    }
    expect(recoveredMs).toBeLessThan(5000);
    expect((await a.http.get('/readyz')).status).toBe(200);
    expect((await a.http.get('/metrics')).text).toMatch(/^keyward_database_reachable 1$/m);

    // ---- the cache is back and caching; what was buffered is written --------------------------
    expect((await verify(b, kept)).body).toMatchObject({ valid: true });
    const hits = cacheOf(b).hits;
    expect((await verify(b, kept)).body.stale).toBeUndefined();
    expect(cacheOf(b).hits).toBe(hits + 1);
    // The use buffered during the outage was written when the database came back (no flush asked for).
    const quietId = quiet.split('.')[2]!;
    await until(
      async () => Number((await sql<{ last_used_at: number | null }>`select last_used_at from tokens where id = ${quietId}`.execute(a.keyward.store.db)).rows[0]?.last_used_at) === outageAt,
      5000,
      'the buffered last use',
    );
    // Every acknowledged write is in the database.
    const acknowledged = s.filter((x) => x.what === 'write' && x.status === 200).map((x) => x.id!);
    const stored = new Set((await sql<{ identifier: string }>`select identifier from api_keys`.execute(a.keyward.store.db)).rows.map((r) => r.identifier));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    expect(a.keyward.services.ctx.auditOutbox.size + b.keyward.services.ctx.auditOutbox.size).toBe(0);
  }, 60_000);

  it('recovers the same way from a crash (-m immediate) under load', async () => {
    await until(() => inStep(a) && inStep(b), 5000, 'both listeners');
    const kept = a.keyward.bootstrapped!.token;
    for (const n of [a, b]) await verify(n, kept);
    let phase = 'before';
    const traffic = load(() => [kept], () => phase);
    await new Promise((r) => setTimeout(r, 300));
    const downAt = clock.now();
    // Until a node notices the crash it is still in step, and a fresh (not stale) answer is right.
    phase = 'stopping';
    await cluster.stop('immediate');
    await until(() => !inStep(a) && !inStep(b), 5000, 'listeners to notice');
    phase = 'down';
    for (const n of [a, b]) expect((await verify(n, kept)).body).toMatchObject({ valid: true, stale: true });
    phase = 'starting';
    await cluster.start();
    const started = performance.now();
    await until(() => inStep(a) && inStep(b), 5000, 'both caches back on');
    phase = 'after';
    const recoveredMs = performance.now() - started;
    await until(async () => (await createKey(b, `crash_${randomBytes(3).toString('hex')}`)).status === 200, 3000, 'writes');
    await new Promise((r) => setTimeout(r, 200));
    await traffic.stop();
    const s = traffic.samples;
    expect(s.filter((x) => x.status !== 200 && x.status !== 503)).toEqual([]);
    expect(s.filter((x) => x.phase === 'down' && x.what === 'verify' && x.status === 200 && !x.stale)).toEqual([]);
    expect(s.filter((x) => x.phase === 'after' && x.what === 'verify' && (x.status !== 200 || x.stale))).toEqual([]);
    expect(recoveredMs).toBeLessThan(5000);
    expect(clock.now()).toBe(downAt);
    const acknowledged = s.filter((x) => x.what === 'write' && x.status === 200).map((x) => x.id!);
    const stored = new Set((await sql<{ identifier: string }>`select identifier from api_keys`.execute(a.keyward.store.db)).rows.map((r) => r.identifier));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  }, 60_000);
});
