/**
 * Management at scale, on SQLite and PostgreSQL:
 *  1. tokens created per second through `services.tokens.create` (transaction, checks, insert,
 *     counter triggers, audit event), against a bare one-row insert transaction on the same store
 *     (the baseline), on a fresh store;
 *  2. with 1,000,000 tokens in the database (1,000 API keys under 10 service accounts, 100 keys
 *     each, 1,000 tokens per key, loaded with bulk inserts straight into the tables), the latency of
 *     the lists the protocols serve, through the services as the routes call them: a page of 100
 *     tokens (Harness NG: updatedAt desc; native: createdAt desc) of one key and of the whole
 *     account, first page, deep page (the last) and middle page (remembered positions, src/store/seek.ts:
 *     the middle page as read again, and as read after a change, when it walks; a page at a random
 *     offset each call); a page of 100 API keys with their
 *     token counts (Harness NG `GET /apikey`); a service account's ZenML keys. Each case runs in
 *     alternation with its baseline, a bare indexed `SELECT ... ORDER BY ... LIMIT 100` for the same
 *     filter, without count, as a prepared statement on the same store. The query plans are printed.
 *   npm run bench:management
 * Env: BENCH_TOKENS (default 1000000), BENCH_MS (create phase per store, default 5000),
 *      BENCH_LIST_ITERATIONS (per case, default 300), BENCH_ROUNDS (alternations, default 5),
 *      BENCH_DB (sqlite, postgres or both), BENCH_CACHE=1 (keep the loaded database for the next run:
 *      a SQLite file in the OS temp folder, a PostgreSQL schema kw_bench_mgmt_cache; BENCH_CACHE=0
 *      removes them).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { systemClock } from '../src/domain/clock.js';
import type { Token } from '../src/domain/model.js';
import type { Scope } from '../src/domain/scope.js';
import type { SortOrder } from '../src/domain/paging.js';
import { createServices, type Services } from '../src/services/index.js';
import { SYSTEM_CALLER, type Caller } from '../src/services/context.js';
import { provisionAccount } from '../src/services/provisioning.js';
import { openStore, type Store } from '../src/store/database.js';
import { insertToken } from '../src/store/tokens.js';
import { positionsOf } from '../src/store/seek.js';
import { getSetting, insertSetting } from '../src/store/settings.js';
import { benchStore, fmt, machine, percentile, pgReachable, pgUrl, table } from './lib.js';

const TOTAL = Number(process.env.BENCH_TOKENS ?? 1_000_000);
const CREATE_MS = Number(process.env.BENCH_MS ?? 5000);
const LIST_ITERATIONS = Number(process.env.BENCH_LIST_ITERATIONS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CACHE = process.env.BENCH_CACHE;
const LIST_MS = 10_000; // time bound per case (baseline and case together)
const SERVICE_ACCOUNTS = 10;
const KEYS_PER_SA = 100;
const KEYS = SERVICE_ACCOUNTS * KEYS_PER_SA;
const PER_KEY = Math.max(1, Math.floor(TOTAL / KEYS));
const LAYOUT = `v2:${SERVICE_ACCOUNTS}x${KEYS_PER_SA}x${PER_KEY}`;
const PG_CACHE_SCHEMA = 'kw_bench_mgmt_cache';
const SQLITE_CACHE_FILE = path.join(os.tmpdir(), 'keyward-bench-cache', 'management.db');

type Kind = 'sqlite' | 'postgres';
type Row = Array<string | number>;

/** Times `a` (baseline) and `b` in `ROUNDS` alternations, n/ROUNDS calls each per round, after warm-up. */
async function alternate(a: () => Promise<unknown>, b: () => Promise<unknown>, n: number, ms: number, beforeB?: () => Promise<unknown>) {
  for (const f of [a, b, a, b]) {
    if (f === b) await beforeB?.();
    await f();
  }
  const xs: number[][] = [[], []];
  const per = Math.max(1, Math.ceil(n / ROUNDS));
  const end = performance.now() + ms;
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, f] of [a, b].entries()) {
      const stop = performance.now() + (end - performance.now()) / (2 * (ROUNDS - r) - i);
      for (let k = 0; k < per && (k === 0 || performance.now() < stop); k++) {
        if (i === 1) await beforeB?.();
        const t0 = performance.now();
        await f();
        xs[i]!.push(performance.now() - t0);
      }
    }
  }
  return xs.map((x) => {
    const s = Float64Array.from(x).sort();
    return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99) };
  });
}

/** The bare baseline: a prepared SELECT of a page of 100 in the list's index order, no count. */
function bareSelect(store: Store, name: string, where: string, params: unknown[], order: string, offset = 0): () => Promise<Array<{ id: string }>> {
  if (store.dialect === 'sqlite') {
    const stmt = store.sqlite!.prepare(`select * from tokens where ${where.replace(/\$\d+/g, '?')} order by ${order} limit 100 offset ${offset}`);
    return async () => stmt.all(...params) as Array<{ id: string }>;
  }
  const pool = store.pgPool!;
  const text = `select * from tokens where ${where} order by ${order} limit 100 offset ${offset}`;
  return async () => (await pool.query({ name: `${name}_${offset}`, text, values: params })).rows as Array<{ id: string }>;
}

async function explain(store: Store, where: string, params: unknown[], order: string, offset: number, columns = '*'): Promise<string> {
  const q = `select ${columns} from tokens where ${where} order by ${order} limit 100 offset ${offset}`;
  if (store.dialect === 'sqlite') {
    const rows = store.sqlite!.prepare(`explain query plan ${q.replace(/\$\d+/g, '?')}`).all(...params) as Array<{ detail: string }>;
    return rows.map((r) => `    ${r.detail}`).join('\n');
  }
  const c = await store.pgPool!.connect();
  try {
    await c.query(`prepare bench_explain as ${q}`);
    const r = await c.query(`explain (analyze, buffers, costs off) execute bench_explain(${params.map((p) => `'${String(p)}'`).join(', ')})`);
    await c.query('deallocate bench_explain');
    return r.rows.map((x: Record<string, string>) => `    ${x['QUERY PLAN']}`).join('\n');
  } finally {
    c.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Loading a million tokens (or finding them loaded by an earlier run with BENCH_CACHE=1)

interface Seeded {
  accountId: string;
  adminId: string;
}

async function openSeededStore(kind: Kind, log: (s: string) => void): Promise<{ store: Store; seeded: Seeded; cleanup(): Promise<void> }> {
  const keep = CACHE === '1';
  let store: Store;
  let drop: () => Promise<void>;
  if (kind === 'sqlite') {
    const file = keep ? SQLITE_CACHE_FILE : path.join(os.tmpdir(), `keyward-bench-${randomBytes(4).toString('hex')}`, 'keyward.db');
    mkdirSync(path.dirname(file), { recursive: true });
    store = await openStore({ sqliteFile: file });
    drop = async () => rmSync(path.dirname(file), { recursive: true, force: true });
  } else {
    const schema = keep ? PG_CACHE_SCHEMA : `kw_bench_${randomBytes(5).toString('hex')}`;
    store = await openStore({ databaseUrl: pgUrl()!, pgSchema: schema, poolSize: 10 });
    drop = async () => {
      const c = new pg.Client({ connectionString: pgUrl()! });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    };
  }
  await store.migrate();
  const cleanup = async () => {
    await store.close();
    if (!keep) await drop();
  };
  const marker = await getSetting(store.db, 'bench.management');
  const found = marker ? (JSON.parse(marker) as Seeded & { layout: string }) : null;
  if (found && found.layout === LAYOUT) {
    log(`  using the database loaded by an earlier run (${kind === 'sqlite' ? SQLITE_CACHE_FILE : `schema ${PG_CACHE_SCHEMA}`}, ${LAYOUT})`);
    return { store, seeded: found, cleanup };
  }
  if (found) throw new Error(`the cached ${kind} database holds layout ${found.layout}, not ${LAYOUT}: run once with BENCH_CACHE=0 to remove it`);
  const seeded = await seed(store, log);
  await insertSetting(store.db, 'bench.management', JSON.stringify({ ...seeded, layout: LAYOUT }), Date.now());
  return { store, seeded, cleanup };
}

async function seed(store: Store, log: (s: string) => void): Promise<Seeded> {
  const services = createServices({ store, clock: systemClock, limits: { apiKeysPerParent: 1000, tokensPerApiKey: 1_000_000 } });
  const p = await provisionAccount(services.ctx, SYSTEM_CALLER, { accountName: 'bench', adminEmail: `admin@bench.local` });
  await services.usage.stop();
  const accountId = p.account.id;
  const now = Date.now();
  const db = store.db;
  log(`  loading ${fmt(KEYS * PER_KEY)} tokens over ${KEYS} keys of ${SERVICE_ACCOUNTS} service accounts (${PER_KEY} per key)`);
  // Service accounts and keys (the last service account's keys are ZenML keys).
  await store.transaction(async (tx) => {
    for (let s = 0; s < SERVICE_ACCOUNTS; s++) {
      const saId = randomUUID();
      const ident = `sa${s}`;
      await sql`insert into service_accounts (id, account_id, org_id, project_id, identifier, name, email, description, tags, active, created_at, updated_at)
        values (${saId}, ${accountId}, '', '', ${ident}, ${ident}, ${`${ident}@service.harness.io`}, '', '{}', 1, ${now}, ${now})`.execute(tx);
      const flavor = s === SERVICE_ACCOUNTS - 1 ? 'zenml' : 'harness_ng';
      const values = sql.join(
        Array.from({ length: KEYS_PER_SA }, (_, k) => {
          const kid = `${ident}_k${k}`;
          return sql`(${randomUUID()}, ${accountId}, '', '', ${kid}, ${kid}, '', '{}', 'SERVICE_ACCOUNT', ${ident}, null, ${saId}, ${2_592_000_000}, 1, ${flavor}, ${flavor === 'zenml' ? kid : null}, ${now - k}, ${now - k})`;
        }),
      );
      await sql`insert into api_keys (id, account_id, org_id, project_id, identifier, name, description, tags, api_key_type, parent_identifier, user_id, service_account_id, default_ttl_ms, active, flavor, unique_name, created_at, updated_at)
        values ${values}`.execute(tx);
    }
  });

  // The tokens table's secondary indexes are dropped for the load and built again after it (a sorted
  // build is many times faster than a million ordered inserts into each); constraints' indexes stay.
  // The counter triggers (migration 0011) run as in a deployment: on SQLite per row, on PostgreSQL
  // once per INSERT ... SELECT statement.
  const indexes = await secondaryTokenIndexes(store);
  for (const ix of indexes) await sql`drop index ${sql.id(ix.name)}`.execute(db);
  const keys = await db.selectFrom('api_keys').select(['id']).where('account_id', '=', accountId).where('api_key_type', '=', 'SERVICE_ACCOUNT').orderBy('id').execute();
  const t0 = performance.now();
  const spread = 30 * 24 * 3600 * 1000;
  const per = 50; // keys per statement and transaction
  for (let i = 0; i < keys.length; i += per) {
    const ids = keys.slice(i, i + per).map((k) => k.id);
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
    if ((i / per) % 4 === 3) log(`    ${fmt(((i + per) * PER_KEY) / 1000)}k tokens loaded, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const secs = (performance.now() - t0) / 1000;
  log(`    bulk load: ${fmt(keys.length * PER_KEY)} tokens in ${secs.toFixed(1)} s (${fmt((keys.length * PER_KEY) / secs)} rows/s)`);
  const t1 = performance.now();
  for (const ix of indexes) await sql.raw(ix.definition).execute(db);
  log(`    rebuilt ${indexes.length} indexes in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  // A settled table, as autovacuum leaves it (statistics, and the visibility map for index-only scans).
  // SQLite gets no ANALYZE: Keyward never runs one, so its plans are what a deployment gets.
  if (store.dialect === 'postgres') await sql`vacuum analyze tokens`.execute(db);
  return { accountId, adminId: p.admin.id };
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

// ---------------------------------------------------------------------------------------------

async function creates(kind: Kind): Promise<Row[]> {
  const bs = await benchStore(kind);
  try {
    const store = bs.store;
    const services = createServices({ store, clock: systemClock, limits: { apiKeysPerParent: 1000, tokensPerApiKey: 1_000_000 } });
    const p = await provisionAccount(services.ctx, SYSTEM_CALLER, { accountName: 'bench', adminEmail: `admin-${kind}@bench.local` });
    const scope: Scope = { accountId: p.account.id, orgId: null, projectId: null };
    const caller: Caller = { actor: { type: 'USER', id: p.admin.id, accountId: p.account.id, isOperator: false, via: { apiKeyId: null, tokenId: null } } };
    const owner = { scope, type: 'SERVICE_ACCOUNT' as const, parentIdentifier: 'sa0' };
    await services.serviceAccounts.create(caller, scope, { identifier: 'sa0', name: 'sa0', email: 'sa0@service.harness.io' });
    for (let k = 0; k < 10; k++) await services.apiKeys.create(caller, owner, { identifier: `k${k}`, name: `k${k}` });
    const key = await services.apiKeys.get(caller, owner, 'k0');
    const now = Date.now();
    let b = 0;
    const bare = async () => {
      const t: Token = {
        id: randomBytes(12).toString('hex'), apiKeyId: key.id, scope, identifier: `bare${b}`, name: `bare${b++}`, description: '', tags: {}, apiKeyType: 'SERVICE_ACCOUNT',
        parentIdentifier: 'sa0', apiKeyIdentifier: 'k0', format: 'harness_ng', validFrom: now, validTo: now + 1e9, scheduledExpireTime: null,
        rotatedAt: null, lastUsedAt: null, lastUsedIp: null, lastUsedUserAgent: null, createdAt: now, updatedAt: now,
      };
      await store.transaction((tx) => insertToken(tx, t, randomBytes(32).toString('hex')));
    };
    let c = 0;
    const create = async () => {
      const i = c++;
      await services.tokens.create(caller, owner, { identifier: `c${i}`, name: `c${i}`, apiKeyIdentifier: `k${i % 10}` });
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
    await services.usage.stop();
    return [
      [`bare insert transaction, one token row (${kind}, baseline)`, fmt(bareRate), '1.00'],
      [`services.tokens.create (${kind})`, fmt(createRate), (createRate / bareRate).toFixed(2)],
    ];
  } finally {
    await bs.cleanup();
  }
}

async function lists(kind: Kind, log: (s: string) => void): Promise<{ rows: Row[]; plans: string[] }> {
  const { store, seeded, cleanup } = await openSeededStore(kind, log);
  const rows: Row[] = [];
  const plans: string[] = [];
  try {
    const services: Services = createServices({ store, clock: systemClock, limits: { apiKeysPerParent: 1000, tokensPerApiKey: 1_000_000 } });
    const scope: Scope = { accountId: seeded.accountId, orgId: null, projectId: null };
    const caller: Caller = { actor: { type: 'USER', id: seeded.adminId, accountId: seeded.accountId, isOperator: false, via: { apiKeyId: null, tokenId: null } } };
    const total = Number((await store.db.selectFrom('tokens').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    log(`  tokens in the database: ${fmt(total)}`);

    const accountWhere = `account_id = $1 and org_id = '' and project_id = '' and api_key_type = 'SERVICE_ACCOUNT'`;
    const keyWhere = `${accountWhere} and parent_identifier = $2 and api_key_identifier = $3`;
    const byUpdated = 'updated_at desc, id';
    const byCreated = 'created_at desc, id';
    const keyParams = [seeded.accountId, 'sa5', 'sa5_k50'];
    const NG: SortOrder[] = [{ field: 'updatedAt', desc: true }];
    const NATIVE: SortOrder[] = [{ field: 'createdAt', desc: true }];
    const saOwner = { scope, type: 'SERVICE_ACCOUNT' as const, parentIdentifier: 'sa5' };
    const tokenList = (apiKeyIdentifier: string | undefined, sort: SortOrder[], offset: number) => () =>
      services.tokens.list(caller, { owner: apiKeyIdentifier ? saOwner : { scope, type: 'SERVICE_ACCOUNT' }, apiKeyIdentifier }, { offset, limit: 100, sort });

    interface Case {
      name: string;
      run: () => Promise<{ items: Array<{ id: string }>; total: number }>;
      baseline: () => Promise<unknown>;
      baselineName: string;
      /** Run before each timed call, untimed, and once after the case. */
      before?: () => Promise<unknown>;
      after?: () => Promise<unknown>;
      /** For checking the page against a bare read at the same offset, and EXPLAIN. */
      check?: { where: string; params: unknown[]; order: string; offset: number; total: number };
    }
    const accountTotal = (await services.tokens.list(caller, { owner: { scope, type: 'SERVICE_ACCOUNT' } }, { offset: 0, limit: 1 })).total;
    const last = (n: number) => Math.floor((n - 1) / 100) * 100;
    const cases: Case[] = [];
    let headCase: Case | undefined;
    for (const [sortName, sort, order] of [
      ['Harness NG, updatedAt desc', NG, byUpdated],
      ['native, createdAt desc', NATIVE, byCreated],
    ] as const) {
      const keyBase = bareSelect(store, `k_${order.slice(0, 7)}`, keyWhere, keyParams, order);
      const accBase = bareSelect(store, `a_${order.slice(0, 7)}`, accountWhere, [seeded.accountId], order);
      const pages: Array<[string, string | undefined, number, number, () => Promise<unknown>, string]> = [
        ['one key, first page', 'sa5_k50', 0, PER_KEY, keyBase, 'bare SELECT of one key, LIMIT 100'],
        ['one key, last page', 'sa5_k50', last(PER_KEY), PER_KEY, keyBase, 'bare SELECT of one key, LIMIT 100'],
        ['whole account, first page', undefined, 0, accountTotal, accBase, 'bare SELECT of the account, LIMIT 100'],
        ['whole account, last page', undefined, last(accountTotal), accountTotal, accBase, 'bare SELECT of the account, LIMIT 100'],
        ['whole account, middle page', undefined, last(accountTotal / 2), accountTotal, accBase, 'bare SELECT of the account, LIMIT 100'],
      ];
      for (const [what, key, offset, n, baseline, baselineName] of pages) {
        cases.push({
          name: `token list (${sortName}), ${what} (offset ${fmt(offset)} of ${fmt(n)})`,
          run: tokenList(key, [...sort], offset),
          baseline,
          baselineName,
          check: { where: key ? keyWhere : accountWhere, params: key ? keyParams : [seeded.accountId], order, offset, total: n },
        });
      }
      if (sort !== NG) continue;
      const middle = last(accountTotal / 2);
      // The middle page with a token created before each read: it comes first in this order, so the
      // positions are kept, shifted by one, after two short counts (src/store/seek.ts rebased).
      const headKey = await store.db.selectFrom('api_keys').select('id').where('identifier', '=', 'sa5_k50').executeTakeFirstOrThrow();
      let made = 0;
      headCase = {
        name: `token list (${sortName}), whole account, middle page, a new token created before each read (untimed)`,
        before: async () => {
          const now = Date.now() + 1000 * 3600 + made;
          await insertToken(store.db, {
            id: randomBytes(12).toString('hex'), apiKeyId: headKey.id, scope, identifier: `head${made}`, name: `head${made++}`, description: '', tags: {}, apiKeyType: 'SERVICE_ACCOUNT',
            parentIdentifier: 'sa5', apiKeyIdentifier: 'sa5_k50', format: 'harness_ng', validFrom: now, validTo: now + 1e9, scheduledExpireTime: null,
            rotatedAt: null, lastUsedAt: null, lastUsedIp: null, lastUsedUserAgent: null, createdAt: now, updatedAt: now,
          }, randomBytes(32).toString('hex'));
        },
        run: tokenList(undefined, [...sort], middle),
        baseline: accBase,
        baselineName: 'bare SELECT of the account, LIMIT 100',
        // The new tokens go again: the cached database keeps its 1M for the next run.
        after: () => store.db.deleteFrom('tokens').where('api_key_id', '=', headKey.id).where('identifier', 'like', 'head%').execute(),
      };
      // The middle page as every read after a change to the list finds it (nothing remembered: it walks
      // from the nearer end, src/store/seek.ts), and pages anywhere in the account, in a random order.
      cases.push({
        name: `token list (${sortName}), whole account, middle page, positions forgotten before each read (a list that changed)`,
        run: () => {
          positionsOf(store.db).forget();
          return tokenList(undefined, [...sort], middle)();
        },
        baseline: accBase,
        baselineName: 'bare SELECT of the account, LIMIT 100',
        check: { where: accountWhere, params: [seeded.accountId], order, offset: middle, total: accountTotal },
      });
      let seed = 42;
      const anyPage = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return (seed % Math.ceil(accountTotal / 100)) * 100;
      };
      cases.push({
        name: `token list (${sortName}), whole account, a page at a random offset (each call another)`,
        run: () => tokenList(undefined, [...sort], anyPage())(),
        baseline: accBase,
        baselineName: 'bare SELECT of the account, LIMIT 100',
      });
    }
    const keysBase = async () => store.db.selectFrom('api_keys').selectAll().where('account_id', '=', seeded.accountId).where('org_id', '=', '').where('project_id', '=', '')
      .where('api_key_type', '=', 'SERVICE_ACCOUNT').where('parent_identifier', '=', 'sa5').orderBy('updated_at', 'desc').orderBy('id').limit(100).execute();
    cases.push({
      name: `API key list (Harness NG GET /apikey), ${KEYS_PER_SA} keys of ${fmt(PER_KEY)} tokens each, with tokensCount`,
      run: async () => {
        const r = await services.apiKeys.list(caller, saOwner, { offset: 0, limit: 100, sort: NG });
        if (r.items.some((k) => k.tokensCount !== PER_KEY)) throw new Error('tokensCount is wrong');
        return r;
      },
      baseline: keysBase,
      baselineName: 'bare SELECT of the parent\'s keys, LIMIT 100',
    });
    const zenmlSa = await store.db.selectFrom('service_accounts').select('id').where('identifier', '=', `sa${SERVICE_ACCOUNTS - 1}`).executeTakeFirstOrThrow();
    cases.push({
      name: `ZenML api_keys list, ${KEYS_PER_SA} keys of a service account`,
      run: async () => {
        const items = await services.zenml.listKeys(caller, seeded.accountId, zenmlSa.id);
        return { items: items.map((k) => k.key), total: items.length };
      },
      baseline: keysBase,
      baselineName: 'bare SELECT of the parent\'s keys, LIMIT 100',
    });

    if (headCase) cases.push(headCase); // last: it adds tokens to the account (and removes them after)
    for (const c of cases) {
      const page = await c.run();
      if (c.check) {
        if (page.total !== c.check.total) throw new Error(`${c.name}: total ${page.total}, expected ${c.check.total}`);
        // The page must be the one a bare forward read at the same offset gives (run once: slow when deep).
        const want = (await bareSelect(store, `chk${cases.indexOf(c)}`, c.check.where, c.check.params, c.check.order, c.check.offset)()).map((r) => r.id);
        const got = page.items.map((t) => t.id);
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${c.name}: page differs from a bare read at offset ${c.check.offset}`);
      }
      const [base, res] = await alternate(c.baseline, c.run, LIST_ITERATIONS, LIST_MS, c.before);
      rows.push([`${kind}: ${c.baselineName} (baseline)`, fmt(base!.p50, 2), fmt(base!.p99, 2), '1.00', String(base!.n)]);
      rows.push([`${kind}: ${c.name}`, fmt(res!.p50, 2), fmt(res!.p99, 2), (res!.p99 / base!.p99).toFixed(1), String(res!.n)]);
      log(`  ${c.name}: p50 ${fmt(res!.p50, 2)} ms, p99 ${fmt(res!.p99, 2)} ms (baseline p99 ${fmt(base!.p99, 2)})`);
      await c.after?.();
    }
    // Plans of the statements the token pages run (forward from the start; from the end for a last page).
    for (const [label, where, params, order, offset] of [
      ['one key, updatedAt desc, first page', keyWhere, keyParams, byUpdated, 0],
      ['whole account, updatedAt desc, first page', accountWhere, [seeded.accountId], byUpdated, 0],
      ['whole account, updatedAt desc, last page (read from the end)', accountWhere, [seeded.accountId], 'updated_at asc, id desc', 0],
      ['whole account, createdAt desc, first page', accountWhere, [seeded.accountId], byCreated, 0],
      ['whole account, updatedAt desc, middle page (its ids; the rows then by primary key)', accountWhere, [seeded.accountId], byUpdated, last(accountTotal / 2)],
    ] as const) {
      plans.push(`${kind}, ${label}:\n${await explain(store, where, [...params], order, offset, offset >= 1000 ? 'id' : '*')}`);
    }
    await services.usage.stop();
  } finally {
    await cleanup();
  }
  return { rows, plans };
}

async function main() {
  console.log(`Machine: ${machine()}; load: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  console.log(`Tokens: ${fmt(KEYS * PER_KEY)} (BENCH_TOKENS); create phase ${CREATE_MS} ms per store; lists: ${LIST_ITERATIONS} calls per case and as many of its baseline, in ${ROUNDS} alternations.`);
  const only = process.env.BENCH_DB;
  const kinds: Kind[] = [];
  if (only !== 'postgres') kinds.push('sqlite');
  if (only !== 'sqlite') {
    if (await pgReachable()) kinds.push('postgres');
    else console.log('PostgreSQL not reachable: its rows are skipped.');
  }
  if (CACHE === '0') {
    rmSync(path.dirname(SQLITE_CACHE_FILE), { recursive: true, force: true });
    if (await pgReachable()) {
      const c = new pg.Client({ connectionString: pgUrl()! });
      await c.connect();
      await c.query(`drop schema if exists ${PG_CACHE_SCHEMA} cascade`);
      await c.end();
    }
    console.log('Removed the cached databases.');
    return;
  }
  if (CACHE === '1' && existsSync(SQLITE_CACHE_FILE)) console.log(`Cached SQLite database: ${SQLITE_CACHE_FILE}`);
  const create: Row[] = [];
  const list: Row[] = [];
  const plans: string[] = [];
  for (const k of kinds) {
    console.log(`\n## ${k}\n`);
    if (process.env.BENCH_SKIP_CREATES !== '1') create.push(...(await creates(k)));
    const r = await lists(k, (s) => console.log(s));
    list.push(...r.rows);
    plans.push(...r.plans);
  }
  if (create.length) table('Token creation (one caller, sequential)', ['case', 'tokens/s', 'x bare insert'], create);
  table(`Lists with ${fmt(KEYS * PER_KEY)} tokens in the database (each case alternating with its baseline)`, ['case', 'p50 ms', 'p99 ms', 'p99 x baseline', 'n'], list);
  console.log('\n### Query plans\n');
  for (const pl of plans) console.log(`${pl}\n`);
}

await main();
