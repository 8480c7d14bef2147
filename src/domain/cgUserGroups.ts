/**
 * Harness CG user-group settings, as harness-core's public GraphQL schema declares them
 * (`userGroup.graphql`, `permissions.graphql`, `appPermissions.graphql`): notification settings, the
 * SSO group a group is linked to, and CG's permissions (account permission types and application
 * permissions). Keyward stores them so that they read back, and honours the account permission
 * types that name something Keyward has (users, user groups, API keys, audit): see
 * `grantsOfAccountPermissions` and docs/compat/harness-cg.md.
 */
import { P } from './permissions.js';

export interface CgSlackNotificationSetting {
  slackChannelName: string | null;
  slackWebhookURL: string | null;
}

export interface CgNotificationSettings {
  sendNotificationToMembers: boolean | null;
  sendMailToNewMembers: boolean | null;
  groupEmailAddresses: string[] | null;
  slackNotificationSetting: CgSlackNotificationSetting | null;
  microsoftTeamsWebhookUrl: string | null;
  pagerDutyIntegrationKey: string | null;
}

/** A group linked to an LDAP group (with its DN) or to a SAML group. */
export type CgSsoSetting =
  | { type: 'LDAP'; ssoProviderId: string; groupName: string; groupDN: string }
  | { type: 'SAML'; ssoProviderId: string; groupName: string };

/** One application permission; filters are kept as given (Keyward has no applications to apply them to). */
export interface CgAppPermission {
  permissionType: string;
  actions: string[];
  applications: Record<string, unknown> | null;
  services: Record<string, unknown> | null;
  environments: Record<string, unknown> | null;
  workflows: Record<string, unknown> | null;
  deployments: Record<string, unknown> | null;
  pipelines: Record<string, unknown> | null;
  provisioners: Record<string, unknown> | null;
  templates: Record<string, unknown> | null;
}

export interface CgPermissions {
  accountPermissionTypes: string[];
  appPermissions: CgAppPermission[];
}

/** What a CG group carries besides its name, description and members. Null: never set. */
export interface CgGroupSettings {
  notificationSettings: CgNotificationSettings | null;
  ssoSetting: CgSsoSetting | null;
  permissions: CgPermissions | null;
}

export const EMPTY_CG_SETTINGS: CgGroupSettings = { notificationSettings: null, ssoSetting: null, permissions: null };

/** Bounds on what a caller may store (Harness sets none; these keep a row small). */
export const CG_LIMITS = { emailAddresses: 100, appPermissions: 100, idsPerFilter: 1000, stringChars: 2048 } as const;

/**
 * The Keyward permissions a CG account permission type grants at account scope (and below). The
 * types not listed govern things Keyward does not have (applications, delegates, secrets, ...): they
 * are stored and returned only.
 */
const ACCOUNT_PERMISSION_GRANTS: Readonly<Record<string, readonly string[]>> = {
  READ_USERS_AND_GROUPS: [P.userView, P.userGroupView],
  MANAGE_USERS_AND_GROUPS: [P.userView, P.userManage, P.userGroupView, P.userGroupManage],
  VIEW_USER_AND_USER_GROUPS_AND_API_KEYS: [P.userView, P.userGroupView, P.serviceAccountView],
  MANAGE_USER_AND_USER_GROUPS_AND_API_KEYS: [
    P.userView,
    P.userManage,
    P.userGroupView,
    P.userGroupManage,
    P.serviceAccountView,
    P.serviceAccountManageApiKey,
    P.manageApiKeys,
  ],
  MANAGE_API_KEYS: [P.manageApiKeys],
  VIEW_AUDITS: [P.auditView],
};

/** The account permission types Keyward honours (the rest are stored and returned only). */
export const HONOURED_ACCOUNT_PERMISSION_TYPES: readonly string[] = Object.keys(ACCOUNT_PERMISSION_GRANTS);

export function grantsOfAccountPermissions(types: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of types) for (const p of ACCOUNT_PERMISSION_GRANTS[t] ?? []) out.add(p);
  return [...out];
}

/** Adds an account permission type (CG's addAccountPermission); a type already held is not repeated. */
export function withAccountPermission(current: CgPermissions | null, type: string): CgPermissions {
  const base = current ?? { accountPermissionTypes: [], appPermissions: [] };
  return base.accountPermissionTypes.includes(type) ? base : { ...base, accountPermissionTypes: [...base.accountPermissionTypes, type] };
}

/** Appends an application permission (CG's addAppPermission). */
export function withAppPermission(current: CgPermissions | null, perm: CgAppPermission): CgPermissions {
  const base = current ?? { accountPermissionTypes: [], appPermissions: [] };
  return { ...base, appPermissions: [...base.appPermissions, perm] };
}

function tooLong(v: unknown): boolean {
  return typeof v === 'string' && v.length > CG_LIMITS.stringChars;
}

/** A problem with the settings a caller gives, or null. */
export function checkCgSettings(s: Partial<CgGroupSettings>): string | null {
  const n = s.notificationSettings;
  if (n) {
    if ((n.groupEmailAddresses ?? []).length > CG_LIMITS.emailAddresses) return `notificationSettings.groupEmailAddresses: at most ${CG_LIMITS.emailAddresses} addresses`;
    const strings = [n.microsoftTeamsWebhookUrl, n.pagerDutyIntegrationKey, n.slackNotificationSetting?.slackChannelName, n.slackNotificationSetting?.slackWebhookURL, ...(n.groupEmailAddresses ?? [])];
    if (strings.some(tooLong)) return `notificationSettings: values are at most ${CG_LIMITS.stringChars} characters long`;
  }
  const sso = s.ssoSetting;
  if (sso && (sso.type === 'LDAP' ? [sso.ssoProviderId, sso.groupName, sso.groupDN] : [sso.ssoProviderId, sso.groupName]).some((v) => v.trim() === '' || tooLong(v))) {
    return 'ssoSetting: ssoProviderId, groupName (and groupDN for LDAP) must be non-blank and at most 2048 characters long';
  }
  const p = s.permissions;
  if (p) {
    if (p.appPermissions.length > CG_LIMITS.appPermissions) return `permissions.appPermissions: at most ${CG_LIMITS.appPermissions} entries`;
    for (const a of p.appPermissions) {
      for (const f of [a.applications, a.services, a.environments, a.workflows, a.deployments, a.pipelines, a.provisioners, a.templates]) {
        if (!f) continue;
        for (const v of Object.values(f)) {
          if (Array.isArray(v) && (v.length > CG_LIMITS.idsPerFilter || v.some(tooLong))) return `permissions.appPermissions: a filter holds at most ${CG_LIMITS.idsPerFilter} ids of at most ${CG_LIMITS.stringChars} characters`;
        }
      }
    }
  }
  return null;
}
