/**
 * Issue 18 on SQLite: a database locked past its busy timeout (another process holding the write
 * lock) is "unavailable", not an internal error. Writes answer 503 with Retry-After in each
 * protocol's shape; verification (reads) goes on; the audit event of each refused write waits in
 * the outbox and is written, in order, once the lock is gone; logs say so once each way.
 */
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/store/audit.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';

describe('SQLite locked past its busy timeout', () => {
  let k: TestKeyward;
  let other: BetterSqlite3.Database;
  beforeEach(async () => {
    k = await startKeyward('sqlite');
    // Wait 100 ms for the lock, not the default 5 s.
    k.keyward.store.sqlite!.pragma('busy_timeout = 100');
    other = new BetterSqlite3(k.testStore.sqliteFile!);
  });
  afterEach(async () => {
    if (other.inTransaction) other.exec('rollback');
    other.close();
    await k.close();
  });

  it('answers 503 to writes, keeps verifying, and writes the refused writes\' audit events once the lock is gone', async () => {
    const acc = k.admin.accountId;
    const q = { accountIdentifier: acc };
    const key = (id: string) => k.http.post('/ng/api/apikey', { identifier: id, name: id, apiKeyType: 'USER', parentIdentifier: k.admin.userId, accountIdentifier: acc }, { query: q });
    expect((await key('before')).status).toBe(200);

    other.exec('begin exclusive');
    const ng = await key('locked1');
    expect(ng.status).toBe(503);
    expect(ng.headers.get('retry-after')).toBe('2');
    expect(ng.body).toMatchObject({ status: 'ERROR', code: 'SERVICE_UNAVAILABLE', message: 'The database is busy; try again shortly' });
    k.clock.advance(1);
    const zen = await k.http.post('/api/v1/service_accounts', { name: 'locked-sa' }, { token: null, headers: { authorization: `Bearer ${k.admin.token}` } });
    expect(zen.status).toBe(503);
    expect(zen.body).toEqual({ detail: ['RuntimeError', 'The database is busy; try again shortly'] });
    expect(zen.headers.get('retry-after')).toBe('2');
    // Reads are not blocked by a writer (WAL): verification answers as usual.
    expect((await k.anon.post('/v1/verify', { token: k.admin.token })).body).toMatchObject({ valid: true });
    const waiting = k.keyward.services.ctx.auditOutbox.size;
    expect(waiting).toBeGreaterThanOrEqual(1);

    other.exec('rollback');
    // The next query that works marks the database back and flushes the outbox.
    k.clock.advance(1);
    expect((await key('after')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    await k.keyward.services.ctx.auditOutbox.flush();
    expect(k.keyward.services.ctx.auditOutbox.size).toBe(0);
    const events = (await listAuditEvents(k.keyward.store.db, { accountId: acc, limit: 50 })).reverse();
    const failures = events.filter((e) => e.outcome === 'failure');
    expect(failures.length).toBe(waiting);
    expect(failures.every((e) => e.details.error === 'unavailable')).toBe(true);
    expect(failures[0]).toMatchObject({ resourceId: 'locked1', action: expect.stringContaining('apikey') });
    // In order: the refused writes before the write that succeeded after them.
    const ids = events.map((e) => `${e.outcome}:${e.resourceId}`);
    expect(ids.indexOf('failure:locked1')).toBeLessThan(ids.indexOf('success:after'));
    expect(k.logs.filter((l) => l.includes('database unreachable')).length).toBe(1);
    expect(k.logs.filter((l) => l.includes('database reachable again')).length).toBe(1);
    expect(k.logs.filter((l) => l.includes('"level":50') && !l.includes('database unreachable'))).toEqual([]);
  });
});
