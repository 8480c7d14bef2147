/** Account policies, one row per scope that sets one (migration 0013_account_policies). */
import { forUpdate, type Db } from './database.js';
import { EMPTY_POLICY, POLICY_FIELDS, type Policy } from '../domain/policy.js';
import type { Scope } from '../domain/scope.js';
import type { Token } from '../domain/model.js';
import { rowScope, scopeColumns } from './rows.js';
import { toToken } from './tokens.js';

export interface StoredPolicy {
  scope: Scope;
  policy: Policy;
  updatedAt: number;
}

/** Only the known fields, each null when absent: a row written by an older or newer version still reads. */
function parsePolicy(json: string): Policy {
  let raw: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(json);
    if (v && typeof v === 'object') raw = v as Record<string, unknown>;
  } catch {
    // An unreadable row sets nothing.
  }
  const out: Policy = { ...EMPTY_POLICY };
  for (const f of POLICY_FIELDS) if (raw[f] !== undefined) (out as unknown as Record<string, unknown>)[f] = raw[f];
  return out;
}

/** Every policy set in the account (its own, its organizations', its projects'). */
export async function policiesOfAccount(db: Db, accountId: string): Promise<StoredPolicy[]> {
  const rows = await db.selectFrom('account_policies').selectAll().where('account_id', '=', accountId).orderBy('org_id').orderBy('project_id').execute();
  return rows.map((r) => ({ scope: rowScope(r), policy: parsePolicy(r.policy), updatedAt: r.updated_at }));
}

/** The policies set at `scope` and its ancestors (at most three rows, one indexed read). */
export async function policiesAlong(db: Db, scope: Scope): Promise<StoredPolicy[]> {
  const rows = await db
    .selectFrom('account_policies')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where((eb) =>
      eb.or([
        eb.and([eb('org_id', '=', ''), eb('project_id', '=', '')]),
        eb.and([eb('org_id', '=', scope.orgId ?? ''), eb('project_id', '=', '')]),
        eb.and([eb('org_id', '=', scope.orgId ?? ''), eb('project_id', '=', scope.projectId ?? '')]),
      ]),
    )
    .execute();
  return rows.map((r) => ({ scope: rowScope(r), policy: parsePolicy(r.policy), updatedAt: r.updated_at }));
}

/** Writes the policy of one scope; a policy that sets nothing removes the row. */
export async function putPolicy(db: Db, scope: Scope, policy: Policy, at: number): Promise<void> {
  const cols = scopeColumns(scope);
  await db.deleteFrom('account_policies').where('account_id', '=', cols.account_id).where('org_id', '=', cols.org_id).where('project_id', '=', cols.project_id).execute();
  if (POLICY_FIELDS.every((f) => policy[f] === null)) return;
  await db.insertInto('account_policies').values({ ...cols, policy: JSON.stringify(policy), updated_at: at }).execute();
}

/** Tokens of the account that still work at `now` (not expired, not rotated out), for the violations report. */
export async function liveTokensOfAccount(db: Db, accountId: string, now: number): Promise<Token[]> {
  const rows = await db
    .selectFrom('tokens')
    .selectAll()
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', now)]))
    .where((eb) => eb.or([eb('scheduled_expire_at', 'is', null), eb('scheduled_expire_at', '>', now)]))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toToken);
}

/** Locks the account's row until the transaction ends (see forUpdate): policy writes of one account run one after the other. */
export async function lockAccountForPolicy(db: Db, accountId: string): Promise<boolean> {
  const r = await forUpdate(db, db.selectFrom('accounts').select('id').where('id', '=', accountId)).executeTakeFirst();
  return r !== undefined;
}
