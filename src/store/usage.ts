/** Verifications per token, hour and outcome (table token_usage_hourly, migration 0009). */
import type { Db } from './database.js';

export interface HourlyCount {
  tokenId: string;
  /** Milliseconds at the start of the hour. */
  hour: number;
  outcome: string;
  count: number;
}

/** Adds the batch's counts to what is stored (one row per token, hour and outcome). */
export async function addHourlyUsage(db: Db, batch: HourlyCount[]): Promise<void> {
  for (const c of batch) {
    await db
      .insertInto('token_usage_hourly')
      .values({ token_id: c.tokenId, hour: c.hour, outcome: c.outcome, count: c.count })
      .onConflict((oc) => oc.columns(['token_id', 'hour', 'outcome']).doUpdateSet((eb) => ({ count: eb('token_usage_hourly.count', '+', eb.ref('excluded.count')) })))
      .execute();
  }
}

/** The counts of these tokens from `fromHour` on, oldest first. */
export async function readHourlyUsage(db: Db, tokenIds: string[], fromHour: number): Promise<HourlyCount[]> {
  if (tokenIds.length === 0) return [];
  const rows = await db
    .selectFrom('token_usage_hourly')
    .select(['token_id', 'hour', 'outcome', 'count'])
    .where('token_id', 'in', tokenIds)
    .where('hour', '>=', fromHour)
    .orderBy('hour')
    .execute();
  return rows.map((r) => ({ tokenId: r.token_id, hour: Number(r.hour), outcome: r.outcome, count: Number(r.count) }));
}

/** Drops counts older than `beforeHour`. */
export async function pruneHourlyUsage(db: Db, beforeHour: number): Promise<void> {
  await db.deleteFrom('token_usage_hourly').where('hour', '<', beforeHour).execute();
}
