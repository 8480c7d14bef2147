/**
 * The verification read: a token with its key and its principal, in one indexed query. This is
 * the only read on the verification path (and, once cached, not even that).
 */
import type { Db, Store } from './database.js';
import { preparedRead } from './prepared.js';

export interface CredentialRecord {
  tokenId: string;
  apiKeyId: string;
  format: string;
  secretDigest: string;
  validFrom: number;
  validTo: number | null;
  scheduledExpireAt: number | null;
  accountId: string;
  orgId: string;
  projectId: string;
  apiKeyIdentifier: string;
  apiKeyType: string;
  keyActive: boolean;
  userId: string | null;
  serviceAccountId: string | null;
  principalIdentifier: string;
  principalName: string;
  principalEmail: string;
  principalActive: boolean;
  principalIsOperator: boolean;
  principalOrgId: string;
  principalProjectId: string;
}

function baseQuery(db: Db) {
  return db
    .selectFrom('tokens as t')
    .innerJoin('api_keys as k', 'k.id', 't.api_key_id')
    .leftJoin('users as u', 'u.id', 'k.user_id')
    .leftJoin('service_accounts as s', 's.id', 'k.service_account_id')
    .select([
      't.id as token_id',
      't.api_key_id',
      't.format',
      't.secret_digest',
      't.valid_from',
      't.valid_to',
      't.scheduled_expire_at',
      'k.account_id',
      'k.org_id',
      'k.project_id',
      'k.identifier as api_key_identifier',
      'k.api_key_type',
      'k.active as key_active',
      'k.user_id',
      'k.service_account_id',
      'u.name as user_name',
      'u.email as user_email',
      'u.active as user_active',
      'u.is_operator as user_is_operator',
      's.identifier as sa_identifier',
      's.name as sa_name',
      's.email as sa_email',
      's.active as sa_active',
      's.org_id as sa_org_id',
      's.project_id as sa_project_id',
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['execute']>>[number];

function toRecord(r: Row): CredentialRecord {
  const isUser = r.user_id !== null;
  return {
    tokenId: r.token_id,
    apiKeyId: r.api_key_id,
    format: r.format,
    secretDigest: r.secret_digest,
    validFrom: Number(r.valid_from),
    validTo: r.valid_to === null ? null : Number(r.valid_to),
    scheduledExpireAt: r.scheduled_expire_at === null ? null : Number(r.scheduled_expire_at),
    accountId: r.account_id,
    orgId: r.org_id,
    projectId: r.project_id,
    apiKeyIdentifier: r.api_key_identifier,
    apiKeyType: r.api_key_type,
    keyActive: r.key_active === 1,
    userId: r.user_id,
    serviceAccountId: r.service_account_id,
    principalIdentifier: (isUser ? r.user_id : r.sa_identifier) ?? '',
    principalName: (isUser ? r.user_name : r.sa_name) ?? '',
    principalEmail: (isUser ? r.user_email : r.sa_email) ?? '',
    principalActive: (isUser ? r.user_active : r.sa_active) === 1,
    principalIsOperator: isUser && r.user_is_operator === 1,
    principalOrgId: isUser ? '' : (r.sa_org_id ?? ''),
    principalProjectId: isUser ? '' : (r.sa_project_id ?? ''),
  };
}

export async function credentialByTokenId(db: Db, tokenId: string): Promise<CredentialRecord | null> {
  const r = await baseQuery(db).where('t.id', '=', tokenId).executeTakeFirst();
  return r ? toRecord(r) : null;
}

/** Every token of a key (ZenML keys: the current secret and at most one previous one). */
export async function credentialsByKeyId(db: Db, apiKeyId: string): Promise<CredentialRecord[]> {
  const rows = await baseQuery(db).where('t.api_key_id', '=', apiKeyId).orderBy('t.created_at', 'desc').limit(4).execute();
  return rows.map(toRecord);
}

/** The by-token-id read, compiled once (src/store/prepared.ts). */
const byTokenId = preparedRead<Row>('keyward_credential_by_token_id', 1, (db, [tokenId]) => baseQuery(db).where('t.id', '=', tokenId!));

/**
 * `credentialByTokenId` for the verification miss path: the same statement (built by the same
 * query builder), but prepared once and run without Kysely's per-call building and compiling.
 */
export async function readCredentialByTokenId(store: Store, tokenId: string): Promise<CredentialRecord | null> {
  const [r] = await byTokenId(store, [tokenId]);
  return r ? toRecord(r) : null;
}
