/** Harness CG API keys and their user groups (migration 0005). */
import type { CgApiKey } from '../domain/model.js';
import { forUpdate, type Db } from './database.js';
import { pagedList } from './rows.js';

export interface CgApiKeyRecord extends CgApiKey {
  secretDigest: string;
  encryptedValue: string;
}

type Row = { id: string; account_id: string; name: string; secret_digest: string; encrypted_value: string; created_at: number; updated_at: number };

async function groupsOf(db: Db, keyIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(keyIds.map((id) => [id, []]));
  if (keyIds.length === 0) return out;
  const rows = await db
    .selectFrom('cg_api_key_user_groups')
    .select(['api_key_id', 'user_group_id'])
    .where('api_key_id', 'in', keyIds)
    .orderBy('api_key_id')
    .orderBy('position')
    .execute();
  for (const r of rows) out.get(r.api_key_id)?.push(r.user_group_id);
  return out;
}

function toRecord(r: Row, groups: string[]): CgApiKeyRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    userGroupIds: groups,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    secretDigest: r.secret_digest,
    encryptedValue: r.encrypted_value,
  };
}

export async function insertCgApiKey(db: Db, k: CgApiKeyRecord): Promise<void> {
  await db
    .insertInto('cg_api_keys')
    .values({
      id: k.id,
      account_id: k.accountId,
      name: k.name,
      secret_digest: k.secretDigest,
      encrypted_value: k.encryptedValue,
      created_at: k.createdAt,
      updated_at: k.updatedAt,
    })
    .execute();
  await setCgApiKeyGroups(db, k.id, k.userGroupIds);
}

export async function setCgApiKeyGroups(db: Db, keyId: string, groupIds: string[]): Promise<void> {
  await db.deleteFrom('cg_api_key_user_groups').where('api_key_id', '=', keyId).execute();
  const unique = [...new Set(groupIds)];
  if (unique.length === 0) return;
  await db
    .insertInto('cg_api_key_user_groups')
    .values(unique.map((g, i) => ({ api_key_id: keyId, user_group_id: g, position: i })))
    .execute();
}

/** A key of the account; another account's key is invisible (null), as an unknown one. */
/** With `lock`, inside a transaction, the row stays locked until it ends (see forUpdate). */
export async function getCgApiKey(db: Db, accountId: string, id: string, opts: { lock?: boolean } = {}): Promise<CgApiKeyRecord | null> {
  const q = db.selectFrom('cg_api_keys').selectAll().where('id', '=', id).where('account_id', '=', accountId);
  const r = await (opts.lock ? forUpdate(db, q) : q).executeTakeFirst();
  if (!r) return null;
  return toRecord(r, (await groupsOf(db, [r.id])).get(r.id) ?? []);
}

export async function getCgApiKeyByName(db: Db, accountId: string, name: string): Promise<CgApiKeyRecord | null> {
  const r = await db.selectFrom('cg_api_keys').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  return r ? toRecord(r, []) : null;
}

/** The verification read: one indexed lookup by digest. Groups are read when the answer is built. */
export async function cgApiKeyByDigest(db: Db, digestHex: string): Promise<CgApiKeyRecord | null> {
  const r = await db.selectFrom('cg_api_keys').selectAll().where('secret_digest', '=', digestHex).executeTakeFirst();
  if (!r) return null;
  return toRecord(r, (await groupsOf(db, [r.id])).get(r.id) ?? []);
}

/** Oldest first, as Harness's list; keyset-stable by (created_at, id). */
export async function listCgApiKeys(db: Db, accountId: string, offset: number, limit: number): Promise<{ items: CgApiKeyRecord[]; total: number }> {
  const page = await pagedList(db.selectFrom('cg_api_keys').where('account_id', '=', accountId), { offset, limit }, { defaultSort: false, then: ['created_at', 'id'], map: (r: Row) => r });
  const groups = await groupsOf(db, page.items.map((r) => r.id));
  return { items: page.items.map((r) => toRecord(r, groups.get(r.id) ?? [])), total: page.total };
}

export async function updateCgApiKey(db: Db, id: string, patch: { name: string; updatedAt: number; encryptedValue?: string }): Promise<void> {
  await db
    .updateTable('cg_api_keys')
    .set({ name: patch.name, updated_at: patch.updatedAt, ...(patch.encryptedValue ? { encrypted_value: patch.encryptedValue } : {}) })
    .where('id', '=', id)
    .execute();
}

export async function deleteCgApiKey(db: Db, id: string): Promise<void> {
  await db.deleteFrom('cg_api_key_user_groups').where('api_key_id', '=', id).execute();
  await db.deleteFrom('cg_api_keys').where('id', '=', id).execute();
}

/** Every key id of an account (for delete-all and its invalidation). */
export async function cgApiKeyIdsOfAccount(db: Db, accountId: string): Promise<string[]> {
  return (await db.selectFrom('cg_api_keys').select('id').where('account_id', '=', accountId).execute()).map((r) => r.id);
}

/** The user groups of a key: the principals its permissions come from. */
export async function groupsOfCgApiKey(db: Db, keyId: string): Promise<string[]> {
  return (await groupsOf(db, [keyId])).get(keyId) ?? [];
}

/** Keys that hold a group, for answering "which keys use this group". */
export async function cgApiKeysOfGroup(db: Db, groupId: string): Promise<string[]> {
  return (await db.selectFrom('cg_api_key_user_groups').select('api_key_id').where('user_group_id', '=', groupId).execute()).map((r) => r.api_key_id);
}

/** Every sealed value, for re-sealing under a new master key. */
export async function allSealedCgKeys(db: Db): Promise<Array<{ id: string; encryptedValue: string }>> {
  return (await db.selectFrom('cg_api_keys').select(['id', 'encrypted_value']).execute()).map((r) => ({ id: r.id, encryptedValue: r.encrypted_value }));
}

export async function resealCgKey(db: Db, id: string, encryptedValue: string): Promise<void> {
  await db.updateTable('cg_api_keys').set({ encrypted_value: encryptedValue }).where('id', '=', id).execute();
}
