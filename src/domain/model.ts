/** The entities of the core model (docs/architecture.md), as services and protocols see them. */
import type { Scope, ScopeLevel } from './scope.js';
import type { ApiKeyType, TokenFormat } from './tokens.js';
import type { PrincipalType } from './permissions.js';
import type { CgGroupSettings } from './cgUserGroups.js';

export type Tags = Record<string, string>;

export interface Account {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
}

/** The fields every Harness NG entity has (identifier, name, description, tags) and its times. */
export interface NgEntity {
  id: string;
  identifier: string;
  name: string;
  description: string;
  tags: Tags;
  createdAt: number;
  updatedAt: number;
}

export interface Organization extends NgEntity {
  accountId: string;
}

export interface Project extends NgEntity {
  accountId: string;
  orgId: string;
  color: string;
  modules: string[];
}

export interface User {
  id: string;
  accountId: string;
  email: string;
  name: string;
  hasPassword: boolean;
  active: boolean;
  isOperator: boolean;
  createdAt: number;
  updatedAt: number;
}

/** What the scoped entities share (service accounts, API keys, tokens, user groups): NG's entity fields in a scope. */
export interface ScopedEntity extends NgEntity {
  scope: Scope;
}

export interface ServiceAccount extends ScopedEntity {
  email: string;
  active: boolean;
  /** The name as ZenML knows it, unique per account; null for service accounts named elsewhere. */
  uniqueName?: string | null;
}

export type ApiKeyFlavor = TokenFormat;

export interface ApiKey extends ScopedEntity {
  type: ApiKeyType;
  parentIdentifier: string;
  /** The owning principal's internal id (user id or service-account id). */
  userId: string | null;
  serviceAccountId: string | null;
  defaultTimeToExpireToken: number;
  active: boolean;
  flavor: ApiKeyFlavor;
  /** ZenML: the name unique per service account, the previous secret's retain period, last rotation and login. */
  uniqueName?: string | null;
  retainPeriodMinutes?: number;
  lastRotatedAt?: number | null;
  lastLoginAt?: number | null;
}

export interface Token extends ScopedEntity {
  apiKeyId: string;
  apiKeyType: ApiKeyType;
  parentIdentifier: string;
  apiKeyIdentifier: string;
  format: TokenFormat;
  validFrom: number;
  validTo: number | null;
  scheduledExpireTime: number | null;
  rotatedAt: number | null;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  lastUsedUserAgent: string | null;
}

/** What every new token starts with: never rotated, never used. */
export const UNUSED_TOKEN = Object.freeze({ scheduledExpireTime: null, rotatedAt: null, lastUsedAt: null, lastUsedIp: null, lastUsedUserAgent: null });

/** When the token stops working: its scheduled expiry once rotated, else its validTo. */
export function tokenExpiry(t: Pick<Token, 'scheduledExpireTime' | 'validTo'>): number | null {
  return t.scheduledExpireTime ?? t.validTo;
}

/** A token's validity window: from validFrom (inclusive) until validTo and, once rotated, its scheduled expiry (both exclusive). */
export type TokenWindow = Pick<Token, 'validFrom' | 'validTo' | 'scheduledExpireTime'>;

/**
 * Where `now` stands in a token's validity window: the one rule that verification, the Harness NG
 * `valid` flag and the native token state all apply. A rotated-out token is named so before an
 * expired one, and both before a token not yet valid.
 */
export function tokenWindowState(t: TokenWindow, now: number): 'valid' | 'rotated_out' | 'expired' | 'not_yet_valid' {
  if (t.scheduledExpireTime !== null && now >= t.scheduledExpireTime) return 'rotated_out';
  if (t.validTo !== null && now >= t.validTo) return 'expired';
  if (now < t.validFrom) return 'not_yet_valid';
  return 'valid';
}

/** Valid from validFrom (inclusive) until the expiry (exclusive). Harness excludes validFrom itself; see docs/compat. */
export function tokenIsValid(t: TokenWindow, now: number): boolean {
  return tokenWindowState(t, now) === 'valid';
}

/** A token closer than this to its end is "expiring soon" on the console. */
export const EXPIRING_SOON_MS = 7 * 24 * 60 * 60 * 1000;

export type TokenState = 'active' | 'expiring_soon' | 'expired' | 'rotated_out' | 'not_yet_valid';

/** The token's state as the console shows it: its window, and "expiring soon" while rotated out or near its validTo. */
export function tokenState(t: TokenWindow, now: number): TokenState {
  const w = tokenWindowState(t, now);
  if (w !== 'valid') return w;
  if (t.scheduledExpireTime !== null) return 'expiring_soon';
  if (t.validTo !== null && t.validTo - now <= EXPIRING_SOON_MS) return 'expiring_soon';
  return 'active';
}

export interface Role {
  identifier: string;
  name: string;
  description: string;
  scope: Scope | null;
  permissions: string[];
  managed: boolean;
}

export interface RoleAssignment {
  id: string;
  scope: Scope;
  identifier: string;
  roleIdentifier: string;
  resourceGroupIdentifier: string;
  principalType: Exclude<PrincipalType, 'API_KEY'>;
  principalId: string;
  disabled: boolean;
  managed: boolean;
  principalScopeLevel: ScopeLevel | null;
  roleScopeLevel: ScopeLevel | null;
  createdAt: number;
  updatedAt: number;
}

export interface UserGroup extends ScopedEntity {
  /** Harness CG's notification settings, SSO link and permissions (account-level groups; null when never set). */
  cg: CgGroupSettings;
}

/**
 * A Harness CG ("FirstGen") API key: an account-level key whose permissions are those of its user
 * groups. The key value is stored as a digest and, sealed under the master key, for the CG REST GET.
 */
export interface CgApiKey {
  id: string;
  accountId: string;
  name: string;
  /** Internal ids of its user groups (account level). */
  userGroupIds: string[];
  createdAt: number;
  updatedAt: number;
}

export interface AuditEvent {
  id: string;
  accountId: string;
  orgId: string | null;
  projectId: string | null;
  at: number;
  actorType: string;
  actorId: string;
  action: string;
  resourceType: string;
  resourceId: string;
  outcome: 'success' | 'failure';
  details: Record<string, unknown>;
  requestId: string | null;
}

/** Who is acting: a verified principal, or the system itself (bootstrap, CLI). */
export type Actor =
  | { type: 'USER'; id: string; accountId: string; isOperator: boolean; via: ActorVia }
  | { type: 'SERVICE_ACCOUNT'; id: string; identifier: string; scope: Scope; via: ActorVia }
  /** A Harness CG API key: an account-level key with no user or service account behind it. */
  | { type: 'API_KEY'; id: string; accountId: string; via: ActorVia }
  | { type: 'SYSTEM'; id: string };

export interface ActorVia {
  /** The API key and token the request was authenticated with, when it was. */
  apiKeyId: string | null;
  tokenId: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  pageIndex: number;
  pageSize: number;
}

/** A principal whose permissions are evaluated. */
export type Principal =
  | { type: 'USER'; id: string; accountId: string }
  | { type: 'SERVICE_ACCOUNT'; id: string; identifier: string; scope: Scope }
  /** A Harness CG API key: holds exactly the permissions of its user groups. */
  | { type: 'API_KEY'; id: string; accountId: string };
