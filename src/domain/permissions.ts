/**
 * Permission names follow Harness NextGen (PlatformPermissions.java) so that NG role assignments,
 * access-denied bodies and Terraform role definitions carry the same strings.
 */
import type { ScopeLevel } from './scope.js';

export const P = {
  accountView: 'core_account_view',
  accountEdit: 'core_account_edit',
  organizationView: 'core_organization_view',
  organizationCreate: 'core_organization_create',
  organizationEdit: 'core_organization_edit',
  organizationDelete: 'core_organization_delete',
  projectView: 'core_project_view',
  projectCreate: 'core_project_create',
  projectEdit: 'core_project_edit',
  projectDelete: 'core_project_delete',
  userView: 'core_user_view',
  userManage: 'core_user_manage',
  userGroupView: 'core_usergroup_view',
  userGroupManage: 'core_usergroup_manage',
  serviceAccountView: 'core_serviceaccount_view',
  serviceAccountEdit: 'core_serviceaccount_edit',
  serviceAccountDelete: 'core_serviceaccount_delete',
  serviceAccountManageApiKey: 'core_serviceaccount_manageapikey',
  roleView: 'core_role_view',
  roleEdit: 'core_role_edit',
  roleDelete: 'core_role_delete',
  roleAssignmentView: 'core_roleassignment_view',
  roleAssignmentEdit: 'core_roleassignment_edit',
  roleAssignmentDelete: 'core_roleassignment_delete',
  auditView: 'core_audit_view',
  /** Harness CG's account permission for managing CG API keys. */
  manageApiKeys: 'MANAGE_API_KEYS',
} as const;

export type Permission = (typeof P)[keyof typeof P] | (string & {});

export const ALL_PERMISSIONS: readonly string[] = Object.values(P);

/** Permissions that only make sense at account scope. */
const ACCOUNT_ONLY = new Set<string>([P.accountView, P.accountEdit, P.organizationCreate, P.manageApiKeys]);
/** Permissions that make sense at account or organization scope. */
const ORG_OR_ABOVE = new Set<string>([P.organizationView, P.organizationEdit, P.organizationDelete, P.projectCreate]);

function permissionsFor(level: ScopeLevel, filter: (p: string) => boolean): string[] {
  return ALL_PERMISSIONS.filter((p) => {
    if (level !== 'account' && ACCOUNT_ONLY.has(p)) return false;
    if (level === 'project' && ORG_OR_ABOVE.has(p)) return false;
    return filter(p);
  });
}

const isView = (p: string) => p.endsWith('_view');

export interface BuiltInRole {
  identifier: string;
  name: string;
  /** The scope level at which the role is offered. */
  level: ScopeLevel;
  permissions: string[];
}

/** Harness's managed roles. Account Admin holds every permission, including the CG one. */
export const BUILT_IN_ROLES: readonly BuiltInRole[] = [
  { identifier: '_account_admin', name: 'Account Admin', level: 'account', permissions: permissionsFor('account', () => true) },
  { identifier: '_organization_admin', name: 'Organization Admin', level: 'organization', permissions: permissionsFor('organization', () => true) },
  { identifier: '_project_admin', name: 'Project Admin', level: 'project', permissions: permissionsFor('project', () => true) },
  { identifier: '_account_viewer', name: 'Account Viewer', level: 'account', permissions: permissionsFor('account', isView) },
  { identifier: '_organization_viewer', name: 'Organization Viewer', level: 'organization', permissions: permissionsFor('organization', isView) },
  { identifier: '_project_viewer', name: 'Project Viewer', level: 'project', permissions: permissionsFor('project', isView) },
];

export const BUILT_IN_ROLE_BY_ID: ReadonlyMap<string, BuiltInRole> = new Map(BUILT_IN_ROLES.map((r) => [r.identifier, r]));

/** Harness's managed resource groups; Keyward grants a role over every resource of its scope and below. */
export const DEFAULT_RESOURCE_GROUP: Record<ScopeLevel, string> = {
  account: '_all_account_level_resources',
  organization: '_all_organization_level_resources',
  project: '_all_project_level_resources',
};

export type PrincipalType = 'USER' | 'SERVICE_ACCOUNT' | 'USER_GROUP' | 'API_KEY';

/** Resource types as Harness names them in permission checks. */
export const RESOURCE = {
  account: 'ACCOUNT',
  organization: 'ORGANIZATION',
  project: 'PROJECT',
  user: 'USER',
  userGroup: 'USERGROUP',
  serviceAccount: 'SERVICEACCOUNT',
  role: 'ROLE',
  roleAssignment: 'ROLEASSIGNMENT',
  audit: 'AUDIT',
  apiKey: 'API_KEY',
  token: 'TOKEN',
} as const;
