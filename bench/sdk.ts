/**
 * The SDK (packages/sdk) against a real `keyward serve`:
 *   1. a cache hit in process (`await sdk.verify`) vs one SHA-256 + Map lookup (the baseline of
 *      bench/verify-inprocess.ts), alternating rounds; target >= 0.8x;
 *   2. a Fastify route behind @keyward/sdk/fastify vs the same route without auth, wrk (else
 *      autocannon) alternating rounds; target >= 0.8x;
 *   3. revocation reaching a subscribed SDK: from sending the DELETE to the eviction applied in the
 *      SDK, p50/p99 over ITERATIONS, against one verify round trip (POST /v1/verify) measured in the
 *      same iterations; target p99 <= 1 s (aim 100 ms). On SQLite (one node) and, when PostgreSQL is
 *      reachable, two nodes on one schema (revoke through A, SDK subscribed to B).
 *   npm run bench:sdk       (BENCH_MS, BENCH_SECONDS, BENCH_ROUNDS, BENCH_ITERATIONS; BENCH_PARTS=hit,middleware,revocation)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import Fastify from 'fastify';
import autocannon from 'autocannon';
import { createKeywardClient, type KeywardClient } from '../packages/sdk/src/index.js';
import { keywardFastify } from '../packages/sdk/src/fastify.js';
import { buildDist, fmt, hasWrk, interleaved, keywardRunsFrom, machine, measure, median, percentile, pgReachable, pgUrl, request, shaMapBaseline, startKeyward, table, tmpDir, type ServerProcess } from './lib.js';

const DURATION = Number(process.env.BENCH_MS ?? 3000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const TOKENS = 1000;
const CONNECTIONS = 32;

interface Node {
  url: string;
  admin: string;
  account: string;
  userId: string;
}

async function nodeOf(kw: ServerProcess & { bootstrapToken: string | null }, admin = kw.bootstrapToken): Promise<Node> {
  if (!admin) throw new Error(`keyward printed no bootstrap token:\n${kw.stdout()}`);
  kw.forgetOutput();
  const who = (await request('POST', `${kw.url}/v1/verify`, { body: { token: admin } })).body as { accountId: string; principal: { identifier: string } };
  return { url: kw.url, admin, account: who.accountId, userId: who.principal.identifier };
}

async function issue(n: Node, id: string): Promise<string> {
  const r = await request('POST', `${n.url}/ng/api/token?accountIdentifier=${n.account}`, {
    headers: { 'x-api-key': n.admin },
    body: { identifier: id, name: id, apiKeyType: 'USER', parentIdentifier: n.userId, apiKeyIdentifier: 'bench', accountIdentifier: n.account },
  });
  if (r.status !== 200) throw new Error(`token create: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as { data: string }).data;
}

async function revoke(n: Node, id: string): Promise<void> {
  const q = `accountIdentifier=${n.account}&apiKeyType=USER&parentIdentifier=${encodeURIComponent(n.userId)}&apiKeyIdentifier=bench`;
  const r = await request('DELETE', `${n.url}/ng/api/token/${id}?${q}`, { headers: { 'x-api-key': n.admin } });
  if (r.status !== 200) throw new Error(`token delete: ${r.status} ${JSON.stringify(r.body)}`);
}

/** Resolves when `check` holds, polling every turn of the event loop; the time it took in ms. */
async function until(check: () => boolean, limitMs = 10_000): Promise<number> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setImmediate(r));
  }
  return performance.now() - t0;
}

async function hitRows(n: Node): Promise<Array<Array<string | number>>> {
  // A long backstop: issuing the tokens can take longer than the default 60 s on a loaded machine.
  const sdk = createKeywardClient({ baseUrl: n.url, token: n.admin, cache: { maxEntries: 10_000, ttlMs: 3_600_000 } });
  if (!(await sdk.connect())) throw new Error('the SDK did not connect');
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i++) tokens.push(await issue(n, `h${i}`));
  for (const t of tokens) await sdk.verify(t);
  for (const t of tokens) if (!(await sdk.verify(t)).cached) throw new Error('not a cache hit');
  const { baseline, shaOnly } = shaMapBaseline(TOKENS);
  let i = 0;
  const hit = () => sdk.verify(tokens[i++ % TOKENS]!);
  const [b, sha, h] = await interleaved([baseline, shaOnly, hit], DURATION * 3);
  const lat = await measure(hit, DURATION / 2);
  const baseLat = await measure(baseline, DURATION / 2);
  const m = sdk.metrics();
  if (!m.streamConnected || m.misses !== TOKENS) throw new Error(`the hits were not all hits: ${JSON.stringify(m)}`);
  sdk.close();
  return [
    ['baseline: SHA-256 + Map lookup', fmt(b!.ops), '1.00', fmt(baseLat.p50, 2), fmt(baseLat.p99, 2)],
    ['SHA-256 alone', fmt(sha!.ops), sha!.ratio.toFixed(2), '', ''],
    ['SDK cache hit, await sdk.verify(token)', fmt(h!.ops), h!.ratio.toFixed(2), fmt(lat.p50, 2), fmt(lat.p99, 2)],
  ];
}

interface Load {
  reqPerSec: number;
  p50: number;
  p99: number;
}

async function load(url: string, token: string): Promise<Load> {
  if (hasWrk) {
    // Asynchronously: the app under load runs in this process.
    const { stdout: out } = await promisify(execFile)('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '-H', `X-Api-Key: ${token}`, url], { encoding: 'utf8' });
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const ms = (label: string) => {
      const m = new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
      if (!m) return NaN;
      return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
    };
    if (/Non-2xx/.test(out) || /Socket errors/.test(out)) throw new Error(`load on ${url} had errors:\n${out}`);
    return { reqPerSec: rps, p50: ms('50'), p99: ms('99') };
  }
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers: { 'x-api-key': token } });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`load on ${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

async function middlewareRows(n: Node): Promise<Array<Array<string | number>>> {
  const sdk = createKeywardClient({ baseUrl: n.url, token: n.admin });
  if (!(await sdk.connect())) throw new Error('the SDK did not connect');
  const token = await issue(n, 'mw');
  const app = Fastify({ logger: false });
  const answer = { hello: 'world' };
  app.get('/open', async () => answer);
  await app.register(async (scoped) => {
    await scoped.register(keywardFastify, { client: sdk });
    scoped.get('/protected', async () => answer);
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const check = await fetch(`${base}/protected`, { headers: { 'x-api-key': token } });
  if (check.status !== 200 || (await fetch(`${base}/protected`)).status !== 401) throw new Error('the middleware does not guard the route');
  const open: Load[] = [];
  const guarded: Load[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    open.push(await load(`${base}/open`, token));
    guarded.push(await load(`${base}/protected`, token));
  }
  await app.close();
  const hits = sdk.metrics().hits;
  sdk.close();
  const ratio = median(guarded.map((g, r) => g.reqPerSec / open[r]!.reqPerSec));
  const row = (name: string, ls: Load[], x: string) => [name, fmt(median(ls.map((l) => l.reqPerSec))), x, fmt(median(ls.map((l) => l.p50)), 2), fmt(median(ls.map((l) => l.p99)), 2)];
  return [row('Fastify route, no auth', open, '1.00'), row(`Fastify route behind @keyward/sdk/fastify (${fmt(hits)} cache hits)`, guarded, ratio.toFixed(2))];
}

/** Revoke through `via`, SDK subscribed to `to`: time to the eviction, and one POST /v1/verify round trip, per iteration. */
async function revocationRow(name: string, via: Node, to: Node): Promise<Array<string | number>> {
  const sdk = createKeywardClient({ baseUrl: to.url, token: via.admin });
  if (!(await sdk.connect())) throw new Error('the SDK did not connect');
  const push: number[] = [];
  const trip: number[] = [];
  let rewarmed = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const id = `r${i}_${randomBytes(3).toString('hex')}`;
    const token = await issue(via, id);
    // Warm: the second verify must be a hit (a verify whose answer raced an event is not cached; retried).
    let warm = false;
    for (let w = 0; w < 5 && !warm; w++) {
      if (w > 0) rewarmed++;
      await sdk.verify(token);
      warm = (await sdk.verify(token)).cached;
    }
    if (!warm) throw new Error(`not cached after 5 tries: ${JSON.stringify(sdk.metrics())}`);
    // The baseline, in the same iteration: one verify round trip to the node the SDK follows.
    const t = performance.now();
    await request('POST', `${to.url}/v1/verify`, { body: { token } });
    trip.push(performance.now() - t);
    const evictions = sdk.metrics().evictions;
    const t0 = performance.now();
    const deleted = revoke(via, id);
    await until(() => sdk.metrics().evictions > evictions);
    push.push(performance.now() - t0);
    await deleted;
    const after = await sdk.verify(token);
    if (after.valid) throw new Error(`a revoked token still verified (iteration ${i}): ${JSON.stringify(after)} ${JSON.stringify(sdk.metrics())} server: ${JSON.stringify((await request('POST', `${to.url}/v1/verify`, { body: { token } })).body)}`);
  }
  const m = sdk.metrics();
  console.log(`${name}: ${rewarmed} warm-ups repeated; SDK stream reconnects ${m.reconnects}, events ${m.events}.`);
  sdk.close();
  const sp = [...push].sort((a, b) => a - b);
  const st = [...trip].sort((a, b) => a - b);
  return [name, ITERATIONS, fmt(percentile(sp, 50), 1), fmt(percentile(sp, 99), 1), fmt(percentile(st, 50), 2), fmt(percentile(st, 99), 2), (percentile(sp, 50) / percentile(st, 50)).toFixed(1)];
}

async function main() {
  console.log(`Machine: ${machine()}`);
  buildDist();
  console.log(`Keyward runs from ${keywardRunsFrom()}; load generator: ${hasWrk ? `wrk 1 thread, ${CONNECTIONS} connections` : 'autocannon'}.`);
  const tmp = tmpDir('keyward-bench-sdk-');
  const servers: ServerProcess[] = [];
  const clients: KeywardClient[] = [];
  try {
    const env = { KEYWARD_MAX_TOKENS_PER_API_KEY: '100000' };
    const kw = await startKeyward(['--data-dir', path.join(tmp.dir, 'data')], env);
    servers.push(kw);
    const n = await nodeOf(kw);

    const parts = (process.env.BENCH_PARTS ?? 'hit,middleware,revocation').split(',');
    if (parts.includes('hit'))
      table(`SDK cache hit in process (${DURATION * 3} ms alternating with the baselines, 6 rounds, medians; ${TOKENS} tokens round-robin)`, ['case', 'ops/s', 'x SHA-256 + Map', 'p50 us', 'p99 us'], await hitRows(n));
    if (parts.includes('middleware'))
      table(`Fastify route with and without the SDK middleware (${ROUNDS} rounds of ${SECONDS} s alternating, medians)`, ['case', 'req/s', 'x no auth', 'p50 ms', 'p99 ms'], await middlewareRows(n));

    if (!parts.includes('revocation')) return;
    const rows = [await revocationRow('SQLite, one node', n, n)];
    if (await pgReachable()) {
      const schema = `kw_bench_sdk_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: pgUrl()! });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      try {
        const u = new URL(pgUrl()!);
        u.searchParams.set('options', `-c search_path=${schema}`);
        const a = await startKeyward(['--database-url', u.toString()], env);
        servers.push(a);
        const b = await startKeyward(['--database-url', u.toString()], env);
        servers.push(b);
        const A = await nodeOf(a);
        const B = await nodeOf(b, A.admin);
        rows.push(await revocationRow('PostgreSQL, revoke through A, SDK on B', A, B));
      } finally {
        for (const s of servers.splice(1)) await s.stop();
        await admin.query(`drop schema ${schema} cascade`);
        await admin.end();
      }
    } else console.log('PostgreSQL not reachable: the two-node row is skipped.');
    table('Revocation pushed to a subscribed SDK (from sending the DELETE to the eviction applied in the SDK)', ['setup', 'iterations', 'push p50 ms', 'push p99 ms', 'verify round trip p50 ms', 'round trip p99 ms', 'p50 x round trip'], rows);
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop();
    tmp.remove();
  }
}

await main();
