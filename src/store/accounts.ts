import type { Db } from './database.js';
import type { Account, Organization, Project } from '../domain/model.js';
import type { AccountRow, OrganizationRow, ProjectRow } from './schema.js';
import { parseTags, type ListQuery, type ListResult, pagedList, SEARCH_WITH_TAGS, NEWEST_FIRST } from './rows.js';

const toAccount = (r: AccountRow): Account => ({ id: r.id, name: r.name, createdAt: r.created_at, updatedAt: r.updated_at });

export async function insertAccount(db: Db, a: Account): Promise<void> {
  await db.insertInto('accounts').values({ id: a.id, name: a.name, created_at: a.createdAt, updated_at: a.updatedAt }).execute();
}

export async function getAccount(db: Db, id: string): Promise<Account | null> {
  const r = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toAccount(r) : null;
}

export async function listAccounts(db: Db, offset: number, limit: number): Promise<{ items: Account[]; total: number }> {
  return pagedList(db.selectFrom('accounts'), { offset, limit }, { defaultSort: false, then: ['created_at', 'id'], map: toAccount });
}

export async function countAccounts(db: Db): Promise<number> {
  const r = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

const toOrg = (r: OrganizationRow): Organization => ({
  id: r.id,
  accountId: r.account_id,
  identifier: r.identifier,
  name: r.name,
  description: r.description,
  tags: parseTags(r.tags),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toProject = (r: ProjectRow): Project => ({
  id: r.id,
  accountId: r.account_id,
  orgId: r.org_id,
  identifier: r.identifier,
  name: r.name,
  description: r.description,
  color: r.color,
  tags: parseTags(r.tags),
  modules: JSON.parse(r.modules) as string[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertOrganization(db: Db, o: Organization): Promise<void> {
  await db
    .insertInto('organizations')
    .values({
      id: o.id,
      account_id: o.accountId,
      identifier: o.identifier,
      name: o.name,
      description: o.description,
      tags: JSON.stringify(o.tags),
      created_at: o.createdAt,
      updated_at: o.updatedAt,
    })
    .execute();
}

export async function getOrganization(db: Db, accountId: string, identifier: string): Promise<Organization | null> {
  const r = await db
    .selectFrom('organizations')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('identifier', '=', identifier)
    .executeTakeFirst();
  return r ? toOrg(r) : null;
}

export async function listOrganizations(db: Db, accountId: string, q: ListQuery): Promise<ListResult<Organization>> {
  const base = db.selectFrom('organizations').where('account_id', '=', accountId);
  return pagedList(base, q, { search: SEARCH_WITH_TAGS, identifiers: true, defaultSort: [{ field: 'name', desc: false }], map: toOrg });
}

export async function updateOrganization(db: Db, o: Organization): Promise<void> {
  await db
    .updateTable('organizations')
    .set({ name: o.name, description: o.description, tags: JSON.stringify(o.tags), updated_at: o.updatedAt })
    .where('id', '=', o.id)
    .execute();
}

export async function deleteOrganization(db: Db, id: string): Promise<void> {
  await db.deleteFrom('organizations').where('id', '=', id).execute();
}

export async function insertProject(db: Db, p: Project): Promise<void> {
  await db
    .insertInto('projects')
    .values({
      id: p.id,
      account_id: p.accountId,
      org_id: p.orgId,
      identifier: p.identifier,
      name: p.name,
      description: p.description,
      color: p.color,
      tags: JSON.stringify(p.tags),
      modules: JSON.stringify(p.modules),
      created_at: p.createdAt,
      updated_at: p.updatedAt,
    })
    .execute();
}

export async function getProject(db: Db, accountId: string, orgId: string, identifier: string): Promise<Project | null> {
  const r = await db
    .selectFrom('projects')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('org_id', '=', orgId)
    .where('identifier', '=', identifier)
    .executeTakeFirst();
  return r ? toProject(r) : null;
}

export async function listProjects(db: Db, accountId: string, orgIds: string[] | undefined, q: ListQuery): Promise<ListResult<Project>> {
  let base = db.selectFrom('projects').where('account_id', '=', accountId);
  if (orgIds && orgIds.length > 0) base = base.where('org_id', 'in', orgIds);
  return pagedList(base, q, { search: SEARCH_WITH_TAGS, identifiers: true, defaultSort: NEWEST_FIRST, map: toProject });
}

export async function updateProject(db: Db, p: Project): Promise<void> {
  await db
    .updateTable('projects')
    .set({ name: p.name, description: p.description, color: p.color, tags: JSON.stringify(p.tags), modules: JSON.stringify(p.modules), updated_at: p.updatedAt })
    .where('id', '=', p.id)
    .execute();
}

export async function deleteProject(db: Db, id: string): Promise<void> {
  await db.deleteFrom('projects').where('id', '=', id).execute();
}
