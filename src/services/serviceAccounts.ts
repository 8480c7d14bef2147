/** Service accounts: principals that live in any scope and own API keys. */
import { ConflictError, InvalidArgumentError, NotFoundError } from '../domain/errors.js';
import { newUuid } from '../domain/ids.js';
import type { ServiceAccount, Tags } from '../domain/model.js';
import { P, RESOURCE } from '../domain/permissions.js';
import type { Scope } from '../domain/scope.js';
import { checkDescription, checkEmail, checkIdentifier, checkName, checkTags, normalizeTags, validate } from '../domain/validation.js';
import { isUniqueViolation } from '../store/database.js';
import { deleteAssignmentsOfPrincipal } from '../store/access.js';
import { countApiKeysOfServiceAccount } from '../store/apiKeys.js';
import * as store from '../store/serviceAccounts.js';
import { tombstoneTokens } from '../store/tokens.js';
import type { ListQuery, ListResult } from '../store/rows.js';
import type { AccessService } from './access.js';
import { mutate } from './audit.js';
import type { Caller, ServiceContext } from './context.js';
import { assertScopeExists } from './scopes.js';
import { serviceAccountDeactivated, tokenEvent } from './webhookEvents.js';

export interface ServiceAccountInput {
  identifier: string;
  name: string;
  email: string;
  description?: string | null;
  tags?: Tags | null;
  active?: boolean | null;
}

export class ServiceAccountService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly access: AccessService,
  ) {}

  private validate(input: ServiceAccountInput): void {
    validate([
      ['identifier', checkIdentifier(input.identifier)],
      ['name', checkName(input.name)],
      ['email', checkEmail(input.email)],
      ['description', checkDescription(input.description)],
      ['tags', checkTags(input.tags)],
    ]);
  }

  async create(caller: Caller, scope: Scope, input: ServiceAccountInput): Promise<ServiceAccount> {
    this.validate(input);
    const now = this.ctx.clock.now();
    const sa: ServiceAccount = {
      id: newUuid(),
      scope,
      identifier: input.identifier,
      name: input.name,
      email: input.email.trim().toLowerCase(),
      description: input.description ?? '',
      tags: normalizeTags(input.tags),
      active: input.active ?? true,
      createdAt: now,
      updatedAt: now,
    };
    return mutate(this.ctx, caller, { action: 'serviceaccount.create', resourceType: RESOURCE.serviceAccount, resourceId: sa.identifier, scope }, async (tx) => {
      await this.access.require(caller, P.serviceAccountEdit, { type: RESOURCE.serviceAccount, identifier: input.identifier }, scope, tx);
      await assertScopeExists(tx, scope);
      try {
        await store.insertServiceAccount(tx, sa);
      } catch (e) {
        if (isUniqueViolation(e)) {
          throw new ConflictError(`A service account with identifier ${sa.identifier} is already present or was deleted in scope`, 'serviceaccount', 'identifier');
        }
        throw e;
      }
      return { result: sa, details: { id: sa.id } };
    });
  }

  /** Replaces name, description and tags (and active when given). The email cannot change. */
  async update(caller: Caller, scope: Scope, identifier: string, input: ServiceAccountInput): Promise<ServiceAccount> {
    this.validate(input);
    if (input.identifier !== identifier) {
      throw new InvalidArgumentError(`Value mismatch, previous: ${identifier} current: ${input.identifier}`, [{ field: 'identifier', message: 'must equal the identifier in the path' }]);
    }
    return this.change(caller, scope, identifier, (sa) => {
      if (input.email.trim().toLowerCase() !== sa.email) {
        throw new InvalidArgumentError('Email cannot be changed', [{ field: 'email', message: 'cannot be changed' }]);
      }
      return { ...sa, name: input.name, description: input.description ?? '', tags: normalizeTags(input.tags), active: input.active ?? sa.active };
    });
  }

  async setActive(caller: Caller, scope: Scope, identifier: string, active: boolean): Promise<ServiceAccount> {
    return this.change(caller, scope, identifier, (sa) => ({ ...sa, active }));
  }

  /**
   * Rewrites the service account as `edit` makes it from the stored row, read locked until the
   * transaction ends (see forUpdate): concurrent changes run one after the other, each from what the
   * one before committed, so none is lost and a deactivation is announced once.
   */
  private async change(caller: Caller, scope: Scope, identifier: string, edit: (sa: ServiceAccount) => ServiceAccount): Promise<ServiceAccount> {
    return mutate(this.ctx, caller, { action: 'serviceaccount.update', resourceType: RESOURCE.serviceAccount, resourceId: identifier, scope }, async (tx) => {
      await this.access.require(caller, P.serviceAccountEdit, { type: RESOURCE.serviceAccount, identifier }, scope, tx);
      const sa = await store.getServiceAccount(tx, scope, identifier, { lock: true });
      if (!sa) throw new NotFoundError(`Service account with identifier: ${identifier} doesn't exist`, 'serviceaccount', identifier);
      const next: ServiceAccount = { ...edit(sa), updatedAt: this.ctx.clock.now() };
      await store.updateServiceAccount(tx, next);
      const changedActive = next.active !== sa.active;
      return {
        result: next,
        details: changedActive ? { active: next.active } : {},
        // Always: cached verifications carry the principal's name and state.
        invalidate: [{ kind: 'principal', principalId: sa.id }],
        events: sa.active && !next.active ? [serviceAccountDeactivated(next)] : [],
      };
    });
  }

  /** Deletes the service account, its API keys and their tokens, and its role assignments. */
  async delete(caller: Caller, scope: Scope, identifier: string): Promise<void> {
    await mutate(this.ctx, caller, { action: 'serviceaccount.delete', resourceType: RESOURCE.serviceAccount, resourceId: identifier, scope }, async (tx) => {
      await this.access.require(caller, P.serviceAccountDelete, { type: RESOURCE.serviceAccount, identifier }, scope, tx);
      // Locked: of concurrent deletes, the first wins and the others find nothing.
      const sa = await store.getServiceAccount(tx, scope, identifier, { lock: true });
      if (!sa) throw new NotFoundError(`Service account with identifier: ${identifier} doesn't exist`, 'serviceaccount', identifier);
      const tokens = await tombstoneTokens(tx, { serviceAccountId: sa.id }, this.ctx.clock.now());
      await deleteAssignmentsOfPrincipal(tx, 'SERVICE_ACCOUNT', sa.id);
      await store.deleteServiceAccount(tx, sa.id); // keys and tokens follow by foreign-key cascade
      return {
        result: undefined,
        details: { id: sa.id, tokensDeleted: tokens.length },
        invalidate: [{ kind: 'principal', principalId: sa.id }, { kind: 'token', tokenIds: tokens.map((t) => t.id) }],
        events: tokens.map((t) => tokenEvent('token.deleted', t)),
      };
    });
  }

  async get(caller: Caller, scope: Scope, identifier: string): Promise<ServiceAccount> {
    await this.access.require(caller, P.serviceAccountView, { type: RESOURCE.serviceAccount, identifier }, scope);
    const sa = await store.getServiceAccount(this.ctx.store.db, scope, identifier);
    if (!sa) throw new NotFoundError(`Service account [${identifier}] doesn't exist in scope`, 'serviceaccount', identifier);
    return sa;
  }

  async list(caller: Caller, scope: Scope, q: ListQuery): Promise<ListResult<ServiceAccount>> {
    await this.access.require(caller, P.serviceAccountView, { type: RESOURCE.serviceAccount, identifier: null }, scope);
    return store.listServiceAccounts(this.ctx.store.db, scope, q);
  }

  async apiKeyCount(serviceAccountId: string): Promise<number> {
    return countApiKeysOfServiceAccount(this.ctx.store.db, serviceAccountId);
  }
}
