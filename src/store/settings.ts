import type { Db } from './database.js';

export async function getSetting(db: Db, key: string): Promise<string | null> {
  const r = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  return r?.value ?? null;
}

/** Inserts the setting; fails with a unique violation when another writer set it first. */
export async function insertSetting(db: Db, key: string, value: string, at: number): Promise<void> {
  await db.insertInto('settings').values({ key, value, created_at: at }).execute();
}
