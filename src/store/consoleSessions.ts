/** Console sessions: one row per sign-in; ending it is a write every node sees. */
import type { Db } from './database.js';

export interface ConsoleSessionRecord {
  id: string;
  accountId: string;
  userId: string;
  /** The token signed in with, or null for an email-and-password sign-in. */
  tokenId: string | null;
  createdAt: number;
  expiresAt: number;
  endedAt: number | null;
}

export async function insertConsoleSession(db: Db, s: ConsoleSessionRecord): Promise<void> {
  await db
    .insertInto('console_sessions')
    .values({ id: s.id, account_id: s.accountId, user_id: s.userId, token_id: s.tokenId, created_at: s.createdAt, expires_at: s.expiresAt, ended_at: s.endedAt })
    .execute();
}

export async function getConsoleSession(db: Db, id: string): Promise<ConsoleSessionRecord | null> {
  const r = await db.selectFrom('console_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) return null;
  return {
    id: r.id,
    accountId: r.account_id,
    userId: r.user_id,
    tokenId: r.token_id,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    endedAt: r.ended_at === null ? null : Number(r.ended_at),
  };
}

/** Ends the session; true when it was still open. */
export async function endConsoleSession(db: Db, id: string, at: number): Promise<boolean> {
  const r = await db.updateTable('console_sessions').set({ ended_at: at }).where('id', '=', id).where('ended_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Removes sessions that ended or expired before `before`. */
export async function sweepConsoleSessions(db: Db, before: number): Promise<void> {
  await db.deleteFrom('console_sessions').where('expires_at', '<', before).execute();
  await db.deleteFrom('console_sessions').where('ended_at', '<', before).execute();
}
