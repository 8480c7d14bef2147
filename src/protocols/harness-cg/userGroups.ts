/**
 * CG GraphQL user groups, as harness-core `400-rest/src/main/resources/graphql/public/userGroup.graphql`,
 * `permissions.graphql` and `appPermissions.graphql` declare them: what Terraform's CG
 * `harness_user_group` resource calls through the Go SDK's `cd.UserClient`. Notification settings,
 * the SSO link and CG permissions are stored and read back; the account permission types Keyward
 * can honour grant Keyward permissions (src/domain/cgUserGroups.ts, docs/compat/harness-cg.md).
 */
import type { CgAppPermission, CgGroupSettings, CgNotificationSettings, CgPermissions, CgSsoSetting } from '../../domain/cgUserGroups.js';
import { withAccountPermission, withAppPermission } from '../../domain/cgUserGroups.js';
import { InvalidArgumentError } from '../../domain/errors.js';
import type { UserGroup } from '../../domain/model.js';
import type { GqlContext } from './context.js';
import { pageArgs, pageInfo, renderGroup, renderUser, type RenderedGroup } from './render.js';

export const userGroupSchema = /* GraphQL */ `
extend type Mutation {
  createUserGroup(input: CreateUserGroupInput!): CreateUserGroupPayload
  updateUserGroup(input: UpdateUserGroupInput!): UpdateUserGroupPayload
  updateUserGroupPermissions(input: UpdateUserGroupPermissionsInput): UpdateUserGroupPermissionsPayload
  deleteUserGroup(input: DeleteUserGroupInput!): DeleteUserGroupPayload
  addUserToUserGroup(input: AddUserToUserGroupInput!): AddUserToUserGroupPayload
  removeUserFromUserGroup(input: RemoveUserFromUserGroupInput!): RemoveUserFromUserGroupPayload
  addAccountPermission(input: AddAccountPermissionInput!): AddAccountPermissionPayload
  addAppPermission(input: AddAppPermissionInput!): AddAppPermissionPayload
}

extend type Query {
  userGroup(userGroupId: String!): UserGroup
  userGroups(limit: Int!, offset: Int): UserGroupConnection
  userGroupByName(name: String!): UserGroup
}

input CreateUserGroupInput {
  clientMutationId: String
  name: String!
  description: String
  userIds: [String]
  ssoSetting: SSOSettingInput
  permissions: Permissions
  notificationSettings: NotificationSettingsInput
}

input UpdateUserGroupInput {
  clientMutationId: String
  name: String
  userGroupId: String!
  description: String
  userIds: [String]
  ssoSetting: SSOSettingInput
  permissions: Permissions
  notificationSettings: NotificationSettingsInput
}

input SSOSettingInput {
  ldapSettings: LDAPSettingsInput
  samlSettings: SAMLSettingsInput
}

input LDAPSettingsInput {
  ssoProviderId: String!
  groupName: String!
  groupDN: String!
}

input SAMLSettingsInput {
  ssoProviderId: String!
  groupName: String!
}

input UpdateUserGroupPermissionsInput {
  clientMutationId: String
  userGroupId: String!
  permissions: Permissions!
}

input DeleteUserGroupInput {
  clientMutationId: String
  userGroupId: String!
}

input AddUserToUserGroupInput {
  clientMutationId: String
  userGroupId: String!
  userId: String!
}

input RemoveUserFromUserGroupInput {
  clientMutationId: String
  userGroupId: String!
  userId: String!
}

input AddAccountPermissionInput {
  clientMutationId: String
  userGroupId: String!
  accountPermission: AccountPermissionType
}

input AddAppPermissionInput {
  clientMutationId: String
  userGroupId: String!
  appPermission: ApplicationPermissionInput
}

type UserGroup {
  id: String
  name: String
  description: String
  users(limit: Int!, offset: Int): UserConnection
  ssoSetting: LinkedSSOSetting
  importedByScim: Boolean
  isSSOLinked: Boolean
  notificationSettings: NotificationSettings
  permissions: UserGroupPermissions
}

type UserGroupConnection {
  pageInfo: PageInfo
  nodes: [UserGroup]
}

interface LinkedSSOSetting {
  ssoProviderId: String
}

type LDAPSettings implements LinkedSSOSetting {
  ssoProviderId: String
  groupName: String
  groupDN: String
}

type SAMLSettings implements LinkedSSOSetting {
  ssoProviderId: String
  groupName: String
}

input NotificationSettingsInput {
  sendNotificationToMembers: Boolean
  sendMailToNewMembers: Boolean
  groupEmailAddresses: [String]
  slackNotificationSetting: SlackNotificationSettingInput
  pagerDutyIntegrationKey: String
  microsoftTeamsWebhookUrl: String
}

input SlackNotificationSettingInput {
  slackChannelName: String
  slackWebhookURL: String
}

type NotificationSettings {
  sendNotificationToMembers: Boolean
  sendMailToNewMembers: Boolean
  groupEmailAddresses: [String]
  slackNotificationSetting: SlackNotificationSetting
  microsoftTeamsWebhookUrl: String
  pagerDutyIntegrationKey: String
}

type SlackNotificationSetting {
  slackChannelName: String
  slackWebhookURL: String
}

type CreateUserGroupPayload {
  clientMutationId: String
  userGroup: UserGroup
}

type UpdateUserGroupPayload {
  clientMutationId: String
  userGroup: UserGroup
}

type UpdateUserGroupPermissionsPayload {
  clientMutationId: String
  permissions: UserGroupPermissions
}

type DeleteUserGroupPayload {
  clientMutationId: String
}

type AddUserToUserGroupPayload {
  clientMutationId: String
  userGroup: UserGroup
}

type RemoveUserFromUserGroupPayload {
  clientMutationId: String
  userGroup: UserGroup
}

type AddAccountPermissionPayload {
  clientMutationId: String
  userGroup: UserGroup
}

type AddAppPermissionPayload {
  clientMutationId: String
  userGroup: UserGroup
}

"permissions.graphql"
input Permissions {
  accountPermissions: AccountPermissionInput
  appPermissions: [ApplicationPermissionInput]
}

type UserGroupPermissions {
  accountPermissions: AccountPermissions
  appPermissions: [ApplicationPermission]
}

enum Actions {
  CREATE
  READ
  UPDATE
  DELETE
  EXECUTE
  EXECUTE_WORKFLOW
  EXECUTE_PIPELINE
  ROLLBACK_WORKFLOW
}

input AccountPermissionInput {
  accountPermissionTypes: [AccountPermissionType]
}

type AccountPermissions {
  accountPermissionTypes: [AccountPermissionType]
}

enum AccountPermissionType {
  CREATE_AND_DELETE_APPLICATION
  READ_USERS_AND_GROUPS
  MANAGE_USERS_AND_GROUPS
  MANAGE_TEMPLATE_LIBRARY
  ADMINISTER_OTHER_ACCOUNT_FUNCTIONS
  VIEW_AUDITS
  MANAGE_TAGS
  MANAGE_ACCOUNT_DEFAULTS
  ADMINISTER_CE
  VIEW_CE
  MANAGE_CLOUD_PROVIDERS
  MANAGE_CONNECTORS
  MANAGE_APPLICATION_STACKS
  MANAGE_DELEGATES
  MANAGE_ALERT_NOTIFICATION_RULES
  MANAGE_DELEGATE_PROFILES
  MANAGE_CONFIG_AS_CODE
  MANAGE_SECRETS
  MANAGE_SECRET_MANAGERS
  MANAGE_AUTHENTICATION_SETTINGS
  MANAGE_USER_AND_USER_GROUPS_AND_API_KEYS
  VIEW_USER_AND_USER_GROUPS_AND_API_KEYS
  MANAGE_IP_WHITELIST
  MANAGE_DEPLOYMENT_FREEZES
  ALLOW_DEPLOYMENTS_DURING_FREEZE
  MANAGE_PIPELINE_GOVERNANCE_STANDARDS
  MANAGE_API_KEYS
  CREATE_CUSTOM_DASHBOARDS
  MANAGE_CUSTOM_DASHBOARDS
  MANAGE_SSH_AND_WINRM
  MANAGE_RESTRICTED_ACCESS
}

"appPermissions.graphql (TEMPLATE and templates as the Go SDK's AppPermission has them)"
input ApplicationPermissionInput {
  permissionType: AppPermissionType!
  applications: AppFilterInput!
  services: ServicePermissionFilterInput
  environments: EnvPermissionFilterInput
  workflows: WorkflowPermissionFilterInput
  deployments: DeploymentPermissionFilterInput
  pipelines: PipelinePermissionFilterInput
  provisioners: ProvisionerPermissionFilterInput
  templates: TemplatePermissionFilterInput
  actions: [Actions]!
}

type ApplicationPermission {
  permissionType: AppPermissionType
  applications: AppFilter
  actions: [Actions]
  services: ServicePermissionFilter
  environments: EnvPermissionFilter
  workflows: WorkflowPermissionFilter
  deployments: DeploymentPermissionFilter
  pipelines: PipelinePermissionFilter
  provisioners: ProvisionerPermissionFilter
  templates: TemplatePermissionFilter
}

enum AppPermissionType {
  ALL
  ENV
  SERVICE
  WORKFLOW
  PIPELINE
  DEPLOYMENT
  PROVISIONER
  TEMPLATE
}

enum FilterType {
  ALL
}

input AppFilterInput {
  filterType: FilterType
  appIds: [String!]
}

type AppFilter {
  filterType: FilterType
  appIds: [String]
}

input ServicePermissionFilterInput {
  filterType: FilterType
  serviceIds: [String!]
}

type ServicePermissionFilter {
  filterType: FilterType
  serviceIds: [String]
}

enum EnvFilterType {
  PRODUCTION_ENVIRONMENTS
  NON_PRODUCTION_ENVIRONMENTS
}

type EnvPermissionFilter {
  filterTypes: [EnvFilterType]
  envIds: [String]
}

input EnvPermissionFilterInput {
  filterTypes: [EnvFilterType]
  envIds: [String!]
}

enum WorkflowPermissionFilterType {
  PRODUCTION_WORKFLOWS
  NON_PRODUCTION_WORKFLOWS
  WORKFLOW_TEMPLATES
  ALL_WORKFLOWS
}

type WorkflowPermissionFilter {
  filterTypes: [WorkflowPermissionFilterType]
  envIds: [String]
  workflowIds: [String]
}

input WorkflowPermissionFilterInput {
  filterTypes: [WorkflowPermissionFilterType]
  envIds: [String!]
  workflowIds: [String!]
}

enum DeploymentPermissionFilterType {
  PRODUCTION_ENVIRONMENTS
  NON_PRODUCTION_ENVIRONMENTS
}

input DeploymentPermissionFilterInput {
  filterTypes: [DeploymentPermissionFilterType]
  envIds: [String!]
}

type DeploymentPermissionFilter {
  filterTypes: [DeploymentPermissionFilterType]
  envIds: [String]
}

enum PipelinePermissionFilterType {
  PRODUCTION_PIPELINES
  NON_PRODUCTION_PIPELINES
  ALL_PIPELINES
}

input PipelinePermissionFilterInput {
  filterTypes: [PipelinePermissionFilterType]
  envIds: [String!]
  pipelineIds: [String!]
}

type PipelinePermissionFilter {
  filterTypes: [PipelinePermissionFilterType]
  envIds: [String]
  pipelineIds: [String]
}

input ProvisionerPermissionFilterInput {
  filterType: FilterType
  provisionerIds: [String!]
}

type ProvisionerPermissionFilter {
  filterType: FilterType
  provisionerIds: [String]
}

input TemplatePermissionFilterInput {
  filterType: FilterType
  templateIds: [String!]
}

type TemplatePermissionFilter {
  filterType: FilterType
  templateIds: [String]
}
`;

const echo = (input: { clientMutationId?: string | null }) => ({ clientMutationId: input.clientMutationId ?? null });

type Obj = Record<string, unknown>;

interface GroupInput {
  clientMutationId?: string | null;
  name?: string | null;
  description?: string | null;
  userIds?: Array<string | null> | null;
  userGroupId?: string;
  userId?: string;
  ssoSetting?: { ldapSettings?: Obj | null; samlSettings?: Obj | null } | null;
  permissions?: { accountPermissions?: { accountPermissionTypes?: Array<string | null> | null } | null; appPermissions?: Array<Obj | null> | null } | null;
  notificationSettings?: Obj | null;
}

const ids = (v: Array<string | null> | null | undefined): string[] | null => (v == null ? null : v.filter((x): x is string => typeof x === 'string' && x !== ''));
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const strs = (v: unknown): string[] | null => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null);

function toNotificationSettings(n: Obj): CgNotificationSettings {
  const slack = n.slackNotificationSetting as Obj | null | undefined;
  return {
    sendNotificationToMembers: bool(n.sendNotificationToMembers),
    sendMailToNewMembers: bool(n.sendMailToNewMembers),
    groupEmailAddresses: strs(n.groupEmailAddresses),
    slackNotificationSetting: slack ? { slackChannelName: str(slack.slackChannelName), slackWebhookURL: str(slack.slackWebhookURL) } : null,
    microsoftTeamsWebhookUrl: str(n.microsoftTeamsWebhookUrl),
    pagerDutyIntegrationKey: str(n.pagerDutyIntegrationKey),
  };
}

/** `{ldapSettings}` or `{samlSettings}` links the group; both is refused; neither unlinks it. */
function toSsoSetting(s: NonNullable<GroupInput['ssoSetting']>): CgSsoSetting | null {
  if (s.ldapSettings && s.samlSettings) throw InvalidArgumentError.field('ssoSetting', 'give ldapSettings or samlSettings, not both');
  if (s.ldapSettings) return { type: 'LDAP', ssoProviderId: String(s.ldapSettings.ssoProviderId), groupName: String(s.ldapSettings.groupName), groupDN: String(s.ldapSettings.groupDN) };
  if (s.samlSettings) return { type: 'SAML', ssoProviderId: String(s.samlSettings.ssoProviderId), groupName: String(s.samlSettings.groupName) };
  return null;
}

function filter(v: unknown): Record<string, unknown> | null {
  if (v === null || v === undefined || typeof v !== 'object') return null;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Obj)) if (x !== null && x !== undefined) out[k] = x;
  return out;
}

function toAppPermission(a: Obj): CgAppPermission {
  return {
    permissionType: String(a.permissionType),
    actions: strs(a.actions) ?? [],
    applications: filter(a.applications),
    services: filter(a.services),
    environments: filter(a.environments),
    workflows: filter(a.workflows),
    deployments: filter(a.deployments),
    pipelines: filter(a.pipelines),
    provisioners: filter(a.provisioners),
    templates: filter(a.templates),
  };
}

function toPermissions(p: NonNullable<GroupInput['permissions']>): CgPermissions {
  const types = [...new Set(ids(p.accountPermissions?.accountPermissionTypes) ?? [])];
  return { accountPermissionTypes: types, appPermissions: (p.appPermissions ?? []).filter((a): a is Obj => a !== null).map(toAppPermission) };
}

/** The CG settings an input sets: a field left out keeps what is stored; null clears it. */
function cgSettings(input: GroupInput): Partial<CgGroupSettings> {
  const out: Partial<CgGroupSettings> = {};
  if (input.notificationSettings !== undefined) out.notificationSettings = input.notificationSettings === null ? null : toNotificationSettings(input.notificationSettings);
  if (input.ssoSetting !== undefined) out.ssoSetting = input.ssoSetting === null ? null : toSsoSetting(input.ssoSetting);
  if (input.permissions !== undefined) out.permissions = input.permissions === null ? null : toPermissions(input.permissions);
  return out;
}

const cgRef = (ctx: GqlContext, id: string) => ({ accountId: ctx.cg.accountId, id });

export const userGroupResolvers = {
  Mutation: {
    async createUserGroup(_: unknown, { input }: { input: GroupInput }, ctx: GqlContext) {
      const { group } = await ctx.services.userGroups.create(ctx.cg.caller, { accountId: ctx.cg.accountId }, {
        name: input.name!,
        description: input.description ?? null,
        users: ids(input.userIds),
        cg: cgSettings(input),
      });
      return { ...echo(input), userGroup: renderGroup(group) };
    },
    async updateUserGroup(_: unknown, { input }: { input: GroupInput }, ctx: GqlContext) {
      const patch: { name?: string; description?: string | null; users?: string[] | null; cg?: Partial<CgGroupSettings> } = { cg: cgSettings(input) };
      if (input.name != null) patch.name = input.name;
      if (input.description !== undefined) patch.description = input.description;
      if (input.userIds != null) patch.users = ids(input.userIds);
      const { group } = await ctx.services.userGroups.update(ctx.cg.caller, cgRef(ctx, input.userGroupId!), patch);
      return { ...echo(input), userGroup: renderGroup(group) };
    },
    async updateUserGroupPermissions(_: unknown, { input }: { input: GroupInput | null }, ctx: GqlContext) {
      if (!input || !input.permissions) throw InvalidArgumentError.field('input', 'userGroupId and permissions are required');
      const permissions = toPermissions(input.permissions);
      const { group } = await ctx.services.userGroups.changeCgPermissions(ctx.cg.caller, cgRef(ctx, input.userGroupId!), () => permissions);
      return { ...echo(input), permissions: renderGroup(group).permissions };
    },
    async addAccountPermission(_: unknown, { input }: { input: GroupInput & { accountPermission?: string | null } }, ctx: GqlContext) {
      const type = input.accountPermission;
      if (!type) throw InvalidArgumentError.field('accountPermission', 'is required');
      const { group } = await ctx.services.userGroups.changeCgPermissions(ctx.cg.caller, cgRef(ctx, input.userGroupId!), (p) => withAccountPermission(p, type));
      return { ...echo(input), userGroup: renderGroup(group) };
    },
    async addAppPermission(_: unknown, { input }: { input: GroupInput & { appPermission?: Obj | null } }, ctx: GqlContext) {
      const perm = input.appPermission;
      if (!perm) throw InvalidArgumentError.field('appPermission', 'is required');
      const { group } = await ctx.services.userGroups.changeCgPermissions(ctx.cg.caller, cgRef(ctx, input.userGroupId!), (p) => withAppPermission(p, toAppPermission(perm)));
      return { ...echo(input), userGroup: renderGroup(group) };
    },
    async deleteUserGroup(_: unknown, { input }: { input: GroupInput }, ctx: GqlContext) {
      await ctx.services.userGroups.delete(ctx.cg.caller, cgRef(ctx, input.userGroupId!));
      return echo(input);
    },
    async addUserToUserGroup(_: unknown, { input }: { input: GroupInput }, ctx: GqlContext) {
      const { group } = await ctx.services.userGroups.setMembership(ctx.cg.caller, cgRef(ctx, input.userGroupId!), input.userId!, true);
      return { ...echo(input), userGroup: renderGroup(group) };
    },
    async removeUserFromUserGroup(_: unknown, { input }: { input: GroupInput }, ctx: GqlContext) {
      const { group } = await ctx.services.userGroups.setMembership(ctx.cg.caller, cgRef(ctx, input.userGroupId!), input.userId!, false);
      return { ...echo(input), userGroup: renderGroup(group) };
    },
  },
  Query: {
    async userGroup(_: unknown, { userGroupId }: { userGroupId: string }, ctx: GqlContext) {
      return renderGroup((await ctx.services.userGroups.get(ctx.cg.caller, cgRef(ctx, userGroupId))).group);
    },
    async userGroupByName(_: unknown, { name }: { name: string }, ctx: GqlContext) {
      const found = await ctx.services.userGroups.getByName(ctx.cg.caller, ctx.cg.accountId, name);
      return found ? renderGroup(found.group) : null;
    },
    async userGroups(_: unknown, args: { limit: number; offset?: number | null }, ctx: GqlContext) {
      const { limit, offset } = pageArgs(args);
      const scope = { accountId: ctx.cg.accountId, orgId: null, projectId: null };
      const page = await ctx.services.userGroups.list(ctx.cg.caller, scope, { offset, limit });
      return { pageInfo: pageInfo(page.total, offset, limit, page.items.length), nodes: page.items.map((v) => renderGroup(v.group)) };
    },
  },
  UserGroup: {
    async users(g: RenderedGroup, args: { limit: number; offset?: number | null }, ctx: GqlContext) {
      const { limit, offset } = pageArgs(args);
      const page = await ctx.services.userGroups.membersPage(ctx.cg.caller, { accountId: g.accountId, id: g.id }, { offset, limit });
      return { pageInfo: pageInfo(page.total, offset, limit, page.items.length), nodes: page.items.map(renderUser) };
    },
  },
  LinkedSSOSetting: {
    resolveType: (s: CgSsoSetting) => (s.type === 'LDAP' ? 'LDAPSettings' : 'SAMLSettings'),
  },
};

