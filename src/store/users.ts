import type { Db } from './database.js';
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

export async function getUser(db: Db, id: string): Promise<User | null> {
  const r = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toUser(r) : null;
}

/** The user and their password hash, by email (case-insensitive). For sign-in only. */
export async function getUserCredentialsByEmail(db: Db, email: string): Promise<{ user: User; passwordHash: string | null } | null> {
  const r = await db.selectFrom('users').selectAll().where('email_lower', '=', email.toLowerCase()).executeTakeFirst();
  return r ? { user: toUser(r), passwordHash: r.password_hash } : null;
}

export async function emailTaken(db: Db, email: string): Promise<boolean> {
  const r = await db.selectFrom('users').select('id').where('email_lower', '=', email.toLowerCase()).executeTakeFirst();
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
