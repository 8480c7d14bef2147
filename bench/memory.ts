/**
 * Memory of the verification cache: bytes per cached entry, and the heap with 1,000,000 entries.
 * A sample of entries is made through the real path (tokens created through the services,
 * verified, so `VerificationService` builds and caches its Lookup: the digest, the validity window
 * and the frozen Verified answer, sharing its principal, scope and permissions with its principal's
 * other tokens); the rest are made from credential records cloned from a sample row with distinct
 * ids and freshly allocated strings (as a database read gives them), turned into entries by the
 * service's own `lookupOf` and stored through the same `VerificationCache.set` with the same
 * invalidation indexes. Baseline, same run: a bare
 * Map from token id to its 32-byte digest (the least a verifier can hold).
 *   npm run bench:memory   (node --expose-gc --max-old-space-size=8192 --import tsx bench/memory.ts)
 * Env: BENCH_ENTRIES (default 1000000), BENCH_SAMPLE (real-path entries, default 2000).
 */
import { randomUUID } from 'node:crypto';
import { systemClock } from '../src/domain/clock.js';
import { createServices } from '../src/services/index.js';
import { SYSTEM_CALLER } from '../src/services/context.js';
import { provisionAccount } from '../src/services/provisioning.js';
import type { CacheSlot, VerificationCache } from '../src/services/verificationCache.js';
import { credentialsOf, type Lookup } from '../src/services/cachedCredentials.js';
import { credentialByTokenId } from '../src/store/credentials.js';
import { benchStore, fmt, machine, table } from './lib.js';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const SAMPLE = Number(process.env.BENCH_SAMPLE ?? 2000);
const TOKENS_PER_KEY = Number(process.env.BENCH_PER_KEY ?? 4);
const TOKENS_PER_PRINCIPAL = Number(process.env.BENCH_PER_PRINCIPAL ?? 10);
const TOKENS_PER_ACCOUNT = 1000;

/** A cache slot as VerificationCache holds it (its map is private; the bench reads one sample). */
type Slot = CacheSlot<Lookup>;

const gc = (globalThis as { gc?: () => void }).gc;

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage();
}

/**
 * A flat, freshly allocated copy of a string, as a database read would give (not a slice or a rope).
 * Not through Buffer: its pool would interleave these temporaries with the digests in the same slabs.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const fresh = (s: string): string => decoder.decode(encoder.encode(s));
const hex = (n: number, width: number): string => fresh(n.toString(16).padStart(width, '0'));

function freshStrings<T extends object>(o: T): T {
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) if (typeof r[k] === 'string') r[k] = fresh(r[k] as string);
  return o;
}

interface Delta {
  heap: number;
  external: number;
  rss: number;
}
const delta = (a: NodeJS.MemoryUsage, b: NodeJS.MemoryUsage): Delta => ({ heap: b.heapUsed - a.heapUsed, external: b.external - a.external, rss: b.rss - a.rss });

async function main() {
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:memory does)');
  console.log(`Machine: ${machine()}`);
  console.log(`${fmt(ENTRIES)} entries (${TOKENS_PER_KEY} tokens per API key, ${TOKENS_PER_PRINCIPAL} per principal, ${TOKENS_PER_ACCOUNT} per account); real-path sample of ${fmt(SAMPLE)}.`);

  // Baseline: token id -> 32-byte digest, the least any verifier must hold, measured first.
  const m0 = settle();
  let bare: Map<string, Buffer> | null = new Map();
  for (let i = 0; i < ENTRIES; i++) bare.set(hex(i, 24), Buffer.from(hex(i, 64), 'hex'));
  const m1 = settle();
  const base = delta(m0, m1);
  if (bare.size !== ENTRIES) throw new Error('baseline map lost entries');
  bare = null;
  settle();

  // The real path: tokens created through the services, each verified once (a cache miss that builds the entry).
  const bs = await benchStore('sqlite');
  const services = createServices({ store: bs.store, clock: systemClock, limits: { apiKeysPerParent: 1000, tokensPerApiKey: 10_000 }, cache: { maxEntries: ENTRIES + SAMPLE + 10 } });
  const p = await provisionAccount(services.ctx, SYSTEM_CALLER, { accountName: 'bench', adminEmail: 'admin@bench.local' });
  const caller = { actor: { type: 'USER' as const, id: p.admin.id, accountId: p.account.id, isOperator: false, via: { apiKeyId: null, tokenId: null } } };
  const owner = { scope: p.apiKey.scope, type: 'USER' as const, parentIdentifier: p.admin.id };
  const tokens: string[] = [];
  for (let i = 0; i < SAMPLE; i++) {
    const key = `k${Math.floor(i / 100)}`;
    tokens.push((await services.tokens.create(caller, owner, { identifier: `t${i}`, name: `t${i}`, apiKeyIdentifier: key }, { autoCreateKey: true })).secret);
  }
  const v = services.verification;
  const cache = v.cache as unknown as VerificationCache<Lookup>;
  const slots = (cache as unknown as { map: Map<string, Slot> }).map;
  await v.verify(tokens[0]!); // compile the paths before measuring
  cache.clear();
  await services.usage.flush();
  const r0 = settle();
  for (const t of tokens) if (!(await v.verify(t)).valid) throw new Error('sample token did not verify');
  await services.usage.flush(); // the last-used buffer is not the cache
  const r1 = settle();
  const real = delta(r0, r1);
  if (cache.size !== SAMPLE) throw new Error(`expected ${SAMPLE} cached entries, found ${cache.size}`);

  // The sample's shape, cloned with distinct ids for the rest.
  const [sampleKey, sampleSlot] = slots.entries().next().value as [string, Slot];
  const sample = credentialsOf(sampleSlot.value!)[0]!;
  const sampleRecord = (await credentialByTokenId(bs.store.db, sample.verified.tokenId))!;
  const perms = sample.verified.permissions;
  console.log(`Sample entry: key "${sampleKey.slice(0, 4)}...", principal ${sample.verified.principal.type}, ${perms.length} permissions, ${sample.verified.format} token.`);
  let serial = 0;
  /** Adds `count` entries shaped like the sample, `perKey` tokens per API key (and so on), all ids distinct from earlier calls. */
  const fill = (count: number, perKey: number, perPrincipal: number, perAccount: number) => {
    let keyId = '';
    let principalId = '';
    let accountId = '';
    let principalPerms: readonly string[] = perms;
    for (let i = 0; i < count; i++) {
      const n = serial++;
      if (i % perKey === 0) keyId = randomUUID();
      if (i % perPrincipal === 0) {
        principalId = fresh(`u${hex(n, 21)}`);
        principalPerms = Object.freeze([...new Set(perms)].sort()) as readonly string[]; // one array per principal (effectivePermissions answers a Set)
      }
      if (i % perAccount === 0) accountId = fresh(`a${hex(n, 21)}`);
      const tokenId = hex(n, 24);
      const digestHex = hex(n, 64);
      // Same hidden classes as the real objects (spread copies them), with every string field freshly
      // allocated, as a database read allocates them.
      const record = freshStrings({ ...sampleRecord });
      record.tokenId = tokenId;
      record.apiKeyId = fresh(keyId);
      record.secretDigest = digestHex;
      record.accountId = fresh(accountId);
      record.userId = fresh(principalId);
      record.principalIdentifier = record.userId; // one column read twice, as toRecord does for a user
      const { lookup, meta } = v.lookupOf([record], () => principalPerms);
      cache.set(tokenId, lookup, meta, cache.epoch);
    }
  };

  // Check the cloning against the real path: the sample's count, with the sample's own layout
  // (one principal and one account, 100 tokens per key).
  cache.clear();
  const k0 = settle();
  fill(SAMPLE, 100, SAMPLE, SAMPLE);
  const k1 = settle();
  const check = delta(k0, k1);
  cache.clear();

  const c0 = settle();
  fill(ENTRIES, TOKENS_PER_KEY, TOKENS_PER_PRINCIPAL, TOKENS_PER_ACCOUNT);
  const c1 = settle();
  const clones = delta(c0, c1);
  if (cache.size !== ENTRIES) throw new Error(`cache holds ${cache.size}, expected ${ENTRIES}`);
  for (const t of tokens) await v.verify(t); // the real tokens back in, for the speed check below
  await services.usage.flush();

  // Still fast with a million entries? (real tokens, cache hits)
  let j = 0;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 1000) {
    for (let i = 0; i < 1000; i++) v.verifyCached(tokens[j++ % SAMPLE]!);
    n += 1000;
  }
  const hitRate = n / ((performance.now() - t0) / 1000);

  const per = (d: Delta, count: number) => (d.heap + d.external) / count;
  const basePer = per(base, ENTRIES);
  const realPer = per(real, SAMPLE);
  const clonePer = per(clones, ENTRIES);
  const mib = (b: number) => fmt(b / 2 ** 20, 0);
  const row = (name: string, d: Delta, count: number) => [
    name,
    fmt(count),
    fmt(d.heap / count),
    fmt(d.external / count),
    fmt(per(d, count)),
    (per(d, count) / basePer).toFixed(2),
    mib(d.heap + d.external),
    mib(d.rss),
  ];
  table('Verification cache memory (after gc)', ['case', 'entries', 'heap B/entry', 'external B/entry', 'total B/entry', 'x baseline', 'total MiB', 'RSS delta MiB'], [
    row('baseline: Map<token id, 32-byte digest Buffer>', base, ENTRIES),
    row('keyward entries through the real path (sample)', real, SAMPLE),
    row('keyward entries cloned, laid out as the sample (check)', check, SAMPLE),
    row(`keyward entries cloned, ${TOKENS_PER_KEY}/key, ${TOKENS_PER_PRINCIPAL}/principal, ${TOKENS_PER_ACCOUNT}/account`, clones, ENTRIES),
  ]);
  const after = process.memoryUsage();
  console.log(`\nProcess with ${fmt(cache.size)} cached entries: heapUsed ${mib(after.heapUsed)} MiB, external ${mib(after.external)} MiB, RSS ${mib(after.rss)} MiB.`);
  console.log(`Scaled by the real-path figure instead: ${fmt(ENTRIES)} entries ~ ${mib(realPer * ENTRIES)} MiB.`);
  console.log(`At the default KEYWARD_CACHE_MAX_ENTRIES (100,000): about ${mib(clonePer * 100_000)} to ${mib(realPer * 100_000)} MiB.`);
  console.log(`verifyCached with ${fmt(cache.size)} entries cached: ${fmt(hitRate)} verifications/s.`);
  cache.clear();
  await services.usage.stop();
  await bs.cleanup();
}

await main();
