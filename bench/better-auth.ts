/**
 * Keyward against better-auth's API-key plugin (@better-auth/api-key, better-auth >= 1.4), both
 * in process on SQLite files (better-sqlite3) on the same machine, in the same run, N keys each,
 * round-robin. better-auth's rate limit is off (plugin and global); its verify is
 * `auth.api.verifyApiKey({ body: { key } })`. Keyward: `services.verification.verify()` with the
 * cache warm, and with the cache disabled (a database read per verify, as better-auth does).
 *   npm run bench:better-auth
 * Env: BENCH_MS (per row, default 3000), BENCH_KEYS (default 1000).
 */
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { apiKey } from '@better-auth/api-key';
import { systemClock } from '../src/domain/clock.js';
import { createServices } from '../src/services/index.js';
import { SYSTEM_CALLER } from '../src/services/context.js';
import { provisionAccount } from '../src/services/provisioning.js';
import { benchStore, fmt, machine, measure, table, throughput, tmpDir } from './lib.js';

const DURATION = Number(process.env.BENCH_MS ?? 3000);
const KEYS = Number(process.env.BENCH_KEYS ?? 1000);

/** better-auth on a fresh SQLite file; `deferUpdates` moves its per-verify write off the answer's path. */
async function betterAuthSetup(file: string, deferUpdates: boolean) {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const background: Promise<unknown>[] = [];
  const auth = betterAuth({
    database: db,
    secret: 'keyward-bench-5c0f1e2d3b4a69788796a5b4c3d2e1f0',
    baseURL: 'http://127.0.0.1:3000',
    emailAndPassword: { enabled: true },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { disabled: true },
    ...(deferUpdates ? { advanced: { backgroundTasks: { handler: (p: Promise<unknown>) => void background.push(p) } } } : {}),
    plugins: [apiKey({ rateLimit: { enabled: false }, deferUpdates })],
  });
  await (await getMigrations(auth.options)).runMigrations();
  const user = await auth.api.signUpEmail({ body: { email: 'bench@example.com', password: 'bench-password-123', name: 'bench' } });
  const keys: string[] = [];
  for (let i = 0; i < KEYS; i++) keys.push((await auth.api.createApiKey({ body: { userId: user.user.id, name: `k${i}` } })).key);
  let i = 0;
  const verify = async () => {
    const r = await auth.api.verifyApiKey({ body: { key: keys[i++ % KEYS]! } });
    if (!r.valid) throw new Error(`better-auth rejected its own key: ${JSON.stringify(r.error)}`);
  };
  return {
    verify,
    async close() {
      while (background.length > 0) await Promise.allSettled(background.splice(0));
      db.close();
    },
  };
}

async function keywardSetup() {
  const bs = await benchStore('sqlite');
  const services = createServices({ store: bs.store, clock: systemClock, limits: { apiKeysPerParent: 1000, tokensPerApiKey: 10_000 } });
  const p = await provisionAccount(services.ctx, SYSTEM_CALLER, { accountName: 'bench', adminEmail: 'admin@bench.local' });
  const caller = { actor: { type: 'USER' as const, id: p.admin.id, accountId: p.account.id, isOperator: false, via: { apiKeyId: null, tokenId: null } } };
  const owner = { scope: p.apiKey.scope, type: 'USER' as const, parentIdentifier: p.admin.id };
  const tokens: string[] = [];
  for (let i = 0; i < KEYS; i++) tokens.push((await services.tokens.create(caller, owner, { identifier: `t${i}`, name: `t${i}`, apiKeyIdentifier: 'admin' })).secret);
  let i = 0;
  const verify = async () => {
    const r = await services.verification.verify(tokens[i++ % KEYS]!);
    if (!r.valid) throw new Error(`keyward rejected its own token: ${r.reason}`);
  };
  for (const t of tokens) await services.verification.verify(t);
  return {
    services,
    verify,
    async close() {
      await services.usage.stop();
      await bs.cleanup();
    },
  };
}

async function main() {
  console.log(`Machine: ${machine()}\nDuration per row: ${DURATION} ms; ${KEYS} distinct keys per system, round-robin; SQLite files (WAL) on the same disk.`);
  const tmp = tmpDir('keyward-bench-ba-');
  const rows: Array<Array<string | number>> = [];
  try {
    const ba = await betterAuthSetup(path.join(tmp.dir, 'better-auth.db'), false);
    await ba.verify(); // warm the JIT
    const baOps = await throughput(ba.verify, DURATION);
    const baLat = await measure(ba.verify, DURATION);
    await ba.close();
    const row = (name: string, ops: number, lat: { p50: number; p99: number }) => [name, fmt(ops), (ops / baOps).toFixed(2), fmt(lat.p50, 1), fmt(lat.p99, 1)];
    rows.push(row('better-auth 1.7.5 verifyApiKey (baseline)', baOps, baLat));

    const baDeferred = await betterAuthSetup(path.join(tmp.dir, 'better-auth-deferred.db'), true);
    await baDeferred.verify();
    const badOps = await throughput(baDeferred.verify, DURATION);
    const badLat = await measure(baDeferred.verify, DURATION);
    await baDeferred.close();
    rows.push(row('better-auth verifyApiKey, deferUpdates on', badOps, badLat));

    const kw = await keywardSetup();
    const hitOps = await throughput(kw.verify, DURATION);
    const hitLat = await measure(kw.verify, DURATION);
    rows.push(row('keyward verify, cache hit', hitOps, hitLat));
    kw.services.verification.cache.enabled = false;
    const missOps = await throughput(kw.verify, DURATION);
    const missLat = await measure(kw.verify, DURATION);
    rows.push(row('keyward verify, cache disabled (SQLite read)', missOps, missLat));
    kw.services.verification.cache.enabled = true;
    await kw.close();

    table('Keyward vs better-auth API keys, in process, SQLite', ['case', 'ops/s', 'x better-auth', 'p50 us', 'p99 us'], rows);
    const ratio = hitOps / baOps;
    console.log(`\nTarget: keyward >= 20x better-auth: ${ratio >= 20 ? 'met' : 'MISSED'} (${ratio.toFixed(1)}x with the cache, ${(missOps / baOps).toFixed(1)}x without).`);
  } finally {
    tmp.remove();
  }
}

await main();
