import { forUpdate, type Db } from './database.js';
import type { User } from '../domain/model.js';
import type { UserRow } from './schema.js';
import { bool, int, pagedList } from './rows.js';

export const toUser = (r: UserRow): User => ({
  id: r.id,
  accountId: r.account_id,
  email: r.email,
  name: r.name,
  hasPassword: r.password_hash !== null,
  active: bool(r.active),
  isOperator: bool(r.is_operator),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertUser(db: Db, u: User, passwordHash: string | null): Promise<void> {
  await db
    .insertInto('users')
    .values({
      id: u.id,
      account_id: u.accountId,
      email: u.email,
      email_lower: u.email.toLowerCase(),
      name: u.name,
      password_hash: passwordHash,
      active: int(u.active),
      is_operator: int(u.isOperator),
      created_at: u.createdAt,
      updated_at: u.updatedAt,
    })
    .execute();
}

/** With `lock`, inside a transaction, the row stays locked until it ends (see forUpdate). */
export async function getUser(db: Db, id: string, opts: { lock?: boolean } = {}): Promise<User | null> {
  const q = db.selectFrom('users').selectAll().where('id', '=', id);
  const r = await (opts.lock ? forUpdate(db, q) : q).executeTakeFirst();
  return r ? toUser(r) : null;
}

/**
 * The users with this email (case-insensitive) and their password hashes, at most `limit`, in one
 * account when `accountId` is given. Emails are unique per account, so one person may be a user of
 * several accounts. For sign-in only.
 */
export async function listUserCredentialsByEmail(
  db: Db,
  email: string,
  opts: { accountId?: string | undefined; limit: number },
): Promise<Array<{ user: User; passwordHash: string | null }>> {
  let q = db.selectFrom('users').selectAll().where('email_lower', '=', email.toLowerCase());
  if (opts.accountId !== undefined) q = q.where('account_id', '=', opts.accountId);
  const rows = await q.orderBy('created_at').orderBy('id').limit(opts.limit).execute();
  return rows.map((r) => ({ user: toUser(r), passwordHash: r.password_hash }));
}

/** The account's user with this email (case-insensitive; emails are unique per account), or null. */
export async function getUserByEmail(db: Db, accountId: string, email: string): Promise<User | null> {
  const r = await db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('email_lower', '=', email.toLowerCase()).executeTakeFirst();
  return r ? toUser(r) : null;
}

export async function getPasswordHash(db: Db, userId: string): Promise<string | null> {
  const r = await db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
  return r?.password_hash ?? null;
}

/** Whether the account already has a user with this email (emails are unique per account). */
export async function emailTaken(db: Db, accountId: string, email: string): Promise<boolean> {
  const r = await db.selectFrom('users').select('id').where('account_id', '=', accountId).where('email_lower', '=', email.toLowerCase()).executeTakeFirst();
  return r !== undefined;
}

export async function listUsers(
  db: Db,
  accountId: string,
  opts: { offset: number; limit: number; search?: string | undefined },
): Promise<{ items: User[]; total: number }> {
  return pagedList(db.selectFrom('users').where('account_id', '=', accountId), opts, { search: ['name', 'email_lower'], defaultSort: false, then: ['created_at', 'id'], map: toUser });
}

export async function updateUser(
  db: Db,
  id: string,
  patch: { name?: string; active?: boolean; passwordHash?: string | null; updatedAt: number },
): Promise<void> {
  await db
    .updateTable('users')
    .set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.active !== undefined ? { active: int(patch.active) } : {}),
      ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
      updated_at: patch.updatedAt,
    })
    .where('id', '=', id)
    .execute();
}

/** Users of the account with exactly this name, oldest first (CG's userByName). */
export async function getUsersByName(db: Db, accountId: string, name: string): Promise<User[]> {
  const rows = await db.selectFrom('users').selectAll().where('account_id', '=', accountId).where('name', '=', name).orderBy('created_at').orderBy('id').execute();
  return rows.map(toUser);
}

/** Deletes the user; their memberships, API keys (and so tokens) and console sessions go with them (foreign keys cascade). */
export async function deleteUser(db: Db, id: string): Promise<void> {
  await db.deleteFrom('role_assignments').where('principal_type', '=', 'USER').where('principal_id', '=', id).execute();
  await db.deleteFrom('users').where('id', '=', id).execute();
}

export async function apiKeyIdsOfUser(db: Db, id: string): Promise<string[]> {
  return (await db.selectFrom('api_keys').select('id').where('user_id', '=', id).execute()).map((r) => r.id);
}
