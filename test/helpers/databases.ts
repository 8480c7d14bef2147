/** Both databases, for `describe.each`: the same store and service tests run on SQLite and PostgreSQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';

export type DbKind = 'sqlite' | 'postgres';
export const DB_KINDS: DbKind[] = ['sqlite', 'postgres'];

export function pgUrl(): string | null {
  return inject('pgUrl');
}

export interface TestStore {
  store: Store;
  kind: DbKind;
  /** SQLite: the database file (its -wal and -shm sit beside it). */
  sqliteFile: string | null;
  /** PostgreSQL: the schema this store lives in. */
  pgSchema: string | null;
  cleanup(): Promise<void>;
}

/** A fresh, migrated store: a new SQLite file, or a new PostgreSQL schema. */
export async function openTestStore(kind: DbKind, opts: { migrate?: boolean } = {}): Promise<TestStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'keyward-test-'));
    const file = path.join(dir, 'keyward.db');
    const store = await openStore({ sqliteFile: file });
    if (opts.migrate !== false) await store.migrate();
    return {
      store,
      kind,
      sqliteFile: file,
      pgSchema: null,
      async cleanup() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = pgUrl();
  if (!url) throw new Error('PostgreSQL is not available');
  const schema = `kw_test_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ databaseUrl: url, pgSchema: schema, poolSize: 5 });
  if (opts.migrate !== false) await store.migrate();
  return {
    store,
    kind,
    sqliteFile: null,
    pgSchema: schema,
    async cleanup() {
      await store.close();
      await dropSchema(url, schema);
    },
  };
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await c.end();
  }
}

/**
 * `describe` once per database. PostgreSQL blocks are skipped (and said so by the global setup)
 * when no server is reachable.
 */
export function describeEachDb(name: string, fn: (kind: DbKind) => void): void {
  for (const kind of DB_KINDS) {
    const d = kind === 'postgres' && !pgUrl() ? describe.skip : describe;
    d(`${name} [${kind}]`, () => fn(kind));
  }
}
