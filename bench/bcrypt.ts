/**
 * For the record: what a bcrypt check costs (cost 10, as Harness and ZenML store their secrets;
 * bcryptjs, pure JavaScript) beside one SHA-256 of a token secret (the baseline) and Keyward's
 * verify on a cache hit, all on one core in the same run.
 *   npm run bench:bcrypt
 * Env: BENCH_MS (per row, default 3000).
 */
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { systemClock } from '../src/domain/clock.js';
import { createServices } from '../src/services/index.js';
import { SYSTEM_CALLER } from '../src/services/context.js';
import { provisionAccount } from '../src/services/provisioning.js';
import { benchStore, fmt, machine, measure, table, throughput } from './lib.js';

const DURATION = Number(process.env.BENCH_MS ?? 3000);
const COST = 10;

async function main() {
  console.log(`Machine: ${machine()}\nDuration per row: ${DURATION} ms; bcryptjs cost ${COST} (2^${COST} rounds), synchronous compare.
ops/s for SHA-256 and Keyward from an untimed loop; for bcrypt (too slow for batches) from the timed one.`);
  const secret = 'abcdefghijklmnopqrst'; // 20 alphanumerics, the secret part of a Harness NG token
  const sha = () => createHash('sha256').update(secret).digest();
  const base = { ...(await measure(sha, DURATION)), opsPerSec: await throughput(sha, DURATION) };

  const hash = bcrypt.hashSync(secret, COST);
  const bc = await measure(() => {
    if (!bcrypt.compareSync(secret, hash)) throw new Error('bcrypt mismatch');
  }, DURATION);

  const bs = await benchStore('sqlite');
  const services = createServices({ store: bs.store, clock: systemClock });
  const p = await provisionAccount(services.ctx, SYSTEM_CALLER, { accountName: 'bench', adminEmail: 'admin@bench.local' });
  await services.verification.verify(p.token);
  const kwVerify = () => services.verification.verify(p.token);
  const kw = { ...(await measure(kwVerify, DURATION)), opsPerSec: await throughput(kwVerify, DURATION) };
  await services.usage.stop();
  await bs.cleanup();

  const row = (name: string, r: { opsPerSec: number; p50: number; p99: number }) => [
    name,
    fmt(r.opsPerSec, r.opsPerSec < 100 ? 1 : 0),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    (r.p50 / base.p50).toFixed(r.p50 / base.p50 < 10 ? 2 : 0),
  ];
  table('bcrypt cost 10 vs SHA-256 vs Keyward verify (one core)', ['case', 'ops/s', 'p50 us', 'p99 us', 'p50 x SHA-256'], [
    row('SHA-256 of the secret (baseline)', base),
    row('keyward verify, cache hit', kw),
    row(`bcryptjs compare, cost ${COST}`, bc),
  ]);
  console.log(`\nOne bcrypt cost-${COST} check costs as much as ${fmt(bc.p50 / kw.p50)} Keyward cache-hit verifications.`);
}

await main();
