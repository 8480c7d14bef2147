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
import { benchStore, fmt, interleaved, machine, measure, pgReachable, shaMapBaseline, table } from './lib.js';

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
  console.log(`Machine: ${machine()}\nPer row: ${DURATION * 3} ms alternating the case with both baselines (6 rounds, medians), then ${DURATION / 2} ms timed per call; ${TOKENS} distinct tokens, round-robin.`);

  // Baseline: what any verifier must do at least (bench/lib.ts): one SHA-256 of the secret, one Map
  // lookup and a constant-time compare; and the SHA-256 alone.
  const { baseline, shaOnly, secrets } = shaMapBaseline(TOKENS);
  // The same hash as a Buffer (what the baseline and Keyward used before), for reference.
  let m = 0;
  const shaBuffer = () => digestSecret(secrets[m++ % TOKENS]!.slice(33));
  const baseLat = await measure(baseline, DURATION / 2);
  const shaLat = await measure(shaOnly, DURATION / 2);
  const rows: Array<Array<string | number>> = [];
  const targets: string[] = [];
  const ratio = (x: number) => x.toFixed(x < 0.1 ? 4 : 2);
  /** One row: `fn` interleaved with both baselines, so every ratio comes from the same moments. */
  const row = async (name: string, fn: () => unknown, ms: number) => {
    const [b, sha, r] = await interleaved([baseline, shaOnly, fn], ms * 3);
    const lat = await measure(fn, ms / 2);
    rows.push([name, fmt(r!.ops), ratio(r!.ratio), ratio(r!.ratio / sha!.ratio), fmt(lat.p50, 2), fmt(lat.p99, 2), fmt(b!.ops)]);
    return { ops: r!.ops, lat, vsBase: r!.ratio, vsSha: r!.ratio / sha!.ratio };
  };
  const b0 = await interleaved([baseline, shaOnly], DURATION * 2);
  rows.push(['baseline: SHA-256 + Map lookup', fmt(b0[0]!.ops), '1.00', ratio(1 / b0[1]!.ratio), fmt(baseLat.p50, 2), fmt(baseLat.p99, 2), fmt(b0[0]!.ops)]);
  rows.push(['SHA-256 of the secret alone', fmt(b0[1]!.ops), ratio(b0[1]!.ratio), '1.00', fmt(shaLat.p50, 2), fmt(shaLat.p99, 2), fmt(b0[0]!.ops)]);
  await row('SHA-256 of the secret as a Buffer (the earlier baseline\'s hash)', shaBuffer, DURATION);

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
    const hit = await row(`keyward cache hit, verifyCached (${kind})`, verifyCached, DURATION);
    targets.push(
      `${kind}: verifyCached ${hit.vsBase.toFixed(2)}x SHA-256 + Map (target 0.6x: ${hit.vsBase >= 0.6 ? 'met' : `missed by ${(0.6 - hit.vsBase).toFixed(2)}x`}), measured in alternation; ` +
        `${fmt(hit.ops)}/s, p99 ${fmt(hit.lat.p99, 2)} us (the design notes' absolute aim, 1,000,000/s with p99 <= 2 us: ${hit.ops >= 1e6 && hit.lat.p99 <= 2 ? 'met' : 'missed'}); ${hit.vsSha.toFixed(2)}x SHA-256 alone.`,
    );
    await row(`keyward cache hit, await verify (${kind})`, verify, DURATION);

    // A true miss: a service whose cache holds one entry, so round-robin over the tokens never hits;
    // the token is read (one statement), its principal's permissions stay cached.
    const small = createServices({ store: bs.store, clock: systemClock, cache: { maxEntries: 1 } });
    const verifyMiss = () => small.verification.verify(tokens[i++ % TOKENS]!);
    for (let w = 0; w < 200; w++) await verifyMiss();
    await row(`keyward cache miss: token read, permissions cached (${kind})`, verifyMiss, Math.min(DURATION, 2000));
    await small.usage.stop();

    // Nothing cached at all (as while a node's invalidation listener is down): token and permission reads.
    v.cache.enabled = false;
    await row(`keyward cache disabled: token + permission reads (${kind})`, verify, Math.min(DURATION, 2000));
    v.cache.enabled = true;
    await services.usage.stop();
    await bs.cleanup();
  }
  table('In-process verification (one core; ratios from runs alternating with both baselines)', ['case', 'ops/s', 'x SHA-256 + Map', 'x SHA-256 alone', 'p50 us', 'p99 us', 'baseline ops/s then'], rows);
  console.log('\nTargets (cache hit >= 0.6x SHA-256 + Map, same run):');
  for (const t of targets) console.log(`  ${t}`);
}

await main();
