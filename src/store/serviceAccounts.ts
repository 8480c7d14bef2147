import { forUpdate, type Db } from './database.js';
import type { ServiceAccount } from '../domain/model.js';
import type { Scope } from '../domain/scope.js';
import type { ServiceAccountRow } from './schema.js';
import { bool, int, scopeColumns, type ListQuery, type ListResult, pagedList, SEARCH_WITH_TAGS, NEWEST_FIRST, entityWith } from './rows.js';

export const toServiceAccount = (r: ServiceAccountRow): ServiceAccount => entityWith(r, { email: r.email, active: bool(r.active), uniqueName: r.unique_name });

export async function insertServiceAccount(db: Db, sa: ServiceAccount): Promise<void> {
  await db
    .insertInto('service_accounts')
    .values({
      id: sa.id,
      ...scopeColumns(sa.scope),
      identifier: sa.identifier,
      name: sa.name,
      email: sa.email,
      description: sa.description,
      tags: JSON.stringify(sa.tags),
      active: int(sa.active),
      unique_name: sa.uniqueName ?? null,
      created_at: sa.createdAt,
      updated_at: sa.updatedAt,
    })
    .execute();
}

/** With `lock`, inside a transaction, the row stays locked until it ends (see forUpdate). */
export async function getServiceAccount(db: Db, scope: Scope, identifier: string, opts: { lock?: boolean } = {}): Promise<ServiceAccount | null> {
  const c = scopeColumns(scope);
  const q = db
    .selectFrom('service_accounts')
    .selectAll()
    .where('account_id', '=', c.account_id)
    .where('org_id', '=', c.org_id)
    .where('project_id', '=', c.project_id)
    .where('identifier', '=', identifier);
  const r = await (opts.lock ? forUpdate(db, q) : q).executeTakeFirst();
  return r ? toServiceAccount(r) : null;
}

export async function getServiceAccountById(db: Db, id: string): Promise<ServiceAccount | null> {
  const r = await db.selectFrom('service_accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toServiceAccount(r) : null;
}

export async function listServiceAccounts(db: Db, scope: Scope, q: ListQuery): Promise<ListResult<ServiceAccount>> {
  const c = scopeColumns(scope);
  const base = db
    .selectFrom('service_accounts')
    .where('account_id', '=', c.account_id)
    .where('org_id', '=', c.org_id)
    .where('project_id', '=', c.project_id);
  return pagedList(base, q, { search: SEARCH_WITH_TAGS, identifiers: true, defaultSort: NEWEST_FIRST, map: toServiceAccount });
}

export async function updateServiceAccount(db: Db, sa: ServiceAccount): Promise<void> {
  await db
    .updateTable('service_accounts')
    .set({
      name: sa.name,
      description: sa.description,
      tags: JSON.stringify(sa.tags),
      active: int(sa.active),
      ...(sa.uniqueName !== undefined ? { unique_name: sa.uniqueName } : {}),
      updated_at: sa.updatedAt,
    })
    .where('id', '=', sa.id)
    .execute();
}

export async function deleteServiceAccount(db: Db, id: string): Promise<void> {
  await db.deleteFrom('service_accounts').where('id', '=', id).execute();
}

/** Service accounts at account scope (where ZenML's live), for ZenML's in-memory filters. */
export async function listAccountLevelServiceAccounts(db: Db, accountId: string, limit = 10_000): Promise<ServiceAccount[]> {
  const rows = await db
    .selectFrom('service_accounts')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('org_id', '=', '')
    .where('project_id', '=', '')
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toServiceAccount);
}
