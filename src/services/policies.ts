/**
 * Account policies (docs/policies.md): reading and setting them, the effective policy at a scope
 * that the key and token services enforce, and the report of existing credentials that break them.
 * Reading needs core_account_view, changing core_account_edit, both at account scope; a change is
 * audited with the old and the new policy. Existing credentials are reported, never revoked.
 */
import { NotFoundError } from '../domain/errors.js';
import { tokenExpiry } from '../domain/model.js';
import { P, RESOURCE } from '../domain/permissions.js';
import {
  checkPolicy,
  effectivePolicy,
  EMPTY_POLICY,
  graceViolation,
  lifetimeViolation,
  POLICY_FIELDS,
  type EffectivePolicy,
  type Policy,
  type PolicyField,
  type PolicySource,
} from '../domain/policy.js';
import { makeScope, sameScope, type Scope } from '../domain/scope.js';
import type { ApiKeyType, TokenFormat } from '../domain/tokens.js';
import { validate } from '../domain/validation.js';
import type { Db } from '../store/database.js';
import { listCgApiKeys } from '../store/cgApiKeys.js';
import * as store from '../store/policies.js';
import { mutate } from './audit.js';
import type { AccessCheck, Caller, ServiceContext } from './context.js';
import { assertScopeExists } from './scopes.js';

export interface PolicyView {
  scope: Scope;
  /** What this scope itself sets (null: not set here). */
  policy: Policy;
  /** What applies at this scope, with where each value comes from. */
  effective: EffectivePolicy;
  updatedAt: number | null;
}

export interface ViolatingCredential {
  kind: 'token' | 'cg_api_key';
  id: string;
  identifier: string;
  name: string;
  apiKeyIdentifier: string | null;
  apiKeyType: ApiKeyType | null;
  parentIdentifier: string | null;
  format: TokenFormat | 'harness_cg';
  scope: Scope;
  createdAt: number;
  /** When it stops working; null: never. */
  expiresAt: number | null;
}

export interface PolicyViolation {
  rule: PolicyField;
  message: string;
  source: PolicySource;
  credential: ViolatingCredential;
}

export class PolicyService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessCheck,
  ) {}

  /** The policy in force at `scope` (inside the caller's transaction when `db` is one). */
  async effective(db: Db, scope: Scope): Promise<EffectivePolicy> {
    const rows = await store.policiesAlong(db, scope);
    return effectivePolicy(scope, (s) => rows.find((r) => sameScope(r.scope, s))?.policy, this.defaults());
  }

  private defaults() {
    return { maxApiKeysPerOwner: this.ctx.limits.apiKeysPerParent, maxTokensPerApiKey: this.ctx.limits.tokensPerApiKey };
  }

  async get(caller: Caller, scope: Scope): Promise<PolicyView> {
    await this.access.require(caller, P.accountView, { type: RESOURCE.account, identifier: scope.accountId }, makeScope(scope.accountId));
    const db = this.ctx.store.db;
    await assertScopeExists(db, scope);
    return this.view(db, scope);
  }

  private async view(db: Db, scope: Scope): Promise<PolicyView> {
    const rows = await store.policiesAlong(db, scope);
    const own = rows.find((r) => sameScope(r.scope, scope));
    return {
      scope,
      policy: own?.policy ?? { ...EMPTY_POLICY },
      effective: effectivePolicy(scope, (s) => rows.find((r) => sameScope(r.scope, s))?.policy, this.defaults()),
      updatedAt: own?.updatedAt ?? null,
    };
  }

  /** Every policy set in the account, account first. */
  async list(caller: Caller, accountId: string): Promise<store.StoredPolicy[]> {
    await this.access.require(caller, P.accountView, { type: RESOURCE.account, identifier: accountId }, makeScope(accountId));
    return store.policiesOfAccount(this.ctx.store.db, accountId);
  }

  /** Replaces the policy of one scope (a field left null is not set there). Audited with both versions. */
  async set(caller: Caller, scope: Scope, input: Partial<Policy>): Promise<PolicyView> {
    const policy: Policy = { ...EMPTY_POLICY };
    for (const f of POLICY_FIELDS) if (input[f] !== undefined) (policy as unknown as Record<string, unknown>)[f] = input[f];
    validate(checkPolicy(policy));
    await this.access.require(caller, P.accountEdit, { type: RESOURCE.account, identifier: scope.accountId }, makeScope(scope.accountId));
    return mutate(this.ctx, caller, { action: 'policy.update', resourceType: RESOURCE.account, resourceId: scope.accountId, scope }, async (tx) => {
      if (!(await store.lockAccountForPolicy(tx, scope.accountId))) throw new NotFoundError(`Account [${scope.accountId}] does not exist`, 'account', scope.accountId);
      await assertScopeExists(tx, scope);
      const before = (await store.policiesAlong(tx, scope)).find((r) => sameScope(r.scope, scope))?.policy ?? { ...EMPTY_POLICY };
      await store.putPolicy(tx, scope, policy, this.ctx.clock.now());
      const changed = POLICY_FIELDS.filter((f) => before[f] !== policy[f]);
      return { result: await this.view(tx, scope), details: { before, after: policy, changed } };
    });
  }

  /**
   * Credentials of the account that still work and break the policy in force at their scope: a
   * token valid longer than allowed (or without an end date where one is required), a rotated-out
   * token kept working longer than the rotation grace allows, a Harness CG key under a lifetime
   * rule (CG keys never expire). Nothing is changed.
   */
  async violations(caller: Caller, accountId: string): Promise<PolicyViolation[]> {
    await this.access.require(caller, P.accountView, { type: RESOURCE.account, identifier: accountId }, makeScope(accountId));
    const db = this.ctx.store.db;
    const now = this.ctx.clock.now();
    const policies = await store.policiesOfAccount(db, accountId);
    const at = (scope: Scope) => effectivePolicy(scope, (s) => policies.find((r) => sameScope(r.scope, s))?.policy, this.defaults());
    const out: PolicyViolation[] = [];
    const add = (e: { rule: PolicyField; message: string; source: PolicySource } | null, credential: ViolatingCredential) => {
      if (e) out.push({ rule: e.rule, message: e.message, source: e.source, credential });
    };
    for (const t of await store.liveTokensOfAccount(db, accountId, now)) {
      const p = at(t.scope);
      const credential: ViolatingCredential = {
        kind: 'token',
        id: t.id,
        identifier: t.identifier,
        name: t.name,
        apiKeyIdentifier: t.apiKeyIdentifier,
        apiKeyType: t.apiKeyType,
        parentIdentifier: t.parentIdentifier,
        format: t.format,
        scope: t.scope,
        createdAt: t.createdAt,
        expiresAt: tokenExpiry(t),
      };
      // A rotated-out token is judged by its grace (its end was set by the rotation), a live one by its lifetime.
      if (t.scheduledExpireTime !== null && t.rotatedAt !== null) add(graceViolation(p, t.rotatedAt, t.scheduledExpireTime), credential);
      else add(lifetimeViolation(p, t.createdAt, t.validTo, 'This token'), credential);
    }
    const account = at(makeScope(accountId));
    if (account.maxTokenLifetimeDays !== null || account.requireExpiry) {
      const cg = await listCgApiKeys(db, accountId, 0, 100_000);
      for (const k of cg.items) {
        add(lifetimeViolation(account, k.createdAt, null, 'A Harness CG API key'), {
          kind: 'cg_api_key',
          id: k.id,
          identifier: k.id,
          name: k.name,
          apiKeyIdentifier: null,
          apiKeyType: null,
          parentIdentifier: null,
          format: 'harness_cg',
          scope: makeScope(accountId),
          createdAt: k.createdAt,
          expiresAt: null,
        });
      }
    }
    return out;
  }
}
