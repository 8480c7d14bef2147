/**
 * Telling a database that cannot be reached from a query the database refused, in one place: every
 * query Keyward makes (through Kysely, and the few raw pg and better-sqlite3 reads on the hot path)
 * passes its failure through `translate`, which turns connectivity failures into the domain's
 * UnavailableError (a 503 in every protocol) and leaves everything else as it was. The same place
 * keeps the dependency's health, so that logs say "unreachable" once per outage and "reachable"
 * once when it ends, not once per request.
 */
import { UnavailableError } from '../domain/errors.js';
import type { DatabaseConnection, Driver, QueryResult, TransactionSettings, CompiledQuery } from 'kysely';

export type DependencyName = 'postgresql' | 'sqlite';

/** Node socket errors that mean the server could not be reached or dropped the connection. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EAI_AGAIN', 'ECONNABORTED']);
/**
 * PostgreSQL SQLSTATEs of a server that cannot serve: class 08 (connection exception), 57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down,
 * in recovery), 53300 too_many_connections.
 */
const PG_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** node-postgres and pg-pool say these without a code. */
const PG_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|Connection timed out|the database system is (shutting down|starting up|in recovery mode)/i;

/** The failure's reason in a few words, for logs (never the query or its values). */
function reasonOf(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : null;
  const message = typeof err?.message === 'string' ? err.message.split('\n')[0]!.slice(0, 200) : String(e);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** True when `e` says the database could not be reached (as opposed to a query it refused). */
export function isConnectivityError(e: unknown, dialect: DependencyName): boolean {
  if (e instanceof UnavailableError) return true;
  const err = e as { code?: unknown; message?: unknown } | null;
  if (err === null || typeof err !== 'object') return false;
  const code = typeof err.code === 'string' ? err.code : '';
  if (dialect === 'sqlite') return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
  if (SOCKET_CODES.has(code) || PG_STATES.has(code) || (code.length === 5 && code.startsWith('08'))) return true;
  // pg reports a refused connection through AggregateError when the host resolves to several addresses.
  const errors = (e as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length > 0 && errors.every((x) => isConnectivityError(x, dialect))) return true;
  return typeof err.message === 'string' && PG_MESSAGES.test(err.message);
}

export interface HealthEvents {
  /** The dependency failed for the first time since it last worked. */
  down(dependency: DependencyName, reason: string): void;
  /** It works again after `downMs` of failures. */
  up(dependency: DependencyName, downMs: number): void;
}

/** Up or down, with transitions reported once each. */
export class DependencyHealth {
  private downSince: number | null = null;
  private readonly listeners: Array<Partial<HealthEvents>> = [];
  /** Connectivity failures since start (each failed query counts). */
  failures = 0;

  /**
   * Whether a read that works shows the database is back. Not on SQLite, where a lock stops writers
   * but never readers: only a write that works ends a "busy" episode there.
   */
  readonly readsProveUp: boolean;

  constructor(readonly dependency: DependencyName) {
    this.readsProveUp = dependency !== 'sqlite';
  }

  get isDown(): boolean {
    return this.downSince !== null;
  }

  private lastProbe = 0;

  /**
   * Whether a caller that has an answer of its own to fall back on (a stale cached verification)
   * should try the database now: always while it is up; while it is down, one caller per
   * `intervalMs` (the probe that notices it is back), so the others answer at once instead of each
   * paying for a failed connection attempt.
   */
  shouldProbe(intervalMs = 200): boolean {
    if (this.downSince === null) return true;
    const now = Date.now();
    if (now - this.lastProbe < intervalMs) return false;
    this.lastProbe = now;
    return true;
  }

  on(l: Partial<HealthEvents>): void {
    this.listeners.push(l);
  }

  failed(reason: string): void {
    this.failures++;
    if (this.downSince !== null) return;
    this.downSince = Date.now();
    for (const l of this.listeners) l.down?.(this.dependency, reason);
  }

  ok(): void {
    if (this.downSince === null) return;
    const downMs = Date.now() - this.downSince;
    this.downSince = null;
    for (const l of this.listeners) l.up?.(this.dependency, downMs);
  }

  /**
   * The error to throw for a failed query: an UnavailableError when the cause is connectivity
   * (recording the failure), otherwise `e` itself.
   */
  translate(e: unknown): unknown {
    if (e instanceof UnavailableError) return e;
    if (!isConnectivityError(e, this.dependency)) return e;
    const reason = reasonOf(e);
    this.failed(reason);
    const what = this.dependency === 'sqlite' ? 'The database is busy' : 'The database cannot be reached';
    return new UnavailableError(`${what}; try again shortly`, this.dependency);
  }

  /** Runs one raw read: its success marks the dependency up (where reads prove it), a connectivity failure becomes UnavailableError. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    try {
      const out = await fn();
      if (this.readsProveUp) this.ok();
      return out;
    } catch (e) {
      throw this.translate(e);
    }
  }
}

/** Kysely's connection with every query's failure translated. */
class TranslatingConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly health: DependencyHealth,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const out = await this.inner.executeQuery<R>(compiled);
      if (this.health.readsProveUp || compiled.query.kind !== 'SelectQueryNode') this.health.ok();
      return out;
    } catch (e) {
      throw this.health.translate(e);
    }
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiled, chunkSize);
    } catch (e) {
      throw this.health.translate(e);
    }
  }
}

const unwrap = (c: DatabaseConnection): DatabaseConnection => (c instanceof TranslatingConnection ? c.inner : c);

/**
 * Wraps a dialect's driver: connecting (pool checkout, pool timeout) and every statement, including
 * BEGIN and COMMIT, report connectivity failures as UnavailableError. The dialect's own driver still
 * gets its own connection objects back (the pg driver releases through a private symbol on them).
 */
export class TranslatingDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly health: DependencyHealth,
  ) {}

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.health.translate(e);
    }
  }

  init(): Promise<void> {
    return this.guard(() => this.inner.init());
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new TranslatingConnection(await this.guard(() => this.inner.acquireConnection()), this.health);
  }
  // Transaction control runs on the dialect's own connection: translated when it fails, but a BEGIN or
  // ROLLBACK that works proves nothing (SQLite grants both under another writer's lock).
  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.guard(() => this.inner.beginTransaction(unwrap(c), settings));
  }
  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.guard(() => this.inner.commitTransaction(unwrap(c)));
  }
  rollbackTransaction(c: DatabaseConnection): Promise<void> {
    return this.guard(() => this.inner.rollbackTransaction(unwrap(c)));
  }
  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(unwrap(c));
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

for (const m of ['savepoint', 'rollbackToSavepoint', 'releaseSavepoint'] as const) {
  (TranslatingDriver.prototype as unknown as Record<string, unknown>)[m] = function (this: { inner: Driver; guard: (f: () => Promise<void>) => Promise<void> }, c: DatabaseConnection, name: string, compile: unknown) {
    const fn = this.inner[m] as ((c: DatabaseConnection, n: string, k: unknown) => Promise<void>) | undefined;
    if (!fn) throw new Error(`the driver does not support ${m}`);
    return this.guard(() => fn.call(this.inner, unwrap(c), name, compile));
  };
}
