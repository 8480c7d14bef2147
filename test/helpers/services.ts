/**
 * Service-level worlds for test/services and test/store: a fresh migrated store on one database, a
 * ManualClock, every service, and one provisioned account with its admin (user, Account Admin
 * role, personal key and token). No HTTP: tests call the services directly, as the protocols do.
 */
import type { CacheOptions } from '../../src/services/verificationCache.js';
import { expect } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Keyring } from '../../src/domain/masterKey.js';
import type { KeywardError } from '../../src/domain/errors.js';
import type { ServiceAccount, User } from '../../src/domain/model.js';
import { makeScope, type Scope } from '../../src/domain/scope.js';
import { actorOf } from '../../src/domain/verification.js';
import type { KeyOwner } from '../../src/services/apiKeys.js';
import { SYSTEM_CALLER, type Caller, type Limits } from '../../src/services/context.js';
import { createServices, type Services } from '../../src/services/index.js';
import { provisionAccount, type Provisioned } from '../../src/services/provisioning.js';
import type { Verified } from '../../src/services/verification.js';
import { openTestStore, type DbKind, type TestStore } from './databases.js';

export const START = Date.UTC(2026, 0, 1, 12, 0, 0);
export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;

export interface ServiceWorld {
  kind: DbKind;
  ts: TestStore;
  clock: ManualClock;
  services: Services;
  /** The provisioned account: admin user, admin key and the admin's plain token. */
  provisioned: Provisioned;
  accountId: string;
  accountScope: Scope;
  /** The admin, as an actor verified from the admin's own token. */
  admin: Caller;
  close(): Promise<void>;
}

export async function openServiceWorld(kind: DbKind, opts: { limits?: Partial<Limits>; cache?: Partial<CacheOptions>; keyring?: () => Keyring } = {}): Promise<ServiceWorld> {
  const ts = await openTestStore(kind);
  const clock = new ManualClock(START);
  const services = createServices({ store: ts.store, clock, ...(opts.limits ? { limits: opts.limits } : {}), ...(opts.cache ? { cache: opts.cache } : {}), ...(opts.keyring ? { keyring: opts.keyring } : {}) });
  const provisioned = await provisionAccount(services.ctx, SYSTEM_CALLER, {
    accountName: 'Acme',
    adminEmail: 'admin@acme.test',
    adminName: 'Admin',
  });
  const admin = await callerFromToken(services, provisioned.token);
  return {
    kind,
    ts,
    clock,
    services,
    provisioned,
    accountId: provisioned.account.id,
    accountScope: makeScope(provisioned.account.id),
    admin,
    close: () => ts.cleanup(),
  };
}

/** Verifies the token and turns it into a caller, as the server's auth plugin does. */
export async function callerFromToken(services: Services, token: string): Promise<Caller> {
  const v = await services.verification.verify(token);
  if (!v.valid) throw new Error(`test token did not verify: ${v.reason}`);
  return { actor: actorOf(v) };
}

export async function verifyOk(services: Services, token: string): Promise<Verified> {
  const v = await services.verification.verify(token);
  expect(v).toMatchObject({ valid: true });
  return v as Verified;
}

export async function reasonOf(services: Services, token: unknown): Promise<string> {
  const v = await services.verification.verify(token);
  return v.valid ? 'valid' : v.reason;
}

/** A user of the world's account, optionally holding a built-in role at a scope. */
export async function addUser(
  w: ServiceWorld,
  email: string,
  role?: { roleIdentifier: string; scope?: Scope },
): Promise<{ user: User; caller: Caller }> {
  const user = await w.services.users.create(w.admin, w.accountId, { email, name: email.split('@')[0]! });
  if (role) {
    await w.services.access.createAssignment(w.admin, role.scope ?? w.accountScope, {
      roleIdentifier: role.roleIdentifier,
      principalType: 'USER',
      principalId: user.id,
    });
  }
  return { user, caller: userCaller(user) };
}

/** A caller acting as the user, without a token (as an authenticated request would be). */
export function userCaller(user: User): Caller {
  return { actor: { type: 'USER', id: user.id, accountId: user.accountId, isOperator: user.isOperator, via: { apiKeyId: null, tokenId: null } } };
}

export function userOwner(w: ServiceWorld, userId: string): KeyOwner {
  return { scope: w.accountScope, type: 'USER', parentIdentifier: userId };
}

export function saOwner(sa: Pick<ServiceAccount, 'scope' | 'identifier'>): KeyOwner {
  return { scope: sa.scope, type: 'SERVICE_ACCOUNT', parentIdentifier: sa.identifier };
}

export async function addServiceAccount(w: ServiceWorld, identifier: string, scope: Scope = w.accountScope): Promise<ServiceAccount> {
  return w.services.serviceAccounts.create(w.admin, scope, { identifier, name: identifier, email: `${identifier.toLowerCase()}@service.harness.io` });
}

/** A service account with a key and one token; returns the plain token. */
export async function serviceAccountWithToken(
  w: ServiceWorld,
  identifier: string,
  opts: { scope?: Scope; role?: string } = {},
): Promise<{ sa: ServiceAccount; owner: KeyOwner; token: string; tokenId: string }> {
  const sa = await addServiceAccount(w, identifier, opts.scope);
  if (opts.role) {
    await w.services.access.createAssignment(w.admin, sa.scope, { roleIdentifier: opts.role, principalType: 'SERVICE_ACCOUNT', principalId: sa.id });
  }
  const owner = saOwner(sa);
  await w.services.apiKeys.create(w.admin, owner, { identifier: 'key', name: 'key' });
  const issued = await w.services.tokens.create(w.admin, owner, { identifier: 'tok', name: 'tok', apiKeyIdentifier: 'key' });
  return { sa, owner, token: issued.secret, tokenId: issued.token.id };
}

/** Awaits a rejection and returns the error, so a test can assert its class, message and fields. */
export async function failure<E extends KeywardError = KeywardError>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    return e as E;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Replaces the secret part of an NG token with another well-formed secret. */
export function withOtherSecret(token: string): string {
  const parts = token.split('.');
  const secret = parts[parts.length - 1]!;
  parts[parts.length - 1] = secret.startsWith('A') ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
  return parts.join('.');
}

/** The secret part of an NG token (what must never be stored in plain text). */
export function ngSecretOf(token: string): string {
  return token.split('.').at(-1)!;
}
