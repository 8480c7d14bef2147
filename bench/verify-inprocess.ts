/**
 * In-process verification: cache hit and cache miss, on SQLite and PostgreSQL, against a baseline
 * of one SHA-256 plus one Map lookup measured in the same run.
 *   npm run bench:verify
 */
import { digestSecret } from '../src/domain/tokens.js';
import { systemClock } from '../src/domain/clock.js';
import { createServices } from '../src/services/index.js';
import { SYSTEM_CALLER } from '../src/services/context.js';
import { provisionAccount } from '../src/services/provisioning.js';
import { benchStore, fmt, machine, measure, pgReachable, table, throughput } from './lib.js';

const DURATION = Number(process.env.BENCH_MS ?? 3000);
const TOKENS = 1000;

async function setup(kind: 'sqlite' | 'postgres') {
  const bs = await benchStore(kind);
  const services = createServices({ store: bs.store, clock: systemClock, limits: { apiKeysPerParent: 1000, tokensPerApiKey: 10_000 }, cache: { maxEntries: 1_000_000 } });
  const p = await provisionAccount(services.ctx, SYSTEM_CALLER, { accountName: 'bench', adminEmail: `admin-${kind}@bench.local` });
  const actor = { actor: { type: 'USER' as const, id: p.admin.id, accountId: p.account.id, isOperator: false, via: { apiKeyId: null, tokenId: null } } };
  const owner = { scope: p.apiKey.scope, type: 'USER' as const, parentIdentifier: p.admin.id };
  const tokens: string[] = [];
  for (let i = 0; i < TOKENS; i++) {
    const issued = await services.tokens.create(actor, owner, { identifier: `t${i}`, name: `t${i}`, apiKeyIdentifier: 'admin' });
    tokens.push(issued.secret);
  }
  return { bs, services, tokens };
}

async function main() {
  console.log(`Machine: ${machine()}\nDuration per row: ${DURATION} ms; ${TOKENS} distinct tokens, round-robin.`);

  // Baseline: what any verifier must do at least, one SHA-256 of the secret and one Map lookup.
  const map = new Map<string, Buffer>();
  const secrets: string[] = [];
  for (let i = 0; i < TOKENS; i++) {
    const s = `pat.acc.${i.toString(16).padStart(24, '0')}.abcdefghijklmnopqrst`;
    secrets.push(s);
    map.set(s.slice(8, 32), digestSecret(s.slice(33)));
  }
  let j = 0;
  const baseline = () => {
    const s = secrets[j++ % TOKENS]!;
    const d = digestSecret(s.slice(33));
    return map.get(s.slice(8, 32))!.equals(d);
  };
  const baseOps = await throughput(baseline, DURATION);
  const baseLat = await measure(baseline, DURATION);
  const rows: Array<Array<string | number>> = [['baseline: SHA-256 + Map lookup', fmt(baseOps), '1.00', fmt(baseLat.p50, 2), fmt(baseLat.p99, 2)]];
  // The floor under any verifier that does not keep plaintext tokens: the SHA-256 alone.
  let k = 0;
  const shaOnly = () => digestSecret(secrets[k++ % TOKENS]!.slice(33));
  const shaOps = await throughput(shaOnly, DURATION);
  const shaLat = await measure(shaOnly, DURATION);
  rows.push(['SHA-256 of the secret alone', fmt(shaOps), (shaOps / baseOps).toFixed(2), fmt(shaLat.p50, 2), fmt(shaLat.p99, 2)]);
  const targets: string[] = [];

  const kinds: Array<'sqlite' | 'postgres'> = ['sqlite'];
  if (await pgReachable()) kinds.push('postgres');
  else console.log('PostgreSQL not reachable: its rows are skipped.');

  for (const kind of kinds) {
    const { bs, services, tokens } = await setup(kind);
    const v = services.verification;
    let i = 0;
    const verify = () => v.verify(tokens[i++ % TOKENS]!);
    const verifyCached = () => v.verifyCached(tokens[i++ % TOKENS]!);
    for (const t of tokens) await v.verify(t); // warm
    const hitOps = await throughput(verifyCached, DURATION);
    const hitLat = await measure(verifyCached, DURATION);
    rows.push([`keyward cache hit, verifyCached (${kind})`, fmt(hitOps), (hitOps / baseOps).toFixed(2), fmt(hitLat.p50, 2), fmt(hitLat.p99, 2)]);
    targets.push(
      `${kind}: verifyCached ${fmt(hitOps)}/s (target 1,000,000: ${hitOps >= 1e6 ? 'met' : `missed, ${(hitOps / 1e6).toFixed(2)}x`}), p99 ${fmt(hitLat.p99, 2)} us (target 2: ${hitLat.p99 <= 2 ? 'met' : 'missed'}); ` +
        `${(hitOps / shaOps).toFixed(2)}x SHA-256 alone, ${(hitOps / baseOps).toFixed(2)}x SHA-256 + Map.`,
    );
    const asyncOps = await throughput(verify, DURATION);
    const asyncLat = await measure(verify, DURATION);
    rows.push([`keyward cache hit, await verify (${kind})`, fmt(asyncOps), (asyncOps / baseOps).toFixed(2), fmt(asyncLat.p50, 2), fmt(asyncLat.p99, 2)]);

    // A true miss: a service whose cache holds one entry, so round-robin over the tokens never hits;
    // the token is read (one statement), its principal's permissions stay cached.
    const small = createServices({ store: bs.store, clock: systemClock, cache: { maxEntries: 1 } });
    const verifyMiss = () => small.verification.verify(tokens[i++ % TOKENS]!);
    for (let w = 0; w < 200; w++) await verifyMiss();
    const missOps = await throughput(verifyMiss, Math.min(DURATION, 2000));
    const missLat = await measure(verifyMiss, Math.min(DURATION, 2000));
    rows.push([`keyward cache miss: token read, permissions cached (${kind})`, fmt(missOps), (missOps / baseOps).toFixed(4), fmt(missLat.p50, 2), fmt(missLat.p99, 2)]);
    await small.usage.stop();

    // Nothing cached at all (as while a node's invalidation listener is down): token and permission reads.
    v.cache.enabled = false;
    const offOps = await throughput(verify, Math.min(DURATION, 2000));
    const offLat = await measure(verify, Math.min(DURATION, 2000));
    rows.push([`keyward cache disabled: token + permission reads (${kind})`, fmt(offOps), (offOps / baseOps).toFixed(4), fmt(offLat.p50, 2), fmt(offLat.p99, 2)]);
    v.cache.enabled = true;
    await services.usage.stop();
    await bs.cleanup();
  }
  table('In-process verification (one core)', ['case', 'ops/s', 'x baseline', 'p50 us', 'p99 us'], rows);
  console.log('\nTargets (cache hit >= 1,000,000/s, p99 <= 2 us):');
  for (const t of targets) console.log(`  ${t}`);
}

await main();
