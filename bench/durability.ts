/**
 * Crash durability at length: a real `keyward serve` (dist/) under concurrent write load (service
 * accounts, API keys, tokens, rotations through Harness NG REST), killed with SIGKILL 20 times per
 * database and restarted on the same data each time. Reports acknowledged writes, requests cut off
 * by kills, writes lost (must be 0), half-made rows (must be 0) and restart times. The same check
 * runs with 3 kills in `npm test` (test/attack/durability.test.ts).
 *   npm run bench:durability
 * Env: BENCH_KILLS (default 20), BENCH_WORKERS (default 4).
 */
import { execFileSync } from 'node:child_process';
import { fmt, machine, percentile, pgReachable, pgUrl, table } from './lib.js';
import { runDurability, type DurabilityReport } from '../test/helpers/durability.js';

const KILLS = Number(process.env.BENCH_KILLS ?? 20);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);

async function main(): Promise<void> {
  // The server under test is always dist/ (a real process as operators run it).
  if (process.env.BENCH_SKIP_BUILD !== '1') execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  const reports: DurabilityReport[] = [];
  const started = Date.now();
  reports.push(await runDurability({ db: { kind: 'sqlite' }, kills: KILLS, workers: WORKERS, log: (l) => console.error(`[sqlite] ${l}`) }));
  if (await pgReachable()) {
    reports.push(await runDurability({ db: { kind: 'postgres', url: pgUrl()! }, kills: KILLS, workers: WORKERS, log: (l) => console.error(`[postgres] ${l}`) }));
  } else console.error('PostgreSQL not reachable: skipped');
  table(
    `kill -9 under write load (${KILLS} kills per database, ${WORKERS} writers; ${machine()})`,
    ['database', 'kills', 'acked SAs', 'acked keys', 'acked tokens', 'acked rotations', 'cut off', 'lost', 'half-made', 'restart p50 ms', 'restart max ms'],
    reports.map((r) => {
      const s = Float64Array.from(r.restartMs).sort();
      return [r.kind, r.kills, r.acknowledged.serviceAccounts, r.acknowledged.apiKeys, r.acknowledged.tokens, r.acknowledged.rotations, r.cutOff, r.lost.length, r.halfMade.length, fmt(percentile(s, 50)), fmt(s[s.length - 1] ?? NaN)];
    }),
  );
  for (const r of reports) for (const line of [...r.lost, ...r.halfMade]) console.log(`${r.kind}: ${line}`);
  console.log(`total ${Math.round((Date.now() - started) / 1000)} s`);
  if (reports.some((r) => r.lost.length > 0 || r.halfMade.length > 0)) process.exitCode = 1;
}

await main();
