import type { ExpressionBuilder } from 'kysely';
import type { Db, Store } from './database.js';
import { preparedRead } from './prepared.js';
import type { ApiKey, ApiKeyFlavor } from '../domain/model.js';
import type { Scope } from '../domain/scope.js';
import type { ApiKeyType } from '../domain/tokens.js';
import type { ApiKeyRow, Database } from './schema.js';
import { bool, int, scopeColumns, type ListQuery, type ListResult, pagedList, SEARCH_WITH_TAGS, NEWEST_FIRST, entityWith } from './rows.js';

export const toApiKey = (r: ApiKeyRow): ApiKey =>
  entityWith(r, {
    type: r.api_key_type as ApiKeyType,
    parentIdentifier: r.parent_identifier,
    userId: r.user_id,
    serviceAccountId: r.service_account_id,
    defaultTimeToExpireToken: r.default_ttl_ms,
    active: bool(r.active),
    flavor: r.flavor as ApiKeyFlavor,
    uniqueName: r.unique_name,
    retainPeriodMinutes: r.retain_period_minutes,
    lastRotatedAt: r.last_rotated_at,
    lastLoginAt: r.last_login_at,
  });

export async function insertApiKey(db: Db, k: ApiKey): Promise<void> {
  await db
    .insertInto('api_keys')
    .values({
      id: k.id,
      ...scopeColumns(k.scope),
      identifier: k.identifier,
      name: k.name,
      description: k.description,
      tags: JSON.stringify(k.tags),
      api_key_type: k.type,
      parent_identifier: k.parentIdentifier,
      user_id: k.userId,
      service_account_id: k.serviceAccountId,
      default_ttl_ms: k.defaultTimeToExpireToken,
      active: int(k.active),
      flavor: k.flavor,
      unique_name: k.uniqueName ?? null,
      retain_period_minutes: k.retainPeriodMinutes ?? 0,
      last_rotated_at: k.lastRotatedAt ?? null,
      last_login_at: k.lastLoginAt ?? null,
      created_at: k.createdAt,
      updated_at: k.updatedAt,
    })
    .execute();
}

/** The parent a key hangs off: its type, parent identifier and scope. */
export interface KeyParent {
  scope: Scope;
  type: ApiKeyType;
  parentIdentifier: string;
}

function parentQuery(db: Db, p: KeyParent) {
  const c = scopeColumns(p.scope);
  return db
    .selectFrom('api_keys')
    .where('account_id', '=', c.account_id)
    .where('org_id', '=', c.org_id)
    .where('project_id', '=', c.project_id)
    .where('api_key_type', '=', p.type)
    .where('parent_identifier', '=', p.parentIdentifier);
}

/** Exact-match lookup, as Harness does (its uniqueness is case-insensitive, its reads are not). */
export async function getApiKey(db: Db, p: KeyParent, identifier: string): Promise<ApiKey | null> {
  const r = await parentQuery(db, p).selectAll().where('identifier', '=', identifier).executeTakeFirst();
  return r ? toApiKey(r) : null;
}

/**
 * A key's number of tokens, as a column of the key's row: its row in `token_counts` (migration 0011;
 * a token carries its key's scope, type, parent and identifier), none when it has no tokens.
 */
const tokensCount = (eb: ExpressionBuilder<Database, 'api_keys'>) =>
  eb
    .selectFrom('token_counts')
    .whereRef('token_counts.account_id', '=', 'api_keys.account_id')
    .whereRef('token_counts.org_id', '=', 'api_keys.org_id')
    .whereRef('token_counts.project_id', '=', 'api_keys.project_id')
    .whereRef('token_counts.api_key_type', '=', 'api_keys.api_key_type')
    .whereRef('token_counts.parent_identifier', '=', 'api_keys.parent_identifier')
    .whereRef('token_counts.api_key_identifier', '=', 'api_keys.identifier')
    .select('token_counts.n')
    .as('tokens_count');

/** A key row with its `tokens_count` column, as the key and its count (see `entityWith` for why not a spread). */
function withTokensCount(r: ApiKeyRow & { tokens_count: number | string | null }): ApiKey & { tokensCount: number } {
  return Object.assign(toApiKey(r), { tokensCount: Number(r.tokens_count ?? 0) });
}

/** The NG aggregate read of a key, compiled once (src/store/prepared.ts): scope columns, type, parent, identifier. */
const keyWithTokenCount = preparedRead('keyward_api_key_with_token_count', 6, (db, [account, org, project, type, parent, identifier]) =>
  parentQuery(db, { scope: { accountId: account!, orgId: org!, projectId: project! }, type: type as ApiKeyType, parentIdentifier: parent! })
    .selectAll('api_keys')
    .select(tokensCount)
    .where('identifier', '=', identifier!),
);

/** A key by exact identifier with its token count, in one query (the NG aggregate read). */
export async function getApiKeyWithTokenCount(store: Store, p: KeyParent, identifier: string): Promise<(ApiKey & { tokensCount: number }) | null> {
  const c = scopeColumns(p.scope);
  const [r] = await keyWithTokenCount(store, [c.account_id, c.org_id, c.project_id, p.type, p.parentIdentifier, identifier]);
  return r ? withTokensCount(r) : null;
}

/** Case-insensitive lookup, for duplicate checks that match the unique index. */
export async function findApiKeyCi(db: Db, p: KeyParent, identifier: string): Promise<ApiKey | null> {
  const r = await parentQuery(db, p)
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['identifier']), '=', identifier.toLowerCase()))
    .executeTakeFirst();
  return r ? toApiKey(r) : null;
}

export async function getApiKeyById(db: Db, id: string): Promise<ApiKey | null> {
  const r = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toApiKey(r) : null;
}

export async function countApiKeys(db: Db, p: KeyParent): Promise<number> {
  const r = await parentQuery(db, p).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function countApiKeysOfServiceAccount(db: Db, serviceAccountId: string): Promise<number> {
  const r = await db
    .selectFrom('api_keys')
    .where('service_account_id', '=', serviceAccountId)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function listApiKeys(db: Db, p: KeyParent, q: ListQuery): Promise<ListResult<ApiKey & { tokensCount: number }>> {
  return pagedList(parentQuery(db, p), q, {
    search: SEARCH_WITH_TAGS,
    identifiers: true,
    defaultSort: NEWEST_FIRST,
    table: 'api_keys',
    select: (b) => b.selectAll('api_keys').select(tokensCount),
    map: withTokensCount,
  });
}

export async function updateApiKey(db: Db, k: ApiKey): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({
      name: k.name,
      description: k.description,
      tags: JSON.stringify(k.tags),
      default_ttl_ms: k.defaultTimeToExpireToken,
      active: int(k.active),
      ...(k.uniqueName !== undefined ? { unique_name: k.uniqueName } : {}),
      ...(k.retainPeriodMinutes !== undefined ? { retain_period_minutes: k.retainPeriodMinutes } : {}),
      ...(k.lastRotatedAt !== undefined ? { last_rotated_at: k.lastRotatedAt } : {}),
      updated_at: k.updatedAt,
    })
    .where('id', '=', k.id)
    .execute();
}

export async function deleteApiKey(db: Db, id: string): Promise<void> {
  await db.deleteFrom('api_keys').where('id', '=', id).execute();
}

/** Every key of a service account or user: for cascade notifications. */
export async function apiKeyIdsOfPrincipal(db: Db, principal: { userId?: string; serviceAccountId?: string }): Promise<string[]> {
  let q = db.selectFrom('api_keys').select('id');
  if (principal.userId) q = q.where('user_id', '=', principal.userId);
  else if (principal.serviceAccountId) q = q.where('service_account_id', '=', principal.serviceAccountId);
  else return [];
  return (await q.execute()).map((r) => r.id);
}

/** Every key of a service account, oldest first. */
export async function apiKeysOfServiceAccount(db: Db, serviceAccountId: string): Promise<ApiKey[]> {
  const rows = await db.selectFrom('api_keys').selectAll().where('service_account_id', '=', serviceAccountId).orderBy('created_at').orderBy('id').execute();
  return rows.map(toApiKey);
}

/** Writes a batch of key logins (ZenML's last_login). Only ever moves it forward. */
export async function recordKeyLogins(db: Db, batch: Array<{ apiKeyId: string; at: number }>): Promise<void> {
  for (const u of batch) {
    await db
      .updateTable('api_keys')
      .set({ last_login_at: u.at })
      .where('id', '=', u.apiKeyId)
      .where((eb) => eb.or([eb('last_login_at', 'is', null), eb('last_login_at', '<', u.at)]))
      .execute();
  }
}
