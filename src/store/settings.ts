import type { Db } from './database.js';

export async function getSetting(db: Db, key: string): Promise<string | null> {
  const r = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  return r?.value ?? null;
}

/** Inserts the setting; fails with a unique violation when another writer set it first. */
export async function insertSetting(db: Db, key: string, value: string, at: number): Promise<void> {
  await db.insertInto('settings').values({ key, value, created_at: at }).execute();
}

/** Replaces the value only when it is still `expected` (compare-and-set); true when it did. */
export async function replaceSetting(db: Db, key: string, expected: string, value: string): Promise<boolean> {
  const r = await db.updateTable('settings').set({ value }).where('key', '=', key).where('value', '=', expected).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function deleteSetting(db: Db, key: string): Promise<void> {
  await db.deleteFrom('settings').where('key', '=', key).execute();
}
