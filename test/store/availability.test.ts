/**
 * The store's one place that tells "the database cannot be reached" from "the database refused the
 * query": real failures from real pg clients (a refused connection, a pool checkout that times out
 * against a server that never answers) become UnavailableError, logged once per episode; a query the
 * database refuses on its merits stays what it was.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/domain/errors.js';
import { DependencyHealth, isConnectivityError } from '../../src/store/availability.js';
import { pgUrl } from '../helpers/databases.js';

function listen(onConnection: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const sockets = new Set<net.Socket>();
    const srv = net.createServer((s) => {
      sockets.add(s);
      onConnection(s);
    });
    srv.listen(0, '127.0.0.1', () =>
      resolve({
        port: (srv.address() as net.AddressInfo).port,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            srv.close(() => r());
          }),
      }),
    );
  });
}

async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

describe('connectivity failures', () => {
  let closedPort: number;
  let blackHole: { port: number; close: () => Promise<void> };
  beforeAll(async () => {
    const s = await listen(() => undefined);
    closedPort = s.port;
    await s.close();
    // Accepts connections and never says a word: a server that hangs.
    blackHole = await listen(() => undefined);
  });
  afterAll(async () => blackHole.close());

  it('a refused connection and a pool checkout timeout are unavailable, reported once until a success', async () => {
    const health = new DependencyHealth('postgresql');
    const downs: string[] = [];
    const ups: number[] = [];
    health.on({ down: (_d, reason) => downs.push(reason), up: (_d, ms) => ups.push(ms) });

    const refusedPool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${closedPort}/postgres` });
    refusedPool.on('error', () => undefined);
    const refused = await failure(() => refusedPool.query('select 1'));
    expect(isConnectivityError(refused, 'postgresql')).toBe(true);
    expect(health.translate(refused)).toBeInstanceOf(UnavailableError);
    await refusedPool.end();

    const hangingPool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${blackHole.port}/postgres`, connectionTimeoutMillis: 200 });
    hangingPool.on('error', () => undefined);
    const timedOut = await failure(() => hangingPool.query('select 1'));
    const translated = health.translate(timedOut);
    expect(translated).toBeInstanceOf(UnavailableError);
    expect((translated as UnavailableError).dependency).toBe('postgresql');
    await hangingPool.end();

    expect(downs).toHaveLength(1);
    expect(downs[0]).toMatch(/ECONNREFUSED/);
    await health.run(async () => 1);
    await health.run(async () => 1);
    expect(ups).toHaveLength(1);
    expect(health.isDown).toBe(false);
  });

  it.runIf(pgUrl() !== null)('a query the database refuses stays what it was', async () => {
    const health = new DependencyHealth('postgresql');
    const pool = new pg.Pool({ connectionString: pgUrl()! });
    const e = await failure(() => pool.query('select * from keyward_no_such_table'));
    await pool.end();
    expect((e as { code?: string }).code).toBe('42P01');
    expect(health.translate(e)).toBe(e);
    expect(health.isDown).toBe(false);
  });

  it('SQLite busy and locked are unavailable; other SQLite errors are not', () => {
    const health = new DependencyHealth('sqlite');
    expect(health.translate(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))).toBeInstanceOf(UnavailableError);
    expect(isConnectivityError(Object.assign(new Error('database table is locked'), { code: 'SQLITE_LOCKED' }), 'sqlite')).toBe(true);
    const unique = Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(health.translate(unique)).toBe(unique);
  });
});
