/**
 * The console's client for Keyward's own public APIs (Harness NG REST and the native /v1), as any
 * client would call them. The session is an HttpOnly cookie the page cannot read; every request
 * carries `X-Keyward-Console: 1`, without which the server ignores the cookie (CSRF defence).
 * No token is ever stored in localStorage or sessionStorage.
 */

export interface FieldErrors {
  [field: string]: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly fields: FieldErrors = {},
  ) {
    super(message);
  }
}

/** The session ended (signed out elsewhere, expired, user deactivated, token revoked). */
export class SessionEnded extends ApiError {}

// ---- in-flight requests, for the progress bar ----------------------------------------------------

let inFlight = 0;
const listeners = new Set<(n: number) => void>();
export function onInFlight(fn: (n: number) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
function setInFlight(d: number) {
  inFlight += d;
  for (const l of listeners) l(inFlight);
}

let sessionEndedHandler: (() => void) | null = null;
export function onSessionEnded(fn: () => void): void {
  sessionEndedHandler = fn;
}

type Query = Record<string, string | number | boolean | null | undefined | string[]>;

function url(path: string, query?: Query): string {
  const u = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    for (const item of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(item));
  }
  return u.pathname + u.search;
}

/** Which field a Harness ERROR concerns, when its message names one. */
function fieldOfMessage(code: string, message: string): string | null {
  if (code === 'DUPLICATE_FIELD') return 'identifier';
  if (/validTo|expir|maxTokenLifetimeDays/i.test(message)) return 'validTo';
  if (/rotateTimestamp|maxRotationGraceMinutes/i.test(message)) return 'rotateTimestamp';
  if (/email/i.test(message)) return 'email';
  return null;
}

function toError(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as Record<string, any>;
  // Native: {"error":{"code","message","fields"}}
  if (b.error && typeof b.error === 'object') {
    const fields: FieldErrors = {};
    for (const f of (b.error.fields ?? []) as Array<{ field: string; message: string }>) fields[f.field] = f.message;
    return new ApiError(String(b.error.message ?? 'Request failed'), status, String(b.error.code ?? ''), fields);
  }
  // Harness NG: FAILURE with errors[{fieldId,error}], or ERROR with a message.
  if (b.status === 'FAILURE' || b.status === 'ERROR') {
    const fields: FieldErrors = {};
    for (const e of (b.errors ?? []) as Array<{ fieldId: string; error: string }>) fields[e.fieldId] = e.error;
    const message = String(b.message ?? 'Request failed');
    const code = String(b.code ?? '');
    if (Object.keys(fields).length === 0) {
      const f = fieldOfMessage(code, message);
      if (f) fields[f] = message.replace(/^Invalid (request|argument\(s\)): /, '');
    }
    return new ApiError(message, status, code, fields);
  }
  if (typeof b.message === 'string') return new ApiError(b.message, status, String(b.code ?? ''));
  return new ApiError(status >= 500 ? 'Keyward could not answer; try again.' : `Request failed (${status})`, status, '');
}

export async function request<T>(method: string, path: string, opts: { query?: Query; body?: unknown; quietSessionEnd?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { 'x-keyward-console': '1', accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  setInFlight(1);
  let res: Response;
  try {
    res = await fetch(url(path, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
  } catch {
    throw new ApiError('Keyward is not reachable. Check your connection and try again.', 0, 'NETWORK');
  } finally {
    setInFlight(-1);
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { message: text };
  }
  if (res.status === 401) {
    const e = toError(401, body);
    if (!opts.quietSessionEnd) sessionEndedHandler?.();
    throw new SessionEnded(e.message, 401, e.code, e.fields);
  }
  if (!res.ok) throw toError(res.status, body);
  const b = body as Record<string, unknown> | null;
  if (b && typeof b === 'object' && 'status' in b && 'correlationId' in b) {
    if (b.status !== 'SUCCESS') throw toError(res.status, b);
    return b.data as T;
  }
  return body as T;
}

// ---- shapes ----------------------------------------------------------------------------------------

export type ApiKeyType = 'USER' | 'SERVICE_ACCOUNT';

export interface Scope {
  accountId: string;
  org: string | null;
  project: string | null;
}

export interface Session {
  method: 'password' | 'token';
  expiresAt: number;
  /** Seconds left when the server answered (its clock, not the browser's). */
  expiresIn: number;
  accountId: string;
  principal: { type: string; id: string; identifier: string; name: string; email: string };
  permissions: string[];
}

export interface ApiKey {
  identifier: string;
  name: string;
  description: string | null;
  tags: Record<string, string>;
  apiKeyType: ApiKeyType;
  parentIdentifier: string;
  defaultTimeToExpireToken: number | null;
  accountIdentifier: string;
  orgIdentifier: string | null;
  projectIdentifier: string | null;
}

export interface ApiKeyAggregate {
  apiKey: ApiKey;
  createdAt: number;
  lastModifiedAt: number;
  tokensCount: number;
}

export type TokenState = 'active' | 'expiring_soon' | 'expired' | 'rotated_out' | 'not_yet_valid';

export interface TokenView {
  id: string;
  identifier: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  apiKeyIdentifier: string;
  apiKeyType: ApiKeyType;
  parentIdentifier: string;
  validFrom: number;
  validTo: number | null;
  scheduledExpireTime: number | null;
  state: TokenState;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
  lastUsedUserAgent: string | null;
  createdAt: number;
}

export interface Page<T> {
  totalPages: number;
  totalItems: number;
  pageItemCount: number;
  pageSize: number;
  content: T[];
  pageIndex: number;
  empty: boolean;
}

export interface ServiceAccount {
  identifier: string;
  name: string;
  email: string;
  description: string | null;
  tags: Record<string, string>;
  accountIdentifier: string;
  orgIdentifier: string | null;
  projectIdentifier: string | null;
}

export interface RoleAssignmentMeta {
  identifier: string;
  roleIdentifier: string;
  roleName: string;
  resourceGroupIdentifier: string;
  resourceGroupName: string;
  managedRole: boolean;
}

export interface ServiceAccountAggregate {
  serviceAccount: ServiceAccount;
  createdAt: number;
  lastModifiedAt: number;
  /** Harness's quirk: the number of API keys. */
  tokensCount: number;
  roleAssignmentsMetadataDTO: RoleAssignmentMeta[];
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
}

export type UsageOutcome = 'valid' | 'expired' | 'rotated_out' | 'not_yet_valid' | 'key_inactive' | 'principal_inactive';

export interface Usage {
  from: number;
  to: number;
  outcomes: UsageOutcome[];
  hours: Array<{ hour: number } & Record<UsageOutcome, number>>;
  totals: Record<UsageOutcome, number>;
}

export interface Organization {
  identifier: string;
  name: string;
  description: string | null;
  tags: Record<string, string>;
}

export interface Project extends Organization {
  orgIdentifier: string;
  color: string | null;
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
}

export interface UserGroup {
  identifier: string;
  name: string;
  description?: string;
  tags: Record<string, string>;
  users: string[];
  accountIdentifier: string;
  orgIdentifier?: string;
  projectIdentifier?: string;
}

export interface RoleAssignment {
  roleAssignment: { identifier: string; roleIdentifier: string; resourceGroupIdentifier: string; principal: { identifier: string; type: string; scopeLevel: string | null } };
}

// ---- calls ----------------------------------------------------------------------------------------

const scopeQuery = (s: Scope) => ({ accountIdentifier: s.accountId, orgIdentifier: s.org, projectIdentifier: s.project });
const scopeBody = (s: Scope) => ({ accountIdentifier: s.accountId, orgIdentifier: s.org, projectIdentifier: s.project });

export interface Owner {
  type: ApiKeyType;
  parentIdentifier: string;
  /** Personal keys are account-level only; a service account's keys live in its scope. */
  scope: Scope;
}

// ---- account policies (native /v1, docs/policies.md) -----------------------------------------------

// The server's own types: a policy's wire form is the domain's.
import type { Limit, Policy, PolicyField, PolicySource } from '../../src/domain/policy';
export type { Limit, Policy, PolicyField, PolicySource };

export interface PolicyView {
  scope: { accountId: string; orgId: string | null; projectId: string | null };
  policy: Policy;
  effective: { maxTokenLifetimeDays: number | null; requireExpiry: boolean; maxApiKeysPerOwner: Limit; maxTokensPerApiKey: Limit; maxRotationGraceMinutes: number | null; sources: Record<PolicyField, PolicySource> };
  updatedAt: number | null;
}

export interface PolicyViolation {
  rule: PolicyField;
  message: string;
  source: PolicySource;
  credential: {
    kind: 'token' | 'cg_api_key';
    id: string;
    identifier: string;
    name: string;
    apiKeyIdentifier: string | null;
    apiKeyType: ApiKeyType | null;
    parentIdentifier: string | null;
    format: 'harness_ng' | 'zenml' | 'harness_cg';
    scope: { accountId: string; orgId: string | null; projectId: string | null };
    createdAt: number;
    expiresAt: number | null;
  };
}

const policyPath = (accountId: string) => `/v1/accounts/${encodeURIComponent(accountId)}/policy`;
const policyScope = (s: Scope) => ({ orgIdentifier: s.org, projectIdentifier: s.project });
// The server's own list: the one place event types are named.
export { WEBHOOK_EVENTS } from '../../src/domain/webhookEventTypes';

export interface WebhookEndpoint {
  id: string;
  accountId: string;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookAttempt {
  deliveryId: string;
  eventType: string;
  attempt: number;
  at: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
}

type WebhookInput = { url: string; description: string; events: string[]; enabled: boolean };
const hooks = (accountId: string) => `/v1/accounts/${encodeURIComponent(accountId)}/webhooks`;

export const api = {
  session: () => request<Session>('GET', '/v1/sessions/current', { quietSessionEnd: true }),
  signIn: (body: { email: string; password: string } | { token: string }) => request<Session>('POST', '/v1/sessions', { body, quietSessionEnd: true }),
  signOut: () => request<null>('DELETE', '/v1/sessions', { quietSessionEnd: true }),

  organizations: (accountId: string, q: { pageIndex?: number; pageSize?: number; searchTerm?: string } = {}) =>
    request<Page<{ organization: Organization; createdAt: number }>>('GET', '/ng/api/organizations', { query: { accountIdentifier: accountId, pageSize: 100, ...q } }),
  createOrganization: (accountId: string, o: Omit<Organization, 'description'> & { description: string }) =>
    request<{ organization: Organization }>('POST', '/ng/api/organizations', { query: { accountIdentifier: accountId }, body: { organization: o } }),
  updateOrganization: (accountId: string, o: Organization) =>
    request<{ organization: Organization }>('PUT', `/ng/api/organizations/${encodeURIComponent(o.identifier)}`, { query: { accountIdentifier: accountId }, body: { organization: o } }),
  deleteOrganization: (accountId: string, identifier: string) =>
    request<boolean>('DELETE', `/ng/api/organizations/${encodeURIComponent(identifier)}`, { query: { accountIdentifier: accountId } }),
  projects: (accountId: string, org: string, q: { pageIndex?: number; pageSize?: number; searchTerm?: string } = {}) =>
    request<Page<{ project: Project; createdAt: number }>>('GET', '/ng/api/projects', {
      query: { accountIdentifier: accountId, orgIdentifier: org, pageSize: 100, ...q },
    }),
  createProject: (accountId: string, org: string, p: { identifier: string; name: string; description: string; tags: Record<string, string> }) =>
    request<{ project: Project }>('POST', '/ng/api/projects', { query: { accountIdentifier: accountId, orgIdentifier: org }, body: { project: { ...p, orgIdentifier: org } } }),
  updateProject: (accountId: string, p: Project) =>
    request<{ project: Project }>('PUT', `/ng/api/projects/${encodeURIComponent(p.identifier)}`, { query: { accountIdentifier: accountId, orgIdentifier: p.orgIdentifier }, body: { project: p } }),
  deleteProject: (accountId: string, org: string, identifier: string) =>
    request<boolean>('DELETE', `/ng/api/projects/${encodeURIComponent(identifier)}`, { query: { accountIdentifier: accountId, orgIdentifier: org } }),

  users: (accountId: string, q: { pageIndex: number; pageSize: number; search?: string }) =>
    request<{ items: User[]; total: number }>('GET', `/v1/accounts/${encodeURIComponent(accountId)}/users`, { query: q }),
  createUser: (accountId: string, u: { email: string; name: string; password?: string }) =>
    request<User>('POST', `/v1/accounts/${encodeURIComponent(accountId)}/users`, { body: u }),
  setUserActive: (accountId: string, userId: string, active: boolean) =>
    request<User>('PATCH', `/v1/accounts/${encodeURIComponent(accountId)}/users/${encodeURIComponent(userId)}`, { body: { active } }),
  setPassword: (accountId: string, userId: string, password: string) =>
    request<null>('PUT', `/v1/accounts/${encodeURIComponent(accountId)}/users/${encodeURIComponent(userId)}/password`, { body: { password } }),

  userGroups: (s: Scope, q: { pageIndex: number; pageSize: number; searchTerm?: string }) =>
    request<Page<UserGroup>>('GET', '/ng/api/user-groups', { query: { ...scopeQuery(s), ...q } }),
  getUserGroup: (s: Scope, identifier: string) => request<UserGroup>('GET', `/ng/api/user-groups/${encodeURIComponent(identifier)}`, { query: scopeQuery(s) }),
  createUserGroup: (s: Scope, g: { identifier: string; name: string; description: string; tags: Record<string, string> }) =>
    request<UserGroup>('POST', '/ng/api/user-groups', { query: scopeQuery(s), body: { ...g, users: [] } }),
  updateUserGroup: (s: Scope, g: UserGroup) => request<UserGroup>('PUT', '/ng/api/user-groups', { query: scopeQuery(s), body: g }),
  deleteUserGroup: (s: Scope, identifier: string) => request<UserGroup>('DELETE', `/ng/api/user-groups/${encodeURIComponent(identifier)}`, { query: scopeQuery(s) }),
  setMember: (s: Scope, group: string, userId: string, member: boolean) =>
    request<UserGroup>(member ? 'PUT' : 'DELETE', `/ng/api/user-groups/${encodeURIComponent(group)}/member/${encodeURIComponent(userId)}`, { query: scopeQuery(s) }),
  rolesOf: (s: Scope, principal: { type: 'USER_GROUP' | 'SERVICE_ACCOUNT' | 'USER'; identifier: string }) =>
    request<Page<RoleAssignment>>('POST', '/authz/api/roleassignments/filter', { query: { ...scopeQuery(s), pageSize: 100 }, body: { principalFilter: [principal] } }),

  listKeys: (o: Owner, q: { pageIndex: number; pageSize: number; searchTerm?: string }) =>
    request<Page<ApiKeyAggregate>>('GET', '/ng/api/apikey/aggregate', {
      query: { ...scopeQuery(o.scope), apiKeyType: o.type, parentIdentifier: o.parentIdentifier, ...q, sortOrders: 'createdAt,DESC' },
    }),
  createKey: (o: Owner, k: { identifier: string; name: string; description: string; tags: Record<string, string> }) =>
    request<ApiKey>('POST', '/ng/api/apikey', {
      query: { accountIdentifier: o.scope.accountId },
      body: { ...k, apiKeyType: o.type, parentIdentifier: o.parentIdentifier, ...scopeBody(o.scope) },
    }),
  updateKey: (k: ApiKey) => request<ApiKey>('PUT', `/ng/api/apikey/${encodeURIComponent(k.identifier)}`, { body: k }),
  deleteKey: (o: Owner, identifier: string) =>
    request<boolean>('DELETE', `/ng/api/apikey/${encodeURIComponent(identifier)}`, {
      query: { ...scopeQuery(o.scope), apiKeyType: o.type, parentIdentifier: o.parentIdentifier },
    }),

  /** Native: tokens with their state and last use. */
  listTokens: (o: Owner, apiKeyIdentifier: string) =>
    request<{ items: TokenView[]; total: number }>('GET', `/v1/accounts/${encodeURIComponent(o.scope.accountId)}/tokens`, {
      query: { orgIdentifier: o.scope.org, projectIdentifier: o.scope.project, apiKeyType: o.type, parentIdentifier: o.parentIdentifier, apiKeyIdentifier, pageSize: 100 },
    }),
  createToken: (o: Owner, apiKeyIdentifier: string, t: { identifier: string; name: string; description: string; tags: Record<string, string>; validTo: number | null }) =>
    request<string>('POST', '/ng/api/token', {
      query: { accountIdentifier: o.scope.accountId },
      body: { ...t, apiKeyIdentifier, apiKeyType: o.type, parentIdentifier: o.parentIdentifier, ...scopeBody(o.scope) },
    }),
  updateToken: (o: Owner, t: TokenView, patch: { name: string; description: string; tags: Record<string, string>; validTo: number | null }) =>
    request<unknown>('PUT', `/ng/api/token/${encodeURIComponent(t.identifier)}`, {
      query: { accountIdentifier: o.scope.accountId },
      body: {
        identifier: t.identifier,
        apiKeyIdentifier: t.apiKeyIdentifier,
        apiKeyType: o.type,
        parentIdentifier: o.parentIdentifier,
        ...scopeBody(o.scope),
        validFrom: t.validFrom,
        ...patch,
        validTo: patch.validTo ?? t.validTo,
      },
    }),
  /** Native: verifications of a key's tokens (or one token) per hour and outcome. */
  usage: (o: Owner, apiKeyIdentifier: string, days: 7 | 30, tokenId?: string) =>
    request<Usage>('GET', `/v1/accounts/${encodeURIComponent(o.scope.accountId)}/usage`, {
      query: { orgIdentifier: o.scope.org, projectIdentifier: o.scope.project, apiKeyType: o.type, parentIdentifier: o.parentIdentifier, apiKeyIdentifier, days, tokenId },
    }),
  /** Native: an owner's token by its id (the 24 hex digits after the account in the token), in any key. */
  findToken: (o: Owner, tokenId: string) =>
    request<{ items: TokenView[]; total: number }>('GET', `/v1/accounts/${encodeURIComponent(o.scope.accountId)}/tokens`, {
      query: { orgIdentifier: o.scope.org, projectIdentifier: o.scope.project, apiKeyType: o.type, parentIdentifier: o.parentIdentifier, tokenId, pageSize: 10 },
    }),
  /** After a rotation: the new token (it has the old one's identifier) gets its own expiry. */
  setTokenExpiry: (o: Owner, old: TokenView, validTo: number) =>
    request<unknown>('PUT', `/ng/api/token/${encodeURIComponent(old.identifier)}`, {
      query: { accountIdentifier: o.scope.accountId },
      body: {
        identifier: old.identifier,
        apiKeyIdentifier: old.apiKeyIdentifier,
        apiKeyType: o.type,
        parentIdentifier: o.parentIdentifier,
        ...scopeBody(o.scope),
        name: old.name,
        description: old.description,
        tags: old.tags,
        validTo,
      },
    }),
  rotateToken: (o: Owner, t: TokenView, keepUntil: number | null) =>
    request<string>('POST', `/ng/api/token/rotate/${encodeURIComponent(t.identifier)}`, {
      // Without a timestamp Keyward ends the old token now, on the server's clock.
      query: { ...scopeQuery(o.scope), apiKeyType: o.type, parentIdentifier: o.parentIdentifier, apiKeyIdentifier: t.apiKeyIdentifier, rotateTimestamp: keepUntil ?? undefined },
    }),
  deleteToken: (o: Owner, t: TokenView) =>
    request<boolean>('DELETE', `/ng/api/token/${encodeURIComponent(t.identifier)}`, {
      query: { ...scopeQuery(o.scope), apiKeyType: o.type, parentIdentifier: o.parentIdentifier, apiKeyIdentifier: t.apiKeyIdentifier },
    }),

  listServiceAccounts: (s: Scope, q: { pageIndex: number; pageSize: number; searchTerm?: string }) =>
    request<Page<ServiceAccountAggregate>>('GET', '/ng/api/serviceaccount/aggregate', { query: { ...scopeQuery(s), ...q, sortOrders: 'createdAt,DESC' } }),
  getServiceAccount: (s: Scope, identifier: string) =>
    request<ServiceAccountAggregate>('GET', `/ng/api/serviceaccount/aggregate/${encodeURIComponent(identifier)}`, { query: scopeQuery(s) }),
  createServiceAccount: (s: Scope, sa: { identifier: string; name: string; email: string; description: string; tags: Record<string, string> }) =>
    request<ServiceAccount>('POST', '/ng/api/serviceaccount', { query: scopeQuery(s), body: { ...sa, ...scopeBody(s) } }),
  updateServiceAccount: (s: Scope, sa: ServiceAccount) =>
    request<ServiceAccount>('PUT', `/ng/api/serviceaccount/${encodeURIComponent(sa.identifier)}`, { query: scopeQuery(s), body: { ...sa, ...scopeBody(s) } }),
  deleteServiceAccount: (s: Scope, identifier: string) =>
    request<boolean>('DELETE', `/ng/api/serviceaccount/${encodeURIComponent(identifier)}`, { query: scopeQuery(s) }),

  addRole: (s: Scope, principal: { identifier: string; scopeLevel: string; type?: 'SERVICE_ACCOUNT' | 'USER_GROUP' }, roleIdentifier: string) =>
    request<unknown>('POST', '/authz/api/roleassignments', {
      query: scopeQuery(s),
      body: { roleIdentifier, principal: { identifier: principal.identifier, type: principal.type ?? 'SERVICE_ACCOUNT', scopeLevel: principal.scopeLevel } },
    }),
  removeRole: (s: Scope, identifier: string) => request<unknown>('DELETE', `/authz/api/roleassignments/${encodeURIComponent(identifier)}`, { query: scopeQuery(s) }),

  policy: (s: Scope) => request<PolicyView>('GET', policyPath(s.accountId), { query: policyScope(s) }),
  setPolicy: (s: Scope, policy: Policy) => request<PolicyView>('PUT', policyPath(s.accountId), { query: policyScope(s), body: policy }),
  policies: (accountId: string) => request<{ items: Array<{ scope: PolicyView['scope']; policy: Policy; updatedAt: number }> }>('GET', `/v1/accounts/${encodeURIComponent(accountId)}/policies`),
  policyViolations: (accountId: string) => request<{ items: PolicyViolation[]; total: number }>('GET', `${policyPath(accountId)}/violations`),
  webhooks: (accountId: string) => request<{ items: WebhookEndpoint[] }>('GET', hooks(accountId)),
  createWebhook: (accountId: string, w: WebhookInput) => request<{ endpoint: WebhookEndpoint; secret: string }>('POST', hooks(accountId), { body: w }),
  updateWebhook: (accountId: string, id: string, w: Partial<WebhookInput>) => request<WebhookEndpoint>('PATCH', `${hooks(accountId)}/${encodeURIComponent(id)}`, { body: w }),
  deleteWebhook: (accountId: string, id: string) => request<null>('DELETE', `${hooks(accountId)}/${encodeURIComponent(id)}`),
  rotateWebhookSecret: (accountId: string, id: string) => request<{ endpoint: WebhookEndpoint; secret: string }>('POST', `${hooks(accountId)}/${encodeURIComponent(id)}/rotate-secret`),
  webhookDeliveries: (accountId: string, id: string) =>
    request<{ deliveries: WebhookDelivery[]; attempts: WebhookAttempt[] }>('GET', `${hooks(accountId)}/${encodeURIComponent(id)}/deliveries`, { query: { limit: 50 } }),
  replayDelivery: (accountId: string, id: string, deliveryId: string) =>
    request<{ queued: boolean }>('POST', `${hooks(accountId)}/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(deliveryId)}/replay`),

  audit: (accountId: string, q: { actor?: string; action?: string; from?: number; to?: number; cursor?: string; limit?: number }) =>
    request<{ items: AuditEvent[]; nextCursor: string | null }>('GET', `/v1/accounts/${encodeURIComponent(accountId)}/audit`, { query: { limit: 25, ...q } }),
};
