/** Keyward entities rendered as ZenML response models (docs/compat/zenml.md). */
import type { ApiKey, ServiceAccount, User } from '../../domain/model.js';
import type { ZenmlComponent, ZenmlStack, ZenmlWorkspace } from '../../services/zenml.js';

/** Naive UTC with microseconds and no offset, as ZenML's utc_now() serializes: 2025-05-01T10:20:30.123000. */
export function naiveUtc(ms: number | null): string | null {
  if (ms === null) return null;
  return `${new Date(ms).toISOString().slice(0, 23)}000`;
}

export function serviceAccountModel(sa: ServiceAccount, hydrate: boolean) {
  return {
    id: sa.id,
    name: sa.name,
    permission_denied: false,
    body: { created: naiveUtc(sa.createdAt), updated: naiveUtc(sa.updatedAt), active: sa.active },
    metadata: hydrate ? { description: sa.description, external_user_id: null } : null,
    resources: null,
  };
}

/** A key's `updated` as ZenML reports it: its last change or its last login, whichever is later. */
export function keyUpdatedAt(key: ApiKey, lastLogin: number | null): number {
  return lastLogin !== null && lastLogin > key.updatedAt ? lastLogin : key.updatedAt;
}

export function apiKeyModel(key: ApiKey, sa: ServiceAccount, opts: { hydrate: boolean; secret?: string | null; lastLogin: number | null; metadata?: boolean }) {
  return {
    id: key.id,
    name: key.name,
    permission_denied: false,
    body: {
      created: naiveUtc(key.createdAt),
      // ZenML sets `updated` = now on every login with the key; Keyward derives it from the batched
      // last login instead of writing on the verification path.
      updated: naiveUtc(keyUpdatedAt(key, opts.lastLogin)),
      key: opts.secret ?? null,
      active: key.active,
      service_account: serviceAccountModel(sa, false),
    },
    metadata:
      opts.hydrate && opts.metadata !== false
        ? {
            description: key.description,
            retain_period_minutes: key.retainPeriodMinutes ?? 0,
            last_login: naiveUtc(opts.lastLogin),
            last_rotated: naiveUtc(key.lastRotatedAt ?? null),
          }
        : null,
    resources: null,
  };
}

/** A Keyward user id (base64url of 16 bytes) as the UUID ZenML's models require, and back. */
export function userIdToUuid(id: string): string {
  const hex = Buffer.from(id, 'base64url').toString('hex').padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function uuidToUserId(uuid: string): string {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex').toString('base64url');
}

function userBody(created: number, updated: number, active: boolean, isServiceAccount: boolean, isAdmin: boolean, email: string | null) {
  return {
    created: naiveUtc(created),
    updated: naiveUtc(updated),
    active,
    activation_token: null,
    full_name: isServiceAccount ? '' : '',
    email_opted_in: false,
    is_service_account: isServiceAccount,
    is_admin: isAdmin,
    email,
  };
}

/** A service account as ZenML's UserResponse (is_service_account true, full_name "", never admin). */
export function serviceAccountAsUser(sa: ServiceAccount) {
  return {
    id: sa.id,
    name: sa.name,
    permission_denied: false,
    body: userBody(sa.createdAt, sa.updatedAt, sa.active, true, false, null),
    metadata: { description: sa.description, external_user_id: null, user_metadata: {} },
    resources: null,
  };
}

export function userModel(u: User, isAdmin: boolean) {
  return {
    id: userIdToUuid(u.id),
    name: u.email,
    permission_denied: false,
    body: { ...userBody(u.createdAt, u.updatedAt, u.active, false, isAdmin, u.email), full_name: u.name },
    metadata: { external_user_id: null, user_metadata: {} },
    resources: null,
  };
}

export interface PageModel<T> {
  index: number;
  max_size: number;
  total_pages: number;
  total: number;
  items: T[];
}

/** ZenML's WorkspaceResponse (0.58: models/v2/core/workspace.py). */
export function workspaceModel(ws: ZenmlWorkspace, hydrate: boolean) {
  return {
    id: ws.id,
    name: ws.name,
    permission_denied: false,
    body: { created: naiveUtc(ws.createdAt), updated: naiveUtc(ws.updatedAt) },
    metadata: hydrate ? { description: ws.description } : null,
    resources: null,
  };
}

/** ZenML 0.80's ProjectResponse: the workspace renamed, with a display name (models/v2/core/project.py). */
export function projectModel(ws: ZenmlWorkspace, hydrate: boolean) {
  return {
    id: ws.id,
    name: ws.name,
    permission_denied: false,
    body: { created: naiveUtc(ws.createdAt), updated: naiveUtc(ws.updatedAt), display_name: 'Default' },
    metadata: hydrate ? { description: ws.description } : null,
    resources: null,
  };
}

/**
 * ZenML's ComponentResponse: a workspace-scoped entity with no owner (`user` null), an empty
 * configuration. The body carries 0.58's `flavor` and the `flavor_name`, `integration`, `logo_url`
 * and `user_id` of later versions: every ZenML model ignores fields it does not know.
 */
export function componentModel(c: ZenmlComponent, hydrate: boolean) {
  return {
    id: c.id,
    name: c.name,
    permission_denied: false,
    body: {
      created: naiveUtc(c.workspace.createdAt),
      updated: naiveUtc(c.workspace.updatedAt),
      user: null,
      user_id: null,
      type: c.type,
      flavor: c.flavor,
      flavor_name: c.flavor,
      integration: null,
      logo_url: null,
    },
    metadata: hydrate
      ? { workspace: workspaceModel(c.workspace, false), configuration: {}, labels: null, component_spec_path: null, connector_resource_id: null, connector: null }
      : null,
    resources: null,
  };
}

/** ZenML's StackResponse: components grouped by type, as ZenML's server sends them. */
export function stackModel(s: ZenmlStack, hydrate: boolean) {
  const components: Record<string, ReturnType<typeof componentModel>[]> = {};
  for (const c of s.components) (components[c.type] ??= []).push(componentModel(c, false));
  return {
    id: s.id,
    name: s.name,
    permission_denied: false,
    body: { created: naiveUtc(s.workspace.createdAt), updated: naiveUtc(s.workspace.updatedAt), user: null, user_id: null },
    metadata: hydrate ? { workspace: workspaceModel(s.workspace, false), components, description: s.description, stack_spec_path: null } : null,
    resources: null,
  };
}
