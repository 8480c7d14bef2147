/**
 * What route contracts cost on the hot routes (docs/benchmarks.md, "Route contracts on the hot
 * routes"): POST /v1/verify, GET /v1/verify and GET /ng/api/apikey/aggregate, each through Fastify's
 * whole pipeline in-process (`app.inject`: routing, validation, handler, serialization; no sockets,
 * so the figure is the part a schema can change), against a baseline checkout of Keyward without the
 * contracts, built the same way in the same process, in alternating rounds.
 *
 *   KEYWARD_BENCH_BASELINE=/path/to/baseline/checkout npx tsx bench/contracts.ts
 */
import { Writable } from 'node:stream';
import path from 'node:path';
import { benchStore, fmt, machine, table } from './lib.js';

interface Side {
  name: string;
  inject: (o: { method: string; url: string; headers?: Record<string, string>; payload?: string }) => Promise<{ statusCode: number }>;
  token: string;
  query: string;
  close: () => Promise<void>;
}

async function side(name: string, root: string): Promise<Side> {
  const { createKeyward } = (await import(path.join(root, 'src/server/keyward.js'))) as typeof import('../src/server/keyward.js');
  const { loadConfig } = (await import(path.join(root, 'src/server/config.js'))) as typeof import('../src/server/config.js');
  const bs = await benchStore('sqlite');
  const silent = new Writable({ write: (_c, _e, cb) => cb() });
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', logLevel: 'warn', usageFlushMs: 1_000 });
  const keyward = await createKeyward({ config, store: bs.store, logStream: silent, announce: () => undefined });
  await keyward.app.ready();
  const b = keyward.bootstrapped!;
  const acc = b.account.id;
  const h = { 'x-api-key': b.token, 'content-type': 'application/json' };
  // Three keys of the admin's, the page the aggregate route renders.
  for (let i = 0; i < 3; i++) {
    const r = await keyward.app.inject({ method: 'POST', url: `/ng/api/apikey?accountIdentifier=${acc}`, headers: h, payload: JSON.stringify({ identifier: `k${i}`, name: `k${i}`, apiKeyType: 'USER', parentIdentifier: b.admin.id, accountIdentifier: acc }) });
    if (r.statusCode !== 200) throw new Error(`${name}: create key ${r.statusCode} ${r.body}`);
  }
  return {
    name,
    inject: (o) => keyward.app.inject(o as never),
    token: b.token,
    query: `accountIdentifier=${acc}&apiKeyType=USER&parentIdentifier=${b.admin.id}&pageIndex=0&pageSize=10`,
    close: async () => {
      await keyward.close();
      await bs.cleanup();
    },
  };
}

const baselineRoot = process.env.KEYWARD_BENCH_BASELINE;
if (!baselineRoot) throw new Error('set KEYWARD_BENCH_BASELINE to a checkout of Keyward without route contracts (e.g. a worktree of main)');
const perRound = Number(process.env.KEYWARD_BENCH_REQUESTS ?? 3000);
const rounds = Number(process.env.KEYWARD_BENCH_ROUNDS ?? 5);

/** Requests per second over `n` sequential calls. (A fixed count, not a time: the in-process runs hold memory per request until they end.) */
async function rate(call: () => Promise<unknown>, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await call();
  return n / ((performance.now() - t0) / 1000);
}

const base = await side('baseline', path.resolve(baselineRoot));
const mine = await side('contracts', path.resolve(import.meta.dirname, '..'));

const cases: Array<{ name: string; call: (s: Side) => Promise<{ statusCode: number }> }> = [
  { name: 'POST /v1/verify', call: (s) => s.inject({ method: 'POST', url: '/v1/verify', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ token: s.token }) }) },
  { name: 'GET /v1/verify', call: (s) => s.inject({ method: 'GET', url: '/v1/verify', headers: { 'x-api-key': s.token } }) },
  { name: 'GET /ng/api/apikey/aggregate', call: (s) => s.inject({ method: 'GET', url: `/ng/api/apikey/aggregate?${s.query}`, headers: { 'x-api-key': s.token } }) },
];

const rows: Array<Array<string | number>> = [];
for (const c of cases) {
  for (const s of [base, mine]) {
    const r = await c.call(s);
    if (r.statusCode !== 200) throw new Error(`${s.name} ${c.name}: ${r.statusCode}`);
    await rate(() => c.call(s), 500); // warm-up
  }
  const ratios: number[] = [];
  const ops: Record<string, number[]> = { baseline: [], contracts: [] };
  for (let i = 0; i < rounds; i++) {
    // Alternate which side goes first, so that drift in the machine's load falls on both.
    const order = i % 2 === 0 ? [base, mine] : [mine, base];
    const got: Record<string, number> = {};
    for (const s of order) got[s.name] = await rate(() => c.call(s), perRound);
    ops.baseline!.push(got.baseline!);
    ops.contracts!.push(got.contracts!);
    ratios.push(got.contracts! / got.baseline!);
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  rows.push([c.name, fmt(median(ops.baseline!)), fmt(median(ops.contracts!)), fmt(median(ratios), 2), `${fmt(Math.min(...ratios), 2)} to ${fmt(Math.max(...ratios), 2)}`]);
}
console.log(machine());
table('Route contracts on the hot routes (app.inject, SQLite, median of rounds)', ['route', 'baseline req/s', 'contracts req/s', 'x baseline (median)', 'x baseline (rounds)'], rows);
await base.close();
await mine.close();
