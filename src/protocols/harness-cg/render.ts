/**
 * What the CG GraphQL resolvers share: paging arguments, PageInfo, and how a user and a user group
 * are rendered (groups list their members and users list their groups, so both renderers live here).
 */
import type { CgAppPermission, CgNotificationSettings, CgSsoSetting } from '../../domain/cgUserGroups.js';
import { InvalidArgumentError } from '../../domain/errors.js';
import type { User, UserGroup } from '../../domain/model.js';

/** Harness connections take `limit` (required) and `offset`; Keyward caps a page at 100. */
export const MAX_PAGE = 100;

export function pageArgs(args: { limit: number; offset?: number | null }): { limit: number; offset: number } {
  if (args.limit < 0) throw InvalidArgumentError.field('limit', 'must be greater than or equal to 0');
  const offset = args.offset ?? 0;
  if (offset < 0) throw InvalidArgumentError.field('offset', 'must be greater than or equal to 0');
  return { limit: Math.min(args.limit, MAX_PAGE), offset };
}

/** framework.graphql's PageInfo { hasMore total offset limit }. */
export function pageInfo(total: number, offset: number, limit: number, count: number) {
  return { hasMore: offset + count < total, total, offset, limit };
}

export interface RenderedGroup {
  id: string;
  accountId: string;
  name: string;
  description: string | null;
  importedByScim: boolean;
  isSSOLinked: boolean;
  ssoSetting: CgSsoSetting | null;
  notificationSettings: CgNotificationSettings | null;
  permissions: { accountPermissions: { accountPermissionTypes: string[] }; appPermissions: CgAppPermission[] } | null;
}

export function renderGroup(g: UserGroup): RenderedGroup {
  const p = g.cg.permissions;
  return {
    id: g.id,
    accountId: g.scope.accountId,
    name: g.name,
    description: g.description === '' ? null : g.description,
    importedByScim: false,
    isSSOLinked: g.cg.ssoSetting !== null,
    ssoSetting: g.cg.ssoSetting,
    notificationSettings: g.cg.notificationSettings,
    permissions: p ? { accountPermissions: { accountPermissionTypes: p.accountPermissionTypes }, appPermissions: p.appPermissions } : null,
  };
}

export interface RenderedUser {
  id: string;
  accountId: string;
  name: string;
  email: string;
  isEmailVerified: boolean;
  isTwoFactorAuthenticationEnabled: boolean;
  isUserLocked: boolean;
  isPasswordExpired: boolean;
  isImportedFromIdentityProvider: boolean;
  externalUserId: null;
}

export function renderUser(u: User): RenderedUser {
  return {
    id: u.id,
    accountId: u.accountId,
    name: u.name,
    email: u.email,
    isEmailVerified: false,
    isTwoFactorAuthenticationEnabled: false,
    isUserLocked: !u.active,
    isPasswordExpired: false,
    isImportedFromIdentityProvider: false,
    externalUserId: null,
  };
}
