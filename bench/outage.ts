/**
 * Verification through a PostgreSQL outage (issue 18). One `keyward serve` process on a throwaway
 * PostgreSQL cluster of its own (never the shared server); a closed loop of POST /v1/verify with
 * BENCH_CONCURRENCY requests in flight over BENCH_TOKENS tokens, all cached. Phases, each
 * BENCH_PHASE_SECONDS long: before (the same-run baseline), during (the cluster stopped with
 * `pg_ctl -m fast`; answers come stale from the cache within KEYWARD_STALE_IF_ERROR_MS), and after
 * (the cluster started again). Also: the time from the cluster accepting connections again until
 * the node's cache is back on (`keyward_verification_cache_enabled 1`), with load running.
 *   npm run bench:outage
 * Env: BENCH_PHASE_SECONDS (default 5), BENCH_CONCURRENCY (default 16), BENCH_TOKENS (default 100).
 */
import { buildDist, fmt, keywardRunsFrom, machine, percentile, request, startKeyward, table } from './lib.js';
import { createCluster } from '../test/helpers/pgCluster.js';

const PHASE_MS = Number(process.env.BENCH_PHASE_SECONDS ?? 5) * 1000;
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

    const before = await phase('before (baseline)', node.url, tokens, PHASE_MS);

    await cluster.stop('fast');
    const during = await phase('during (PostgreSQL stopped)', node.url, tokens, PHASE_MS);
    const staleAnswers = await metric(node.url, 'keyward_verification_stale_answers');

    // Recovery, with the load running: from pg_ctl start returning (the server accepts connections)
    // until the node's cache is on again.
    let recoveredMs = NaN;
    const load = phase('recovery (load running)', node.url, tokens, 4000);
    const t0 = performance.now();
    await cluster.start();
    const accepting = performance.now();
    for (;;) {
      if ((await metric(node.url, 'keyward_verification_cache_enabled')) === 1) {
        recoveredMs = performance.now() - accepting;
        break;
      }
      if (performance.now() - accepting > 30_000) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const startMs = accepting - t0;
    const recovery = await load;
    const after = await phase('after (PostgreSQL back)', node.url, tokens, PHASE_MS);

    console.log(`\nMachine: ${machine()}\nKeyward runs from ${keywardRunsFrom()}; ${CONCURRENCY} requests in flight, ${TOKENS} cached tokens, ${PHASE_MS / 1000} s per phase.`);
    table(
      'Verification throughput and latency around a PostgreSQL outage (one node)',
      ['phase', 'requests', 'req/s', 'x before', 'p50 ms', 'p99 ms', 'valid', 'of which stale', '503', 'other'],
      [before, during, recovery, after].map((p) => [p.name, p.n, fmt(p.opsPerSec), fmt(p.opsPerSec / before.opsPerSec, 2), fmt(p.p50, 2), fmt(p.p99, 2), p.valid, p.stale, p.s503, p.other]),
    );
    console.log(`\npg_ctl start took ${fmt(startMs)} ms; cache back on ${fmt(recoveredMs)} ms after PostgreSQL accepted connections again.`);
    console.log(`Stale answers counted in /metrics: ${staleAnswers}.`);
  } finally {
    await node.stop();
    cluster.destroy();
  }
}

await main();
