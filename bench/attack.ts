/**
 * `npm run bench:attack`: the attack suite at full size (docs/attack-suite.md). Per database, a
 * whole Keyward over real HTTP gets 100,000 seeded fuzzed requests over every route of its route
 * table, then every race of test/attack/races.ts at 100 parallel requests. Prints a table:
 * requests, 5xx, hangs, limit overruns. Exits 1 when any of them is not zero.
 *
 *   npm run bench:attack -- [--requests 100000] [--races 100] [--seed 12] [--db sqlite,postgres] [--concurrency 8]
 */
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/server/config.js';
import { createKeyward } from '../src/server/keyward.js';
import { fuzz } from '../test/attack/fuzz.js';
import { makeFixture } from '../test/attack/fixture.js';
import { allRaces, overrun, type RaceOutcome } from '../test/attack/races.js';
import { benchStore, fmt, machine, pgReachable, table, tmpDir } from './lib.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    races: { type: 'string', default: '100' },
    seed: { type: 'string', default: '12' },
    db: { type: 'string', default: 'sqlite,postgres' },
    concurrency: { type: 'string', default: '8' },
  },
});
const REQUESTS = Number(values.requests);
const RACE_N = Number(values.races);
const SEED = Number(values.seed);
const CONCURRENCY = Number(values.concurrency);

interface DbRow {
  db: string;
  requests: number;
  fiveXx: number;
  hangs: number;
  races: RaceOutcome[];
  seconds: number;
}

async function run(kind: 'sqlite' | 'postgres'): Promise<DbRow> {
  const started = Date.now();
  const bs = await benchStore(kind);
  const dir = tmpDir('keyward-attack-');
  const silent = new Writable({ write: (_c, _e, cb) => cb() });
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', logLevel: 'fatal', dataDir: dir.dir, usageFlushMs: 60_000 });
  const keyward = await createKeyward({ config, store: bs.store, logStream: silent, announce: () => undefined });
  try {
    const url = await keyward.listen();
    const b = keyward.bootstrapped!;
    const admin = { baseUrl: url, token: b.token, accountId: b.account.id, userId: b.admin.id };
    const fixture = await makeFixture(admin);
    const f = await fuzz({ baseUrl: url, routes: keyward.app.routeTable, fixture, seed: SEED, requests: REQUESTS, concurrency: CONCURRENCY, timeoutMs: 15_000, refresh: () => makeFixture(admin).catch(() => fixture), refreshEvery: 5000 });
    for (const e of f.serverErrors.slice(0, 20)) console.error(`[${kind}] ${e.status} ${e.label} -> ${e.text}`);
    for (const h of f.hangs.slice(0, 20)) console.error(`[${kind}] hang ${h}`);
    const races: RaceOutcome[] = [];
    for (const [, race] of allRaces({ apiKeysPerParent: config.maxApiKeysPerParent, tokensPerApiKey: config.maxTokensPerApiKey })) {
      const o = await race(admin, RACE_N);
      for (const e of o.serverErrors.slice(0, 5)) console.error(`[${kind}] race ${o.name}: ${e}`);
      races.push(o);
    }
    return { db: kind, requests: f.requests, fiveXx: f.serverErrors.length, hangs: f.hangs.length, races, seconds: (Date.now() - started) / 1000 };
  } finally {
    await keyward.close();
    await bs.cleanup();
    dir.remove();
  }
}

const rows: DbRow[] = [];
for (const kind of values.db!.split(',') as Array<'sqlite' | 'postgres'>) {
  if (kind === 'postgres' && !(await pgReachable())) {
    console.error('PostgreSQL is not reachable: skipped');
    continue;
  }
  console.error(`[${kind}] ${fmt(REQUESTS)} fuzzed requests (seed ${SEED}, ${CONCURRENCY} at a time), then ${allRaces({ apiKeysPerParent: 0, tokensPerApiKey: 0 }).length} races of ${RACE_N}...`);
  rows.push(await run(kind));
}

console.log(`\nMachine: ${machine()}`);
table(
  `Attack suite: ${fmt(REQUESTS)} fuzzed requests per database (seed ${SEED}) and ${RACE_N}-way races`,
  ['database', 'fuzzed requests', '5xx', 'hangs', 'race requests', 'race 5xx', 'limit overruns', 'seconds'],
  rows.map((r) => [
    r.db,
    fmt(r.requests),
    r.fiveXx,
    r.hangs,
    fmt(r.races.reduce((n, o) => n + o.requests, 0)),
    r.races.reduce((n, o) => n + o.serverErrors.length, 0),
    r.races.filter(overrun).length,
    fmt(r.seconds, 0),
  ]),
);
for (const r of rows) {
  table(
    `Races on ${r.db}`,
    ['race', 'requests', 'statuses', 'after', 'limit', 'winners', '5xx'],
    r.races.map((o) => [o.name, o.requests, Object.entries(o.statuses).map(([s, n]) => `${s}x${n}`).join(' '), o.after, o.limit, o.wins, o.serverErrors.length]),
  );
}
const bad = rows.some((r) => r.fiveXx > 0 || r.hangs > 0 || r.races.some((o) => o.serverErrors.length > 0 || overrun(o)));
process.exit(bad ? 1 : 0);
