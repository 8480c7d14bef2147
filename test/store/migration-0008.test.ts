/**
 * Migration 0008 (issue 12, finding 3): emails unique per account instead of across accounts. On a
 * database written before it, every user and everything that points at users survives (SQLite
 * rebuilds the table), foreign keys still cascade, and the new rule holds.
 */
import { afterEach, expect, it } from 'vitest';
import { Migrator, sql } from 'kysely';
import { migrationProvider } from '../../src/store/migrations.js';
import { isUniqueViolation } from '../../src/store/database.js';
import { describeEachDb, openTestStore, type TestStore } from '../helpers/databases.js';

describeEachDb('migration 0008: emails per account', (kind) => {
  let ts: TestStore | null = null;
  afterEach(async () => {
    await ts?.cleanup();
    ts = null;
  });

  it('keeps users and what points at them, keeps cascades, and allows one email in two accounts', async () => {
    ts = await openTestStore(kind, { migrate: false });
    const db = ts.store.db;
    const schema = kind === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]!.s : undefined;
    const migrator = new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
    const to7 = await migrator.migrateTo('0007_api_key_parents');
    expect(to7.error).toBeUndefined();

    for (const a of ['acc1', 'acc2']) await db.insertInto('accounts').values({ id: a, name: a, created_at: 1, updated_at: 1 }).execute();
    const user = (id: string, account: string, email: string) => ({ id, account_id: account, email, email_lower: email.toLowerCase(), name: id, password_hash: 'h', active: 1, is_operator: 0, created_at: 1, updated_at: 1 });
    await db.insertInto('users').values(user('u1', 'acc1', 'Ann@x.test')).execute();
    await db.insertInto('users').values(user('u2', 'acc1', 'bob@x.test')).execute();
    // Before 0008 the same email in another account is refused.
    await expect(db.insertInto('users').values(user('u3', 'acc2', 'ann@x.test')).execute()).rejects.toSatisfy(isUniqueViolation);
    await db.insertInto('console_sessions').values({ id: 's1', account_id: 'acc1', user_id: 'u1', token_id: null, created_at: 1, expires_at: 2, ended_at: null }).execute();
    await db.insertInto('user_groups').values({ id: 'g1', account_id: 'acc1', org_id: '', project_id: '', identifier: 'g', name: 'g', description: '', tags: '{}', created_at: 1, updated_at: 1 } as never).execute();
    await db.insertInto('user_group_members').values({ user_group_id: 'g1', user_id: 'u1', created_at: 1 }).execute();

    const rest = await migrator.migrateToLatest();
    expect(rest.error).toBeUndefined();
    expect(rest.results?.map((r) => r.migrationName)).toContain('0008_email_per_account');

    expect((await db.selectFrom('users').select(['id', 'email', 'password_hash']).orderBy('id').execute())).toEqual([
      { id: 'u1', email: 'Ann@x.test', password_hash: 'h' },
      { id: 'u2', email: 'bob@x.test', password_hash: 'h' },
    ]);
    expect(await db.selectFrom('console_sessions').select('id').execute()).toEqual([{ id: 's1' }]);
    expect(await db.selectFrom('user_group_members').select('user_id').execute()).toEqual([{ user_id: 'u1' }]);

    // The new rule: the same email in another account, never twice in one.
    await db.insertInto('users').values(user('u3', 'acc2', 'ann@x.test')).execute();
    await expect(db.insertInto('users').values(user('u4', 'acc1', 'ANN@x.test')).execute()).rejects.toSatisfy(isUniqueViolation);

    // Foreign keys into the rebuilt table still hold and cascade.
    await expect(db.insertInto('console_sessions').values({ id: 's2', account_id: 'acc1', user_id: 'nobody', token_id: null, created_at: 1, expires_at: 2, ended_at: null }).execute()).rejects.toThrow();
    await db.deleteFrom('users').where('id', '=', 'u1').execute();
    expect(await db.selectFrom('console_sessions').select('id').execute()).toEqual([]);
    expect(await db.selectFrom('user_group_members').select('user_id').execute()).toEqual([]);
    await db.deleteFrom('accounts').where('id', '=', 'acc2').execute();
    expect(await db.selectFrom('users').select('id').where('account_id', '=', 'acc2').execute()).toEqual([]);
  });
});
