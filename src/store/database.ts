/**
 * Opens the database: embedded SQLite (WAL) by default, PostgreSQL when a URL is given. Both sit
 * behind one Kysely schema type; the few dialect differences are handled here and nowhere else.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type DatabaseIntrospector, type TableMetadata, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations.js';
import { DependencyHealth, TranslatingDriver } from './availability.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

export interface StoreOptions {
  /** PostgreSQL connection string. When absent, SQLite is used. */
  databaseUrl?: string | undefined;
  /** PostgreSQL schema to use (created if missing); tests use one schema each. */
  pgSchema?: string | undefined;
  /** Folder of the SQLite file (default ./data). */
  dataDir?: string | undefined;
  /** SQLite file path; ':memory:' for an in-memory database. Overrides dataDir. */
  sqliteFile?: string | undefined;
  /** PostgreSQL pool size. */
  poolSize?: number | undefined;
}

export interface Store {
  readonly db: Db;
  readonly dialect: Dialect;
  /** The raw better-sqlite3 handle (SQLite only), for prepared statements on the hot path. */
  readonly sqlite: BetterSqlite3.Database | null;
  /** The pg pool (PostgreSQL only), for LISTEN/NOTIFY. */
  readonly pgPool: pg.Pool | null;
  readonly pgConfig: pg.PoolConfig | null;
  /**
   * Whether the database can be reached: every query reports to it, and a connectivity failure is
   * thrown as UnavailableError. Raw queries outside Kysely go through `health.run`.
   */
  readonly health: DependencyHealth;
  migrate(): Promise<string[]>;
  ping(): Promise<void>;
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** bigint (int8) columns hold epoch milliseconds and counts: read them as numbers, not strings. */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export function pgPoolConfig(databaseUrl: string, schema?: string, poolSize = 10): pg.PoolConfig {
  const config: pg.PoolConfig = {
    connectionString: databaseUrl,
    max: poolSize,
    types: pgTypes as pg.CustomTypesConfig,
    // A server that does not answer must fail a request (503) rather than hold it forever, and a
    // peer that vanished without closing the connection must be noticed.
    connectionTimeoutMillis: 5000,
    keepAlive: true,
  };
  if (schema) config.options = `-c search_path=${schema}`;
  return config;
}

export async function openStore(opts: StoreOptions = {}): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.pgSchema, opts.poolSize);
  const file = opts.sqliteFile ?? path.join(opts.dataDir ?? './data', 'keyward.db');
  return openSqlite(file);
}

/**
 * The database holds digests, sealed values and the audit log: readable by its owner only. The folder
 * is created 0700 and the file 0600 before SQLite opens it (SQLite gives the -wal and -shm files the
 * database file's mode); files an older Keyward left readable to others are narrowed to 0600.
 */
export function prepareSqliteFiles(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

function openSqlite(file: string): Store {
  if (file !== ':memory:') prepareSqliteFiles(file);
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  const health = new DependencyHealth('sqlite');
  const db = new Kysely<Database>({ dialect: translated(new SqliteDialect({ database: withStatementCache(raw) }), health) });
  return makeStore(db, 'sqlite', raw, null, null, health);
}

/** The dialect with its driver wrapped in a TranslatingDriver (store/availability.ts) that reports to `health`. */
function translated<D extends SqliteDialect | PostgresDialect>(dialect: D, health: DependencyHealth): D {
  const createDriver = dialect.createDriver.bind(dialect);
  dialect.createDriver = () => new TranslatingDriver(createDriver(), health);
  return dialect;
}

/**
 * Kysely prepares every query it runs; preparing costs more than running a point read. Statements
 * are kept by their SQL text (bounded), which is safe because better-sqlite3 runs one statement at a
 * time to completion (Keyward never streams) and re-prepares by itself after a schema change.
 */
function withStatementCache(raw: BetterSqlite3.Database, max = 1000): BetterSqlite3.Database {
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepare = (source: string): BetterSqlite3.Statement => {
    let stmt = statements.get(source);
    if (stmt === undefined) {
      stmt = raw.prepare(source);
      if (statements.size >= max) statements.delete(statements.keys().next().value!);
      statements.set(source, stmt);
    }
    return stmt;
  };
  return new Proxy(raw, {
    get(target, prop) {
      if (prop === 'prepare') return prepare;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function openPostgres(databaseUrl: string, schema?: string, poolSize?: number): Promise<Store> {
  if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const config = pgPoolConfig(databaseUrl, schema, poolSize);
  const pool = new pg.Pool(config);
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // Nor may a checked-out one (pg-pool listens only while a client is idle): a server that ends the
  // connection between two statements of a transaction would emit an unhandled 'error'. The next
  // statement on it fails instead ("not queryable"), which the store reports as unavailable.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const health = new DependencyHealth('postgresql');
  const db = new Kysely<Database>({ dialect: translated(new OneSchemaPostgresDialect({ pool }), health) });
  return makeStore(db, 'postgres', null, pool, config, health);
}

/**
 * Kysely's migrator finds its tables by introspecting every table of every schema, which fails
 * ("schema ... does not exist") when another schema is dropped at that moment. Keyward only ever
 * needs the tables of the schema it runs in, read from pg_catalog without touching other schemas.
 */
class OneSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    const getTables = async (): Promise<TableMetadata[]> => {
      const { rows } = await sql<{ name: string; schema: string; kind: string }>`
        select c.relname as name, n.nspname as schema, c.relkind as kind
        from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind in ('r', 'v', 'p')`.execute(db);
      return rows.map((r) => ({ name: r.name, schema: r.schema, isView: r.kind === 'v', columns: [] }));
    };
    return {
      getSchemas: async () => (await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(db)).rows,
      getTables,
      getMetadata: async () => ({ tables: await getTables() }),
    };
  }
}

function makeStore(
  db: Db,
  dialect: Dialect,
  sqlite: BetterSqlite3.Database | null,
  pgPool: pg.Pool | null,
  pgConfig: pg.PoolConfig | null,
  health: DependencyHealth,
): Store {
  let closed = false;
  return {
    db,
    dialect,
    sqlite,
    pgPool,
    pgConfig,
    health,
    async migrate() {
      // Unless told the schema, Kysely takes its migration tables in ANY schema of the database as
      // ours, skips creating them, and then fails to find them: name the schema we run in.
      const migrationTableSchema =
        dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
      const migrator = new Migrator({ db, provider: migrationProvider, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
      const { error, results } = await migrator.migrateToLatest();
      if (error) throw error;
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    transaction(fn) {
      return db.transaction().execute(fn);
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** True when the error is a unique-constraint violation (or was caused by one: see mutate), on either database. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; cause?: unknown } | null;
  if (err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true;
  return err?.cause !== undefined && err.cause !== e && isUniqueViolation(err.cause);
}

/** True when the error is a foreign-key violation (a row it names was deleted meanwhile), on either database. */
export function isForeignKeyViolation(e: unknown): boolean {
  const err = e as { code?: string } | null;
  return err?.code === '23503' || err?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * `SELECT ... FOR UPDATE` on PostgreSQL: the row stays locked until the transaction ends, so two
 * transactions that lock the same row run one after the other, and the second reads what the first
 * committed (nothing, if the first deleted it). SQLite needs no lock: Keyward's SQLite connection
 * runs one transaction at a time (Kysely's SQLite driver holds its one connection for the whole
 * transaction), and SQLite has no FOR UPDATE. Outside a transaction a lock would end at once, so
 * none is taken.
 */
export function forUpdate<QB extends { forUpdate(): QB }>(db: Db, qb: QB): QB {
  return db.isTransaction && db.getExecutor().adapter instanceof PostgresAdapter ? qb.forUpdate() : qb;
}
