/**
 * Management at scale, on SQLite and PostgreSQL:
 *  1. tokens created per second through `services.tokens.create` (transaction, checks, insert,
 *     audit event), against a bare one-row insert transaction on the same store (the baseline);
 *  2. with 1,000,000 tokens in the database (1,000 API keys under 100 service accounts, loaded
 *     with bulk inserts straight into the tables), the latency of listing a page of 100 tokens
 *     exactly as the Harness NG route does (`store/tokens.ts listTokens`, updatedAt desc): one
 *     key's page, one service account's page, and the whole account's SERVICE_ACCOUNT tokens.
 *     The page query and its count(*) (totalItems) are also timed apart, the query plans are
 *     printed, and the same lists are timed again without migration 0004's indexes, to show
 *     what they buy. Baseline: a primary-key read of one token on the same store.
 *   npm run bench:management
 * Env: BENCH_TOKENS (default 1000000), BENCH_MS (create phase per store, default 5000),
 *      BENCH_LIST_ITERATIONS (per case, default 300), BENCH_DB (sqlite, postgres or both).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { systemClock } from '../src/domain/clock.js';
import type { Token } from '../src/domain/model.js';
import type { Scope } from '../src/domain/scope.js';
import { createServices } from '../src/services/index.js';
import { SYSTEM_CALLER } from '../src/services/context.js';
import { provisionAccount } from '../src/services/provisioning.js';
import type { Store } from '../src/store/database.js';
import type { Database } from '../src/store/schema.js';
import { insertToken, listTokens, getTokenById, type TokenFilter } from '../src/store/tokens.js';
import type { ListQuery } from '../src/store/rows.js';
import { benchStore, fmt, machine, percentile, pgReachable, table } from './lib.js';

const TOTAL = Number(process.env.BENCH_TOKENS ?? 1_000_000);
const CREATE_MS = Number(process.env.BENCH_MS ?? 5000);
const LIST_ITERATIONS = Number(process.env.BENCH_LIST_ITERATIONS ?? 300);
const LIST_MS = 8000; // time bound per case and statement (half that for each statement timed apart)
const SERVICE_ACCOUNTS = 100;
const KEYS_PER_SA = 10;
const KEYS = SERVICE_ACCOUNTS * KEYS_PER_SA;
const PER_KEY = Math.max(1, Math.floor(TOTAL / KEYS));
const VIA_SERVICES = 5; // service accounts (and their keys) made through the services; the rest in bulk
/** Indexes added by migration 0004 for these lists (dropped for the "without" rows). */
const NEW_INDEXES = ['tokens_list_by_key', 'tokens_list_by_parent', 'tokens_list_by_scope'];

type Kind = 'sqlite' | 'postgres';

interface Lat {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Times `fn` (ms) up to `n` times or `ms` milliseconds, after two warm-up calls. */
async function time(fn: () => Promise<unknown>, n: number, ms: number): Promise<Lat> {
  await fn();
  await fn();
  const xs: number[] = [];
  const end = performance.now() + ms;
  while (xs.length < n && performance.now() < end) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  const s = Float64Array.from(xs).sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/** The two statements listTokens runs (page and count), built the same way, for timing apart and EXPLAIN. */
function listQueries(db: Kysely<Database>, f: TokenFilter, q: ListQuery) {
  const c = { account_id: f.scope.accountId, org_id: f.scope.orgId ?? '', project_id: f.scope.projectId ?? '' };
  let base = db
    .selectFrom('tokens')
    .where('account_id', '=', c.account_id)
    .where('org_id', '=', c.org_id)
    .where('project_id', '=', c.project_id)
    .where('api_key_type', '=', f.apiKeyType);
  if (f.parentIdentifier !== undefined) base = base.where('parent_identifier', '=', f.parentIdentifier);
  if (f.apiKeyIdentifier !== undefined) base = base.where('api_key_identifier', '=', f.apiKeyIdentifier);
  const page = base.selectAll().orderBy('updated_at', 'desc').orderBy('id').offset(q.offset).limit(q.limit);
  const count = base.select((eb) => eb.fn.countAll<number>().as('n'));
  return { page, count };
}

async function explain(store: Store, compiled: { sql: string; parameters: readonly unknown[] }): Promise<string> {
  if (store.dialect === 'sqlite') {
    const rows = store.sqlite!.prepare(`explain query plan ${compiled.sql}`).all(...(compiled.parameters as unknown[])) as Array<{ detail: string }>;
    return rows.map((r) => `    ${r.detail}`).join('\n');
  }
  const r = await sql.raw<{ 'QUERY PLAN': string }>(`explain (analyze, buffers off, timing off, costs off) ${inline(compiled)}`).execute(store.db);
  return r.rows.map((x) => `    ${x['QUERY PLAN']}`).join('\n');
}

/** PostgreSQL EXPLAIN takes no bind parameters here: inline them (bench-made values only, quoted). */
function inline(c: { sql: string; parameters: readonly unknown[] }): string {
  return c.sql.replace(/\$(\d+)/g, (_, i: string) => {
    const v = c.parameters[Number(i) - 1];
    return typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`;
  });
}

/** The tokens table's indexes that no constraint owns, with the statement that makes each. */
async function secondaryTokenIndexes(store: Store): Promise<Array<{ name: string; definition: string }>> {
  if (store.dialect === 'sqlite') {
    const rows = store.sqlite!.prepare(`select name, sql from sqlite_master where type = 'index' and tbl_name = 'tokens' and sql is not null`).all() as Array<{ name: string; sql: string }>;
    return rows.map((r) => ({ name: r.name, definition: r.sql }));
  }
  const r = await sql<{ name: string; definition: string }>`
    select i.indexname as name, i.indexdef as definition from pg_indexes i
    where i.schemaname = current_schema() and i.tablename = 'tokens'
      and not exists (select 1 from pg_constraint c where c.conname = i.indexname and c.connamespace = (select oid from pg_namespace where nspname = current_schema()))`.execute(store.db);
  return r.rows;
}

async function bulkLoad(store: Store, accountId: string, now: number, log: (s: string) => void): Promise<void> {
  const db = store.db;
  // Service accounts 0..VIA_SERVICES-1 and their keys already exist (made through the services).
  const saRows: string[][] = [];
  for (let s = VIA_SERVICES; s < SERVICE_ACCOUNTS; s++) saRows.push([randomUUID(), `sa${s}`]);
  await store.transaction(async (tx) => {
    for (const [id, ident] of saRows) {
      await sql`insert into service_accounts (id, account_id, org_id, project_id, identifier, name, email, description, tags, active, created_at, updated_at)
        values (${id}, ${accountId}, '', '', ${ident}, ${ident}, ${`${ident}@service.harness.io`}, '', '{}', 1, ${now}, ${now})`.execute(tx);
    }
    const keyRows: Array<[string, string, string, string]> = [];
    for (const [saId, ident] of saRows) for (let k = 0; k < KEYS_PER_SA; k++) keyRows.push([randomUUID(), `${ident}_k${k}`, ident!, saId!]);
    for (let i = 0; i < keyRows.length; i += 200) {
      const chunk = keyRows.slice(i, i + 200);
      const values = sql.join(
        chunk.map(([id, ident, parent, saId]) => sql`(${id}, ${accountId}, '', '', ${ident}, ${ident}, '', '{}', 'SERVICE_ACCOUNT', ${parent}, null, ${saId}, ${2_592_000_000}, 1, 'harness_ng', ${now}, ${now})`),
      );
      await sql`insert into api_keys (id, account_id, org_id, project_id, identifier, name, description, tags, api_key_type, parent_identifier, user_id, service_account_id, default_ttl_ms, active, flavor, created_at, updated_at)
        values ${values}`.execute(tx);
    }
  });

  // Secondary indexes of tokens are dropped for the load and built again after it (a sorted build is
  // many times faster than a million ordered inserts into each index); the lists then run on the same
  // indexes a deployment has. Indexes behind constraints (primary key, unique) stay.
  const indexes = await secondaryTokenIndexes(store);
  for (const ix of indexes) await sql`drop index ${sql.id(ix.name)}`.execute(db);

  // Tokens: PER_KEY per key, generated inside the database, in chunks of 50 keys per transaction.
  const keys = await db
    .selectFrom('api_keys')
    .select(['id'])
    .where('account_id', '=', accountId)
    .where('api_key_type', '=', 'SERVICE_ACCOUNT')
    .orderBy('id')
    .execute();
  const t0 = performance.now();
  const spread = 30 * 24 * 3600 * 1000;
  for (let i = 0; i < keys.length; i += 50) {
    const ids = keys.slice(i, i + 50).map((k) => k.id);
    if (store.dialect === 'sqlite') {
      const raw = store.sqlite!;
      const stmt = raw.prepare(`
        with recursive g(x) as (select 1 union all select x + 1 from g where x < @per)
        insert into tokens (id, api_key_id, account_id, org_id, project_id, identifier, name, description, tags, api_key_type,
          parent_identifier, api_key_identifier, format, secret_digest, valid_from, valid_to, scheduled_expire_at, rotated_at,
          encrypted_value, last_used_at, last_used_ip, last_used_user_agent, created_at, updated_at)
        select lower(hex(randomblob(12))), k.id, k.account_id, k.org_id, k.project_id, 't' || g.x, 't' || g.x, '', '{}', k.api_key_type,
          k.parent_identifier, k.identifier, 'harness_ng', lower(hex(randomblob(32))), @now - @spread, @now + @spread, null, null,
          null, null, null, null, @now - abs(random() % @spread), @now - abs(random() % @spread)
        from api_keys k, g
        where k.id in (${ids.map((_, j) => `@k${j}`).join(',')})`);
      raw.transaction(() => stmt.run({ now, spread, per: PER_KEY, ...Object.fromEntries(ids.map((id, j) => [`k${j}`, id])) }))();
    } else {
      await sql`
        insert into tokens (id, api_key_id, account_id, org_id, project_id, identifier, name, description, tags, api_key_type,
          parent_identifier, api_key_identifier, format, secret_digest, valid_from, valid_to, scheduled_expire_at, rotated_at,
          encrypted_value, last_used_at, last_used_ip, last_used_user_agent, created_at, updated_at)
        select substr(md5(k.id || ':' || g), 1, 24), k.id, k.account_id, k.org_id, k.project_id, 't' || g, 't' || g, '', '{}', k.api_key_type,
          k.parent_identifier, k.identifier, 'harness_ng', md5(k.id || ':' || g) || md5(g || ':' || k.id), ${now - spread}::bigint, ${now + spread}::bigint, null, null,
          null, null, null, null, ${now}::bigint - (random() * ${spread})::bigint, ${now}::bigint - (random() * ${spread})::bigint
        from api_keys k
        cross join generate_series(1, ${PER_KEY}::int) g
        where k.id in (${sql.join(ids)})`.execute(db);
    }
    if ((i / 50) % 5 === 4) log(`    ${fmt(((i + 50) * PER_KEY) / 1000)}k tokens loaded, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const secs = (performance.now() - t0) / 1000;
  log(`    bulk load: ${fmt(keys.length * PER_KEY)} tokens in ${secs.toFixed(1)} s (${fmt((keys.length * PER_KEY) / secs)} rows/s)`);
  const t1 = performance.now();
  for (const ix of indexes) await sql.raw(ix.definition).execute(db);
  log(`    rebuilt ${indexes.length} indexes (${indexes.map((i) => i.name).join(', ')}) in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  // A settled table, as autovacuum leaves it (statistics and the visibility map for index-only counts).
  // SQLite gets no ANALYZE: Keyward never runs one, so its plans are what a deployment gets.
  if (store.dialect === 'postgres') await sql`vacuum analyze tokens`.execute(db);
}

async function run(kind: Kind) {
  const log = (s: string) => console.log(s);
  log(`\n## ${kind}\n`);
  const bs = await benchStore(kind);
  const out: { create: Array<Array<string | number>>; list: Array<Array<string | number>>; parts: Array<Array<string | number>>; plans: string[] } = {
    create: [],
    list: [],
    parts: [],
    plans: [],
  };
  try {
    const store = bs.store;
    const services = createServices({ store, clock: systemClock, limits: { apiKeysPerParent: 1000, tokensPerApiKey: 1_000_000 } });
    const p = await provisionAccount(services.ctx, SYSTEM_CALLER, { accountName: 'bench', adminEmail: `admin-${kind}@bench.local` });
    const scope: Scope = { accountId: p.account.id, orgId: null, projectId: null };
    const caller = { actor: { type: 'USER' as const, id: p.admin.id, accountId: p.account.id, isOperator: false, via: { apiKeyId: null, tokenId: null } } };
    const now = Date.now();

    // The first few service accounts and their keys through the services, as a user would make them.
    for (let s = 0; s < VIA_SERVICES; s++) {
      await services.serviceAccounts.create(caller, scope, { identifier: `sa${s}`, name: `sa${s}`, email: `sa${s}@service.harness.io` });
      for (let k = 0; k < KEYS_PER_SA; k++) {
        await services.apiKeys.create(caller, { scope, type: 'SERVICE_ACCOUNT', parentIdentifier: `sa${s}` }, { identifier: `sa${s}_k${k}`, name: `sa${s}_k${k}` });
      }
    }

    // 1. Creation rate, against a bare insert transaction on the same store.
    const keyOf = await services.apiKeys.get(caller, { scope, type: 'SERVICE_ACCOUNT', parentIdentifier: 'sa0' }, 'sa0_k0');
    let b = 0;
    const bare = async () => {
      const id = randomBytes(12).toString('hex');
      const t: Token = {
        id, apiKeyId: keyOf.id, scope, identifier: `bare${b}`, name: `bare${b++}`, description: '', tags: {}, apiKeyType: 'SERVICE_ACCOUNT',
        parentIdentifier: 'sa0', apiKeyIdentifier: 'sa0_k0', format: 'harness_ng', validFrom: now, validTo: now + 1e9, scheduledExpireTime: null,
        rotatedAt: null, lastUsedAt: null, lastUsedIp: null, lastUsedUserAgent: null, createdAt: now, updatedAt: now,
      };
      await store.transaction((tx) => insertToken(tx, t, randomBytes(32).toString('hex')));
    };
    let c = 0;
    const create = async () => {
      const s = c % VIA_SERVICES;
      const k = Math.floor(c / VIA_SERVICES) % KEYS_PER_SA;
      const i = c++;
      await services.tokens.create(caller, { scope, type: 'SERVICE_ACCOUNT', parentIdentifier: `sa${s}` }, { identifier: `c${i}`, name: `c${i}`, apiKeyIdentifier: `sa${s}_k${k}` });
    };
    const rate = async (fn: () => Promise<void>) => {
      await fn();
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < CREATE_MS && n < 50_000) {
        await fn();
        n++;
      }
      return n / ((performance.now() - t0) / 1000);
    };
    const bareRate = await rate(bare);
    const createRate = await rate(create);
    out.create.push([`bare insert transaction, one token row (${kind}, baseline)`, fmt(bareRate), '1.00']);
    out.create.push([`services.tokens.create (${kind})`, fmt(createRate), (createRate / bareRate).toFixed(2)]);
    log(`  creates: bare ${fmt(bareRate)}/s, services.tokens.create ${fmt(createRate)}/s`);

    // 2. One million tokens, then the lists.
    log(`  loading ${fmt(KEYS * PER_KEY)} tokens over ${KEYS} keys of ${SERVICE_ACCOUNTS} service accounts (${PER_KEY} per key)`);
    await bulkLoad(store, p.account.id, now, log);
    const total = Number((await store.db.selectFrom('tokens').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    log(`  tokens in the database: ${fmt(total)}`);

    const someId = (await store.db.selectFrom('tokens').select('id').where('api_key_identifier', '=', 'sa50_k5').limit(1).executeTakeFirstOrThrow()).id;
    const q: ListQuery = { offset: 0, limit: 100, sort: [{ field: 'updatedAt', desc: true }] };
    const cases: Array<[string, TokenFilter]> = [
      [`one key (${fmt(PER_KEY)} tokens)`, { scope, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'sa50', apiKeyIdentifier: 'sa50_k5' }],
      [`one service account (${fmt(PER_KEY * KEYS_PER_SA)} tokens)`, { scope, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'sa50' }],
      [`whole account, SERVICE_ACCOUNT (${fmt(total / 1000)}k tokens)`, { scope, apiKeyType: 'SERVICE_ACCOUNT' }],
    ];
    const measureAll = async (label: string, iterations: number, ms: number) => {
      const pk = await time(() => getTokenById(store.db, someId), iterations, ms);
      out.list.push([`${kind}${label}: token by primary key (baseline)`, fmt(pk.p50, 2), fmt(pk.p99, 2), fmt(pk.max, 2), '1.00', String(pk.n)]);
      for (const [name, f] of cases) {
        const page = await listTokens(store.db, f, q);
        if (page.items.length !== Math.min(100, page.total)) throw new Error(`${name}: page of ${page.items.length} of ${page.total}`);
        const l = await time(() => listTokens(store.db, f, q), iterations, ms);
        out.list.push([`${kind}${label}: listTokens, ${name}`, fmt(l.p50, 2), fmt(l.p99, 2), fmt(l.max, 2), (l.p99 / pk.p99).toFixed(0), String(l.n)]);
        const qs = listQueries(store.db, f, q);
        const pg = await time(() => qs.page.execute(), iterations, ms / 2);
        const ct = await time(() => qs.count.executeTakeFirstOrThrow(), iterations, ms / 2);
        out.parts.push([`${kind}${label}: ${name}: page query`, fmt(pg.p50, 2), fmt(pg.p99, 2), (pg.p99 / pk.p99).toFixed(0)]);
        out.parts.push([`${kind}${label}: ${name}: count(*) for totalItems`, fmt(ct.p50, 2), fmt(ct.p99, 2), (ct.p99 / pk.p99).toFixed(0)]);
        out.plans.push(`${kind}${label}, ${name}, page:\n${await explain(store, qs.page.compile())}\n${kind}${label}, ${name}, count:\n${await explain(store, qs.count.compile())}`);
      }
    };
    await measureAll('', LIST_ITERATIONS, LIST_MS);
    // What the new indexes buy: the same lists without them (fewer iterations: these are slow).
    for (const ix of NEW_INDEXES) await sql`drop index if exists ${sql.id(ix)}`.execute(store.db);
    await measureAll(' without 0004 indexes', Math.min(LIST_ITERATIONS, 20), LIST_MS / 2);
    await services.usage.stop();
  } finally {
    await bs.cleanup();
  }
  return out;
}

async function main() {
  console.log(`Machine: ${machine()}`);
  console.log(`Tokens: ${fmt(KEYS * PER_KEY)} (BENCH_TOKENS); create phase ${CREATE_MS} ms per store; lists: page of 100, updatedAt desc, ${LIST_ITERATIONS} iterations (or ${LIST_MS / 1000} s) per case.`);
  const only = process.env.BENCH_DB;
  const kinds: Kind[] = [];
  if (only !== 'postgres') kinds.push('sqlite');
  if (only !== 'sqlite') {
    if (await pgReachable()) kinds.push('postgres');
    else console.log('PostgreSQL not reachable: its rows are skipped.');
  }
  const all = { create: [] as Array<Array<string | number>>, list: [] as Array<Array<string | number>>, parts: [] as Array<Array<string | number>>, plans: [] as string[] };
  for (const k of kinds) {
    const r = await run(k);
    all.create.push(...r.create);
    all.list.push(...r.list);
    all.parts.push(...r.parts);
    all.plans.push(...r.plans);
  }
  table('Token creation (one caller, sequential)', ['case', 'tokens/s', 'x bare insert'], all.create);
  table(`Listing a page of 100 tokens with ${fmt(KEYS * PER_KEY)} tokens in the database`, ['case', 'p50 ms', 'p99 ms', 'max ms', 'p99 x PK read', 'n'], all.list);
  table('The two statements of a list, timed apart', ['statement', 'p50 ms', 'p99 ms', 'p99 x PK read'], all.parts);
  console.log('\n### Query plans\n');
  for (const pl of all.plans) console.log(`${pl}\n`);
}

await main();
