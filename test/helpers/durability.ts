/**
 * Crash durability: a real `keyward serve` process (dist/) under concurrent write load, killed with
 * SIGKILL again and again, restarted on the same database each time. Every write it acknowledged
 * must be there afterwards (service accounts, API keys, tokens whose secrets still verify, rotations),
 * and nothing may be half-made: no token without its key, no key without its parent, no created
 * object without its audit event. Used by test/attack/durability.test.ts (a few kills) and
 * bench/durability.ts (20 kills per database, figures in docs/security.md).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/database.js';
import { pgSchemaUrl, startServer, type ServerProcess } from './cli.js';

export type DurabilityDb = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

export interface DurabilityOptions {
  db: DurabilityDb;
  kills: number;
  /** Concurrent writers. */
  workers?: number;
  /** Load before each kill, chosen at random in [min, max] ms. */
  loadMs?: [number, number];
  log?: (line: string) => void;
}

export interface DurabilityReport {
  kind: string;
  kills: number;
  acknowledged: { serviceAccounts: number; apiKeys: number; tokens: number; rotations: number };
  /** Requests cut off by a kill (outcome unknown to the client: either whole or absent). */
  cutOff: number;
  lost: string[];
  halfMade: string[];
  /** Time from spawn to "listening", per restart (ms). */
  restartMs: number[];
}

interface Acked {
  sa: Set<string>;
  key: Set<string>;
  /** Token identifier -> the newest acknowledged secret. */
  token: Map<string, string>;
  /**
   * Tokens whose rotation was cut off by a kill: the rotation may have committed (the old secret
   * then ends at once, as a rotation without rotateTimestamp does) or not. Either outcome is whole.
   */
  rotationUnknown: Set<string>;
  rotations: number;
}

const MASTER_KEY = randomBytes(32).toString('base64');

export async function runDurability(opts: DurabilityOptions): Promise<DurabilityReport> {
  const workers = opts.workers ?? 4;
  const [minLoad, maxLoad] = opts.loadMs ?? [400, 900];
  const log = opts.log ?? (() => undefined);
  let args: string[];
  let cleanup: () => Promise<void>;
  let openDirect: () => Promise<Store>;
  if (opts.db.kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'keyward-durability-'));
    args = ['--data-dir', dir];
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
    openDirect = () => openStore({ sqliteFile: path.join(dir, 'keyward.db') });
  } else {
    const { url, drop } = await pgSchemaUrl(opts.db.url);
    const schema = new URL(url).searchParams.get('options')!.replace('-c search_path=', '');
    args = ['--database-url', url];
    cleanup = drop;
    const base = opts.db.url;
    openDirect = () => openStore({ databaseUrl: base, pgSchema: schema, poolSize: 2 });
  }
  const env = { KEYWARD_MASTER_KEY: MASTER_KEY, KEYWARD_MAX_API_KEYS_PER_PARENT: '1000', KEYWARD_USAGE_FLUSH_MS: '200' };
  const report: DurabilityReport = { kind: opts.db.kind, kills: 0, acknowledged: { serviceAccounts: 0, apiKeys: 0, tokens: 0, rotations: 0 }, cutOff: 0, lost: [], halfMade: [], restartMs: [] };
  const acked: Acked = { sa: new Set(), key: new Set(), token: new Map(), rotationUnknown: new Set(), rotations: 0 };
  let server: ServerProcess | null = null;
  let direct: Store | null = null;
  try {
    let t0 = performance.now();
    server = await startServer(args, { env });
    report.restartMs.push(Math.round(performance.now() - t0));
    const m = /token:\s+(\S+)/.exec(server.stdout());
    if (!m) throw new Error(`no bootstrap token:\n${server.stdout()}`);
    const token = m[1]!;
    const accountId = token.split('.')[1]!;

    direct = await openDirect();
    for (let round = 0; round < opts.kills; round++) {
      const url = server.url;
      let stop = false;
      const loops = Array.from({ length: workers }, (_, w) => writer(url, token, accountId, `r${round}w${w}`, () => stop, acked, report));
      // Load for a random while, and at least until this round has had writes acknowledged (a
      // loaded machine can take seconds for the first), so every kill lands among real writes.
      const tokensBefore = acked.token.size + acked.rotations;
      const until = performance.now() + minLoad + Math.random() * (maxLoad - minLoad);
      const giveUp = performance.now() + 15_000;
      while (performance.now() < giveUp && (performance.now() < until || acked.token.size + acked.rotations < tokensBefore + 2)) await sleep(25);
      // The kill lands in the middle of the load: requests in flight are cut off.
      await server.stop('SIGKILL');
      stop = true;
      await Promise.all(loops);
      report.kills++;
      t0 = performance.now();
      server = await startServer(args, { env });
      report.restartMs.push(Math.round(performance.now() - t0));
      const lostNow = await checkAcked(server.url, direct, accountId, acked);
      report.lost.push(...lostNow.map((l) => `after kill ${round + 1}: ${l}`));
      log(`kill ${round + 1}/${opts.kills}: acknowledged so far ${acked.sa.size} service accounts, ${acked.key.size} keys, ${acked.token.size} tokens, ${acked.rotations} rotations; lost ${lostNow.length}${lostNow.length ? `: ${lostNow.join('; ')}` : ''}`);
    }
    report.halfMade = await halfMade(direct, accountId);
  } finally {
    await server?.stop('SIGKILL');
    await direct?.close();
    await cleanup();
  }
  report.acknowledged = { serviceAccounts: acked.sa.size, apiKeys: acked.key.size, tokens: acked.token.size, rotations: acked.rotations };
  return report;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function post(url: string, token: string, p: string, body: unknown, query: Record<string, string>): Promise<{ status: number; body: any } | null> {
  const u = new URL(p, url);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  try {
    const res = await fetch(u, { method: 'POST', headers: { 'x-api-key': token, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  } catch {
    return null; // cut off by the kill
  }
}

/** One writer: service account, then its key, then a token, then a rotation; again until stopped. */
async function writer(url: string, token: string, acc: string, tag: string, stopped: () => boolean, acked: Acked, report: DurabilityReport): Promise<void> {
  const q = { accountIdentifier: acc };
  for (let i = 0; !stopped(); i++) {
    const sa = `dur_${tag}_${i}`;
    const step = async (p: string, body: unknown, extra: Record<string, string> = {}) => {
      const r = await post(url, token, p, body, { ...q, ...extra });
      if (r === null) report.cutOff++;
      else if (r.status !== 200) throw new Error(`${p} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      return r;
    };
    if (!(await step('/ng/api/serviceaccount', { identifier: sa, name: sa, email: `${sa}@durability.test`, accountIdentifier: acc }))) return;
    acked.sa.add(sa);
    const key = `k_${sa}`;
    if (!(await step('/ng/api/apikey', { identifier: key, name: key, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, accountIdentifier: acc }))) return;
    acked.key.add(`${sa}/${key}`);
    const tok = `t_${sa}`;
    const t = await step('/ng/api/token', { identifier: tok, name: tok, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: key, accountIdentifier: acc });
    if (!t) return;
    acked.token.set(`${sa}/${tok}`, t.body.data as string);
    const rot = await step(`/ng/api/token/rotate/${tok}`, undefined, { apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: key });
    if (!rot) {
      acked.rotationUnknown.add(`${sa}/${tok}`);
      return;
    }
    acked.token.set(`${sa}/${tok}`, rot.body.data as string);
    acked.rotations++;
  }
}

/** Every acknowledged write, after the restart: rows read from the database, token secrets verified by the server. */
async function checkAcked(url: string, store: Store, acc: string, acked: Acked): Promise<string[]> {
  const lost: string[] = [];
  const sas = new Set((await store.db.selectFrom('service_accounts').select('identifier').where('account_id', '=', acc).execute()).map((r) => r.identifier));
  for (const sa of acked.sa) if (!sas.has(sa)) lost.push(`service account ${sa}`);
  const keys = new Set((await store.db.selectFrom('api_keys').select(['parent_identifier', 'identifier']).where('account_id', '=', acc).execute()).map((r) => `${r.parent_identifier}/${r.identifier}`));
  for (const k of acked.key) if (!keys.has(k)) lost.push(`api key ${k}`);
  const secrets = [...acked.token.entries()];
  for (let i = 0; i < secrets.length; i += 16) {
    await Promise.all(
      secrets.slice(i, i + 16).map(async ([name, secret]) => {
        const res = await fetch(new URL('/v1/verify', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: secret }) });
        const v = (await res.json()) as { valid: boolean; reason?: string };
        // A rotation cut off by the kill that did commit ended this secret: that is whole, not lost.
        if (!v.valid && acked.rotationUnknown.has(name) && (await rotated(store, acc, name))) return;
        if (!v.valid) lost.push(`token ${name} (${v.reason})`);
      }),
    );
  }
  return lost;
}

/** Whether the token of `sa/tok` was rotated: its key holds more than one token, and the rotation is audited. */
async function rotated(store: Store, acc: string, name: string): Promise<boolean> {
  const [sa, tok] = name.split('/') as [string, string];
  const n = await store.db.selectFrom('tokens').select('id').where('account_id', '=', acc).where('parent_identifier', '=', sa).execute();
  const ev = await store.db.selectFrom('audit_events').select('id').where('account_id', '=', acc).where('action', '=', 'token.rotate').where('resource_id', '=', tok).where('outcome', '=', 'success').execute();
  return n.length > 1 && ev.length > 0;
}

/** Rows the load made that a crash left incomplete. */
async function halfMade(store: Store, acc: string): Promise<string[]> {
  const db = store.db;
  const out: string[] = [];
  const orphanTokens = await db.selectFrom('tokens').leftJoin('api_keys', 'api_keys.id', 'tokens.api_key_id').select('tokens.identifier').where('api_keys.id', 'is', null).execute();
  for (const t of orphanTokens) out.push(`token ${t.identifier} without its key`);
  const orphanKeys = await db
    .selectFrom('api_keys')
    .leftJoin('service_accounts', 'service_accounts.id', 'api_keys.service_account_id')
    .select('api_keys.identifier')
    .where('api_keys.service_account_id', 'is not', null)
    .where('service_accounts.id', 'is', null)
    .execute();
  for (const k of orphanKeys) out.push(`api key ${k.identifier} without its service account`);
  const audited = async (action: string, ids: string[]) => {
    if (ids.length === 0) return new Set<string>();
    const rows = await db.selectFrom('audit_events').select('resource_id').where('account_id', '=', acc).where('action', '=', action).where('outcome', '=', 'success').execute();
    return new Set(rows.map((r) => r.resource_id));
  };
  const sas = (await db.selectFrom('service_accounts').select('identifier').where('account_id', '=', acc).where('identifier', 'like', 'dur_%').execute()).map((r) => r.identifier);
  const saEvents = await audited('serviceaccount.create', sas);
  for (const s of sas) if (!saEvents.has(s)) out.push(`service account ${s} without its audit event`);
  const keys = (await db.selectFrom('api_keys').select('identifier').where('account_id', '=', acc).where('identifier', 'like', 'k_dur_%').execute()).map((r) => r.identifier);
  const keyEvents = await audited('apikey.create', keys);
  for (const k of keys) if (!keyEvents.has(k)) out.push(`api key ${k} without its audit event`);
  const toks = await db.selectFrom('tokens').select(['api_key_identifier', 'parent_identifier']).where('account_id', '=', acc).where('parent_identifier', 'like', 'dur_%').execute();
  const tokEvents = await audited('token.create', toks.map((t) => t.parent_identifier));
  const rotEvents = await audited('token.rotate', toks.map((t) => t.parent_identifier));
  const perKey = new Map<string, number>();
  for (const t of toks) perKey.set(t.parent_identifier, (perKey.get(t.parent_identifier) ?? 0) + 1);
  for (const [sa, n] of perKey) {
    if (!tokEvents.has(`t_${sa}`)) out.push(`token t_${sa} without its audit event`);
    if (n > 1 && !rotEvents.has(`t_${sa}`)) out.push(`rotated token t_${sa} without its rotation audit event`);
  }
  // The database itself: SQLite's integrity check; PostgreSQL has no equivalent to run here.
  if (store.dialect === 'sqlite') {
    const r = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
    if (r.rows[0]?.integrity_check !== 'ok') out.push(`sqlite integrity_check: ${JSON.stringify(r.rows)}`);
  }
  return out;
}
