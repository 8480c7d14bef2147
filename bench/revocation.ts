/**
 * Revocation across nodes: two `keyward serve` processes (A and B) on one PostgreSQL schema. Each
 * iteration creates a token through A, verifies it on B twice (B's cache is warm), deletes it
 * through A, and measures from the DELETE's response until B's `POST /v1/verify` says `deleted`,
 * polling B back to back. Baselines from the same run: a bare PostgreSQL NOTIFY -> LISTEN delivery
 * between two connections, and one verify round trip to B (the polling resolution).
 *   npm run bench:revocation
 * Env: BENCH_ITERATIONS (default 200), BENCH_MAX_SECONDS (whole loop, default 180).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildDist, fmt, keywardRunsFrom, machine, percentile, pgReachable, pgUrl, request, startKeyward, table, type ServerProcess } from './lib.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 180);
const GIVE_UP_MS = 5000;

function urlWithSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

function stats(xs: number[]) {
  const s = Float64Array.from(xs).sort();
  return { n: s.length, min: s[0] ?? NaN, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/** One-way NOTIFY -> LISTEN delivery between two connections of this process, in ms. */
async function notifyLatency(url: string, n: number): Promise<number[]> {
  const listener = new pg.Client({ connectionString: url });
  const notifier = new pg.Client({ connectionString: url });
  await listener.connect();
  await notifier.connect();
  const channel = `kw_bench_${randomBytes(4).toString('hex')}`;
  await listener.query(`listen ${channel}`);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const got = new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('NOTIFY not delivered in 5 s')), 5000);
        listener.once('notification', () => {
          clearTimeout(t);
          resolve(performance.now());
        });
      });
      const t0 = performance.now();
      await notifier.query(`select pg_notify($1, $2)`, [channel, JSON.stringify({ kind: 'token', tokenIds: [String(i)] })]);
      out.push((await got) - t0);
    }
  } finally {
    await listener.end();
    await notifier.end();
  }
  return out;
}

async function main() {
  console.log(`Machine: ${machine()}`);
  if (!(await pgReachable())) {
    console.log('PostgreSQL not reachable: the revocation benchmark needs it, and is skipped.');
    return;
  }
  buildDist();
  console.log(`Keyward runs from ${keywardRunsFrom()}.`);
  const base = pgUrl()!;
  const schema = `kw_rev_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const servers: ServerProcess[] = [];
  try {
    const dbUrl = urlWithSchema(base, schema);
    const env = { KEYWARD_MAX_TOKENS_PER_API_KEY: '1000' };
    const A = await startKeyward(['--database-url', dbUrl], env);
    servers.push(A);
    const B = await startKeyward(['--database-url', dbUrl], env);
    servers.push(B);
    const token0 = A.bootstrapToken;
    if (!token0) throw new Error(`node A printed no bootstrap token:\n${A.stdout()}`);
    A.forgetOutput();
    B.forgetOutput();
    const who = (await request('POST', `${A.url}/v1/verify`, { body: { token: token0 } })).body as { accountId: string; principal: { identifier: string } };
    const acc = who.accountId;
    const userId = who.principal.identifier;
    const h = { 'x-api-key': token0 };
    const verifyOn = async (url: string, token: string) => (await request('POST', `${url}/v1/verify`, { body: { token } })).body as { valid: boolean; reason?: string };
    const hitsOf = async (url: string) => Number(/^keyward_verification_cache_hits (\d+)/m.exec((await request('GET', `${url}/metrics`)).body as string)?.[1] ?? NaN);

    console.log(`Nodes A ${A.url} and B ${B.url} on PostgreSQL schema ${schema}; ${ITERATIONS} iterations (at most ${MAX_SECONDS} s), B polled back to back.`);

    // Baselines, same run: NOTIFY delivery, and one verify round trip on B with its cache warm.
    const notify = stats(await notifyLatency(dbUrl, 200));
    for (let i = 0; i < 200; i++) await verifyOn(B.url, token0);
    const rt: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t0 = performance.now();
      await verifyOn(B.url, token0);
      rt.push(performance.now() - t0);
    }
    const roundTrip = stats(rt);

    const delays: number[] = [];
    const polls: number[] = [];
    let gaveUp = 0;
    let aStale = 0;
    let notWarm = 0;
    const q = `accountIdentifier=${acc}&apiKeyType=USER&parentIdentifier=${encodeURIComponent(userId)}&apiKeyIdentifier=rev`;
    const stopAt = performance.now() + MAX_SECONDS * 1000;
    for (let i = 0; i < ITERATIONS && performance.now() < stopAt; i++) {
      const created = await request('POST', `${A.url}/ng/api/token?accountIdentifier=${acc}`, {
        headers: h,
        body: { identifier: `r${i}`, name: `r${i}`, apiKeyType: 'USER', parentIdentifier: userId, apiKeyIdentifier: 'rev', accountIdentifier: acc },
      });
      if (created.status !== 200) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
      const token = (created.body as { data: string }).data;
      if (!(await verifyOn(B.url, token)).valid) throw new Error('B does not verify a fresh token');
      const hits = await hitsOf(B.url);
      if (!(await verifyOn(B.url, token)).valid) throw new Error('B does not verify a fresh token twice');
      if ((await hitsOf(B.url)) !== hits + 1) notWarm++;

      const del = await request('DELETE', `${A.url}/ng/api/token/r${i}?${q}`, { headers: h });
      const t0 = performance.now();
      if (del.status !== 200) throw new Error(`delete: ${del.status} ${JSON.stringify(del.body)}`);
      let n = 0;
      for (;;) {
        n++;
        const v = await verifyOn(B.url, token);
        if (v.reason === 'deleted') break;
        if (v.valid !== true) throw new Error(`B answered ${JSON.stringify(v)} while waiting for "deleted"`);
        if (performance.now() - t0 > GIVE_UP_MS) {
          gaveUp++;
          break;
        }
      }
      delays.push(performance.now() - t0);
      polls.push(n);
      if ((await verifyOn(A.url, token)).reason !== 'deleted') aStale++;
    }

    const d = stats(delays);
    const p = stats(polls);
    const ms = (x: number) => fmt(x, 2);
    table(
      `Revocation on another node (${d.n} iterations)`,
      ['measure', 'min ms', 'p50 ms', 'p99 ms', 'max ms', 'p50 x round trip', 'p99 x round trip'],
      [
        ['B: one POST /v1/verify round trip, cache hit (baseline)', ms(roundTrip.min), ms(roundTrip.p50), ms(roundTrip.p99), ms(roundTrip.max), '1.00', '1.00'],
        ['PostgreSQL NOTIFY -> LISTEN, bare (baseline)', ms(notify.min), ms(notify.p50), ms(notify.p99), ms(notify.max), (notify.p50 / roundTrip.p50).toFixed(2), (notify.p99 / roundTrip.p99).toFixed(2)],
        ['DELETE answered by A -> B says "deleted"', ms(d.min), ms(d.p50), ms(d.p99), ms(d.max), (d.p50 / roundTrip.p50).toFixed(2), (d.p99 / roundTrip.p99).toFixed(2)],
      ],
    );
    console.log(`\nPolls of B per iteration: min ${p.min}, median ${p.p50}, p99 ${p.p99}, max ${p.max} (1 = B already said "deleted" on the first poll).`);
    console.log(`Revocation p50 = ${(d.p50 / notify.p50).toFixed(1)}x a bare NOTIFY delivery; p99 = ${(d.p99 / notify.p99).toFixed(1)}x the NOTIFY p99.`);
    console.log(`Checks: B's second verify was a cache hit in ${d.n - notWarm}/${d.n} iterations; A said "deleted" at once in ${d.n - aStale}/${d.n}; gave up after ${GIVE_UP_MS} ms: ${gaveUp}.`);
    console.log(`\nTarget p99 <= 1000 ms: ${d.p99 <= 1000 && gaveUp === 0 ? 'met' : 'MISSED'} (${ms(d.p99)} ms); aim 100 ms: ${d.p99 <= 100 ? 'met' : 'missed'}.`);
  } finally {
    for (const s of servers) await s.stop();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

await main();
