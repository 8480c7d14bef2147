/** Migrations apply once and are safe to run again, on both databases. */
import { afterEach, expect, it } from 'vitest';
import { sql } from 'kysely';
import { migrations } from '../../src/store/migrations.js';
import { describeEachDb, openTestStore, type TestStore } from '../helpers/databases.js';

describeEachDb('migrations', (kind) => {
  let ts: TestStore | null = null;
  afterEach(async () => {
    await ts?.cleanup();
    ts = null;
  });

  it('applies every migration on an empty database, and nothing the second time', async () => {
    ts = await openTestStore(kind, { migrate: false });
    const first = await ts.store.migrate();
    expect(first).toEqual(Object.keys(migrations));
    expect(first.length).toBeGreaterThan(0);

    const second = await ts.store.migrate();
    expect(second).toEqual([]);

    // The schema is usable after the second run, and the second run recorded nothing new.
    await ts.store.db.insertInto('accounts').values({ id: 'acc1', name: 'A', created_at: 1, updated_at: 1 }).execute();
    expect(await ts.store.db.selectFrom('accounts').select('id').execute()).toEqual([{ id: 'acc1' }]);
    const recorded = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(ts.store.db);
    expect(recorded.rows.map((r) => r.name)).toEqual(Object.keys(migrations));
  });

  it('keeps existing data when migrations run again', async () => {
    ts = await openTestStore(kind);
    await ts.store.db.insertInto('accounts').values({ id: 'acc1', name: 'A', created_at: 1, updated_at: 1 }).execute();
    expect(await ts.store.migrate()).toEqual([]);
    expect(await ts.store.db.selectFrom('accounts').select('name').execute()).toEqual([{ name: 'A' }]);
  });

  if (kind === 'postgres') {
    it("migrates its own schema when another schema of the database already holds Kysely's migration tables", async () => {
      const neighbour = await openTestStore(kind); // migrated: its schema has kysely_migration and kysely_migration_lock
      try {
        ts = await openTestStore(kind, { migrate: false });
        expect(await ts.store.migrate()).toEqual(Object.keys(migrations));
        expect(await ts.store.db.selectFrom('accounts').select('id').execute()).toEqual([]);
      } finally {
        await neighbour.cleanup();
      }
    });
  }
});
