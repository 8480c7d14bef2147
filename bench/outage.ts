/**
 * Verification through a PostgreSQL outage (issue 18). One `keyward serve` process on a throwaway
 * PostgreSQL cluster of its own (never the shared server); a closed loop of POST /v1/verify with
 * BENCH_CONCURRENCY requests in flight over BENCH_TOKENS tokens, all cached. Each of BENCH_CYCLES
 * cycles has three phases, each BENCH_PHASE_SECONDS long: before (the same-run baseline), during
 * (the cluster stopped with `pg_ctl -m fast`; answers come stale from the cache within
 * KEYWARD_STALE_IF_ERROR_MS), and after (the cluster started again, once the cache is back on).
 * Also: the time from the cluster accepting connections again until the node's cache is back on
 * (`keyward_verification_cache_enabled 1`), with load running. Ratios are to the same cycle's
 * "before", and the table gives each measure's median over the cycles (a shared machine drifts).
 *   npm run bench:outage
 * Env: BENCH_CYCLES (default 3), BENCH_PHASE_SECONDS (default 4), BENCH_CONCURRENCY (default 16),
 * BENCH_TOKENS (default 100).
 */
import { buildDist, fmt, keywardRunsFrom, machine, median, percentile, request, startKeyward, table } from './lib.js';
import { createCluster } from '../test/helpers/pgCluster.js';

const PHASE_MS = Number(process.env.BENCH_PHASE_SECONDS ?? 4) * 1000;
const CYCLES = Number(process.env.BENCH_CYCLES ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 100);

interface PhaseResult {
  name: string;
  n: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  valid: number;
  stale: number;
  s503: number;
  other: number;
}

async function phase(name: string, url: string, tokens: string[], ms: number): Promise<PhaseResult> {
  const lat: number[] = [];
  let valid = 0;
  let stale = 0;
  let s503 = 0;
  let other = 0;
  let i = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const token = tokens[i++ % tokens.length]!;
        const t0 = performance.now();
        const r = await request('POST', `${url}/v1/verify`, { body: { token } }).catch(() => ({ status: 0, body: null }));
        lat.push(performance.now() - t0);
        if (r.status === 200 && r.body?.valid === true) {
          valid++;
          if (r.body.stale === true) stale++;
        } else if (r.status === 503) s503++;
        else other++;
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  const sorted = lat.sort((a, b) => a - b);
  return { name, n: lat.length, opsPerSec: lat.length / secs, p50: percentile(sorted, 50), p99: percentile(sorted, 99), valid, stale, s503, other };
}

async function metric(url: string, name: string): Promise<number> {
  const r = await request('GET', `${url}/metrics`);
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(String(r.body));
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  buildDist();
  const cluster = await createCluster();
  if (!cluster) {
    console.log('PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): skipped');
    return;
  }
  const node = await startKeyward(['--database-url', cluster.url], { KEYWARD_MAX_API_KEYS_PER_PARENT: String(TOKENS + 10), KEYWARD_STALE_IF_ERROR_MS: '60000' });
  try {
    node.forgetOutput();
    const admin = node.bootstrapToken!;
    const who = await request('GET', `${node.url}/v1/whoami`, { headers: { 'x-api-key': admin } });
    const acc = who.body.accountId as string;
    const userId = who.body.principal.id as string;
    const q = `accountIdentifier=${acc}`;
    const tokens: string[] = [];
    for (let t = 0; t < TOKENS; t++) {
      const id = `b${t}`;
      const h = { 'x-api-key': admin };
      const k = await request('POST', `${node.url}/ng/api/apikey?${q}`, { headers: h, body: { identifier: id, name: id, apiKeyType: 'USER', parentIdentifier: userId, accountIdentifier: acc } });
      if (k.status !== 200) throw new Error(`apikey: ${k.status} ${JSON.stringify(k.body)}`);
      const tok = await request('POST', `${node.url}/ng/api/token?${q}`, { headers: h, body: { identifier: id, name: id, apiKeyType: 'USER', parentIdentifier: userId, apiKeyIdentifier: id, accountIdentifier: acc } });
      tokens.push(tok.body.data as string);
    }
    for (const t of tokens) await request('POST', `${node.url}/v1/verify`, { body: { token: t } });
    await phase('warm-up', node.url, tokens, 1000);

    const rows: PhaseResult[][] = [[], [], [], []];
    const recoveries: number[] = [];
    const staleCounts: number[] = [];
    for (let c = 0; c < CYCLES; c++) {
      const before = await phase('before (baseline)', node.url, tokens, PHASE_MS);
      const stale0 = await metric(node.url, 'keyward_verification_stale_answers');
      await cluster.stop('fast');
      const during = await phase('during (PostgreSQL stopped)', node.url, tokens, PHASE_MS);
      staleCounts.push((await metric(node.url, 'keyward_verification_stale_answers')) - stale0);
      // Recovery, with the load running: from pg_ctl start returning (the server accepts
      // connections) until the node's cache is on again.
      const load = phase('recovery (load running)', node.url, tokens, 3000);
      await cluster.start();
      const accepting = performance.now();
      let recoveredMs = NaN;
      while (performance.now() - accepting < 30_000) {
        if ((await metric(node.url, 'keyward_verification_cache_enabled')) === 1) {
          recoveredMs = performance.now() - accepting;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      recoveries.push(recoveredMs);
      const recovery = await load;
      const after = await phase('after (PostgreSQL back)', node.url, tokens, PHASE_MS);
      [before, during, recovery, after].forEach((p, i) => rows[i]!.push(p));
    }

    console.log(`\nMachine: ${machine()}\nKeyward runs from ${keywardRunsFrom()}; ${CONCURRENCY} requests in flight, ${TOKENS} cached tokens, ${CYCLES} cycles of ${PHASE_MS / 1000} s phases; medians over the cycles.`);
    const base = rows[0]!;
    table(
      'Verification throughput and latency around a PostgreSQL outage (one node)',
      ['phase', 'req/s', 'x before (same cycle)', 'p50 ms', 'p99 ms', 'answers', 'stale', '503', 'other'],
      rows.map((ps) => {
        const sum = (f: (p: PhaseResult) => number) => ps.reduce((acc, p) => acc + f(p), 0);
        return [
          ps[0]!.name,
          fmt(median(ps.map((p) => p.opsPerSec))),
          fmt(median(ps.map((p, c) => p.opsPerSec / base[c]!.opsPerSec)), 2),
          fmt(median(ps.map((p) => p.p50)), 2),
          fmt(median(ps.map((p) => p.p99)), 2),
          sum((p) => p.n),
          sum((p) => p.stale),
          sum((p) => p.s503),
          sum((p) => p.other),
        ];
      }),
    );
    console.log(`\nCache back on after PostgreSQL accepted connections again: ${recoveries.map((r) => `${fmt(r)} ms`).join(', ')}.`);
    console.log(`Stale answers counted in /metrics during each outage: ${staleCounts.join(', ')}.`);
  } finally {
    await node.stop();
    cluster.destroy();
  }
}

await main();
