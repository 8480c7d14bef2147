import type { Db } from './database.js';
import type { ApiKey, Token } from '../domain/model.js';
import type { Scope } from '../domain/scope.js';
import type { ApiKeyType, TokenFormat } from '../domain/tokens.js';
import type { TokenRow } from './schema.js';
import type { Generation } from './seek.js';
import { scopeColumns, type ListQuery, type ListResult, pagedList, SEARCH, NEWEST_FIRST, entityWith, rowScope } from './rows.js';

export const toToken = (r: TokenRow): Token =>
  entityWith(r, {
    apiKeyId: r.api_key_id,
    apiKeyType: r.api_key_type as ApiKeyType,
    parentIdentifier: r.parent_identifier,
    apiKeyIdentifier: r.api_key_identifier,
    format: r.format as TokenFormat,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    scheduledExpireTime: r.scheduled_expire_at,
    rotatedAt: r.rotated_at,
    lastUsedAt: r.last_used_at,
    lastUsedIp: r.last_used_ip,
    lastUsedUserAgent: r.last_used_user_agent,
  });

export async function insertToken(db: Db, t: Token, secretDigest: string, encryptedValue: string | null = null): Promise<void> {
  await db
    .insertInto('tokens')
    .values({
      id: t.id,
      api_key_id: t.apiKeyId,
      ...scopeColumns(t.scope),
      identifier: t.identifier,
      name: t.name,
      description: t.description,
      tags: JSON.stringify(t.tags),
      api_key_type: t.apiKeyType,
      parent_identifier: t.parentIdentifier,
      api_key_identifier: t.apiKeyIdentifier,
      format: t.format,
      secret_digest: secretDigest,
      valid_from: t.validFrom,
      valid_to: t.validTo,
      scheduled_expire_at: t.scheduledExpireTime,
      rotated_at: t.rotatedAt,
      encrypted_value: encryptedValue,
      last_used_at: null,
      last_used_ip: null,
      last_used_user_agent: null,
      created_at: t.createdAt,
      updated_at: t.updatedAt,
    })
    .execute();
}

export async function getTokenById(db: Db, id: string): Promise<Token | null> {
  const r = await db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? toToken(r) : null;
}

/** The API key fields that name its tokens in `tokens_unique_identifier` (migration 0001). */
export type TokenKey = Pick<ApiKey, 'id' | 'scope' | 'type' | 'parentIdentifier' | 'identifier'>;

/**
 * A key's token whose identifier is `identifier` ignoring case, narrowed by every column of the
 * unique index, so that it is one index probe whatever the number of tokens the key holds.
 */
function tokenOfKeyCi(db: Db, key: TokenKey, identifier: string) {
  const c = scopeColumns(key.scope);
  return db
    .selectFrom('tokens')
    .selectAll()
    .where('account_id', '=', c.account_id)
    .where('org_id', '=', c.org_id)
    .where('project_id', '=', c.project_id)
    .where((eb) => eb(eb.fn('lower', ['identifier']), '=', identifier.toLowerCase()))
    .where('api_key_type', '=', key.type)
    .where('parent_identifier', '=', key.parentIdentifier)
    .where((eb) => eb(eb.fn('lower', ['api_key_identifier']), '=', key.identifier.toLowerCase()))
    .where('api_key_id', '=', key.id);
}

export async function getTokenOfKey(db: Db, key: TokenKey, identifier: string): Promise<Token | null> {
  const r = await tokenOfKeyCi(db, key, identifier).where('identifier', '=', identifier).executeTakeFirst();
  return r ? toToken(r) : null;
}

export async function findTokenOfKeyCi(db: Db, key: TokenKey, identifier: string): Promise<Token | null> {
  const r = await tokenOfKeyCi(db, key, identifier).executeTakeFirst();
  return r ? toToken(r) : null;
}

/**
 * How many of the key's tokens are live (not rotated out: no scheduled expiry), counting no further
 * than `atMost`: a limit check reads at most that many index entries past the key's rotated-out ones.
 */
export async function countLiveTokensOfKey(db: Db, apiKeyId: string, atMost: number): Promise<number> {
  const r = await db
    .selectFrom((eb) => eb.selectFrom('tokens').select('id').where('api_key_id', '=', apiKeyId).where('scheduled_expire_at', 'is', null).limit(atMost).as('live'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function listTokensOfKey(db: Db, apiKeyId: string): Promise<Token[]> {
  const rows = await db.selectFrom('tokens').selectAll().where('api_key_id', '=', apiKeyId).orderBy('created_at').orderBy('id').execute();
  return rows.map(toToken);
}

export async function countTokensOfKey(db: Db, apiKeyId: string): Promise<number> {
  const r = await db
    .selectFrom('tokens')
    .where('api_key_id', '=', apiKeyId)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface TokenFilter {
  scope: Scope;
  apiKeyType: ApiKeyType;
  parentIdentifier?: string | undefined;
  apiKeyIdentifier?: string | undefined;
  /** Only tokens valid at this instant (validFrom <= now <= expiry). */
  activeAt?: number | undefined;
}

export async function listTokens(db: Db, f: TokenFilter, q: ListQuery): Promise<ListResult<Token>> {
  const c = scopeColumns(f.scope);
  let base = db
    .selectFrom('tokens')
    .where('account_id', '=', c.account_id)
    .where('org_id', '=', c.org_id)
    .where('project_id', '=', c.project_id)
    .where('api_key_type', '=', f.apiKeyType);
  if (f.parentIdentifier !== undefined) base = base.where('parent_identifier', '=', f.parentIdentifier);
  if (f.apiKeyIdentifier !== undefined) base = base.where('api_key_identifier', '=', f.apiKeyIdentifier);
  if (f.activeAt !== undefined) {
    const now = f.activeAt;
    base = base.where('valid_from', '<=', now).where((eb) =>
      eb.and([
        eb.or([eb('valid_to', 'is', null), eb('valid_to', '>=', now)]),
        eb.or([eb('scheduled_expire_at', 'is', null), eb('scheduled_expire_at', '>=', now)]),
      ]),
    );
  }
  const counted = countedTokens(f);
  // A token id (the 24 hex digits after the account in a token) matches exactly.
  return pagedList(base, q, {
    search: SEARCH,
    searchExact: ['id'],
    identifiers: true,
    defaultSort: NEWEST_FIRST,
    map: toToken,
    ...(counted
      ? { total: () => tokenListGeneration(db, counted), rowsByIds: (ids: string[]) => tokenRowsByIds(db, ids), positions: { db, list: `tokens|${countKeyOf(counted).join('|')}` } }
      : {}),
  });
}

async function tokenRowsByIds(db: Db, ids: string[]): Promise<TokenRow[]> {
  return ids.length === 0 ? [] : db.selectFrom('tokens').selectAll().where('id', 'in', ids).execute();
}

/** A list's row in `token_counts` (migration 0011): '' stands for every parent, every key. */
export interface TokenCountKey {
  scope: Scope;
  apiKeyType: ApiKeyType;
  parentIdentifier: string;
  apiKeyIdentifier: string;
}

/** The counter row that holds exactly what `f` lists, if one does (not for the active-only filter). */
function countedTokens(f: TokenFilter): TokenCountKey | null {
  if (f.activeAt !== undefined) return null;
  const parent = f.parentIdentifier ?? '';
  const key = f.apiKeyIdentifier ?? '';
  // Counted: the scope's tokens of a type, a parent's, a parent's key's. Not: a key under any parent,
  // nor an empty identifier given as a filter (it matches no token; '' is the counters' "all").
  if (f.parentIdentifier === '' || f.apiKeyIdentifier === '' || (parent === '' && key !== '')) return null;
  return { scope: f.scope, apiKeyType: f.apiKeyType, parentIdentifier: parent, apiKeyIdentifier: key };
}

/**
 * The number of tokens in a scope and type, of a parent, or of a parent's key, as kept by migration
 * 0011, and the list's generation (migration 0014), for remembered positions (store/seek.ts).
 */
export async function tokenListGeneration(db: Db, k: TokenCountKey): Promise<Generation> {
  const [accountId, orgId, projectId, apiKeyType, parent, key] = countKeyOf(k);
  const r = await db
    .selectFrom('token_counts')
    .select(['n', 'gen', 'born', 'joins', 'leaves', 'moves'])
    .where('account_id', '=', accountId)
    .where('org_id', '=', orgId)
    .where('project_id', '=', projectId)
    .where('api_key_type', '=', apiKeyType)
    .where('parent_identifier', '=', parent)
    .where('api_key_identifier', '=', key)
    .executeTakeFirst();
  // No row: no tokens. A row unchanged since migration 0014 says 0 (changes draw from 1 up).
  if (!r) return { total: 0, generation: 0 };
  return { total: Number(r.n), generation: Number(r.gen), born: Number(r.born), joins: Number(r.joins), leaves: Number(r.leaves), moves: Number(r.moves) };
}

/** A counter row's key columns, in token_counts' primary key order. */
function countKeyOf(k: TokenCountKey): [string, string, string, string, string, string] {
  const c = scopeColumns(k.scope);
  return [c.account_id, c.org_id, c.project_id, k.apiKeyType, k.parentIdentifier, k.apiKeyIdentifier];
}

export async function updateToken(
  db: Db,
  id: string,
  patch: Partial<Pick<Token, 'identifier' | 'name' | 'description' | 'tags' | 'validFrom' | 'validTo' | 'scheduledExpireTime' | 'rotatedAt'>> & {
    updatedAt: number;
  },
): Promise<void> {
  await db
    .updateTable('tokens')
    .set({
      ...(patch.identifier !== undefined ? { identifier: patch.identifier } : {}),
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.tags !== undefined ? { tags: JSON.stringify(patch.tags) } : {}),
      ...(patch.validFrom !== undefined ? { valid_from: patch.validFrom } : {}),
      ...(patch.validTo !== undefined ? { valid_to: patch.validTo } : {}),
      ...(patch.scheduledExpireTime !== undefined ? { scheduled_expire_at: patch.scheduledExpireTime } : {}),
      ...(patch.rotatedAt !== undefined ? { rotated_at: patch.rotatedAt } : {}),
      updated_at: patch.updatedAt,
    })
    .where('id', '=', id)
    .execute();
}

export async function deleteToken(db: Db, id: string): Promise<void> {
  await db.deleteFrom('tokens').where('id', '=', id).execute();
}

/** Removes tokens whose expiry passed before `before` (Harness's TTL index, run as a sweep). */
export async function deleteExpiredTokens(db: Db, before: number): Promise<string[]> {
  const rows = await db
    .deleteFrom('tokens')
    .where((eb) =>
      eb.or([
        eb('scheduled_expire_at', '<', before),
        eb.and([eb('scheduled_expire_at', 'is', null), eb('valid_to', '<', before)]),
      ]),
    )
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

export interface TokenUsage {
  tokenId: string;
  at: number;
  ip: string | null;
  userAgent: string | null;
}

/** Writes a batch of last-used records. Only ever moves last_used_at forward. */
export async function recordTokenUsage(db: Db, batch: TokenUsage[]): Promise<void> {
  for (const u of batch) {
    await db
      .updateTable('tokens')
      .set({ last_used_at: u.at, last_used_ip: u.ip, last_used_user_agent: u.userAgent })
      .where('id', '=', u.tokenId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', u.at)]))
      .execute();
  }
}

export type TokenSelector =
  | { tokenIds: string[] }
  | { apiKeyIds: string[] }
  | { serviceAccountId: string }
  | { scope: Scope; includeChildren: boolean };

/**
 * Records tombstones for the tokens the selector matches, and returns their ids and keys. Call it
 * before deleting them (directly or by cascade) so that verification can say "deleted".
 */
/** A tombstoned token: its id and key, and what a `token.deleted` webhook says about it. */
export type TombstonedToken = Pick<Token, 'id' | 'apiKeyId' | 'scope' | 'identifier' | 'apiKeyIdentifier' | 'apiKeyType' | 'parentIdentifier' | 'validTo'>;

export async function tombstoneTokens(db: Db, sel: TokenSelector, at: number): Promise<TombstonedToken[]> {
  let q = db
    .selectFrom('tokens')
    .select(['tokens.id', 'tokens.api_key_id', 'tokens.account_id', 'tokens.org_id', 'tokens.project_id', 'tokens.identifier', 'tokens.api_key_identifier', 'tokens.api_key_type', 'tokens.parent_identifier', 'tokens.valid_to']);
  if ('tokenIds' in sel) {
    if (sel.tokenIds.length === 0) return [];
    q = q.where('tokens.id', 'in', sel.tokenIds);
  } else if ('apiKeyIds' in sel) {
    if (sel.apiKeyIds.length === 0) return [];
    q = q.where('tokens.api_key_id', 'in', sel.apiKeyIds);
  } else if ('serviceAccountId' in sel) {
    const id = sel.serviceAccountId;
    q = q.where('tokens.api_key_id', 'in', (eb) => eb.selectFrom('api_keys').select('id').where('service_account_id', '=', id));
  } else {
    const c = scopeColumns(sel.scope);
    q = q.where('tokens.account_id', '=', c.account_id);
    if (c.org_id !== '' || !sel.includeChildren) q = q.where('tokens.org_id', '=', c.org_id);
    if (c.project_id !== '' || !sel.includeChildren) q = q.where('tokens.project_id', '=', c.project_id);
  }
  const rows = await q.execute();
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    await db
      .insertInto('token_tombstones')
      .values(chunk.map((r) => ({ id: r.id, api_key_id: r.api_key_id, deleted_at: at })))
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
  return rows.map((r) => ({
    id: r.id,
    apiKeyId: r.api_key_id,
    scope: rowScope(r),
    identifier: r.identifier,
    apiKeyIdentifier: r.api_key_identifier,
    apiKeyType: r.api_key_type as ApiKeyType,
    parentIdentifier: r.parent_identifier,
    validTo: r.valid_to,
  }));
}

export async function isTombstoned(db: Db, by: { tokenId: string } | { apiKeyId: string }): Promise<boolean> {
  const q = db.selectFrom('token_tombstones').select('id');
  const r = await ('tokenId' in by ? q.where('id', '=', by.tokenId) : q.where('api_key_id', '=', by.apiKeyId)).limit(1).executeTakeFirst();
  return r !== undefined;
}

export async function sweepTombstones(db: Db, before: number): Promise<void> {
  await db.deleteFrom('token_tombstones').where('deleted_at', '<', before).execute();
}
