/**
 * CG user groups and users as the Go SDK's `cd.UserClient` uses them (harness-core
 * userGroup.graphql, permissions.graphql, appPermissions.graphql, user.graphql; the SDK's queries in
 * harness/cd/user_group.go and user.go, copied here as the SDK sends them): settings read back,
 * the permission mutations, Harness's not-found texts the SDK matches on, the account permission
 * types Keyward honours, a limit variable priced at its value, and CG users. The real SDK runs in
 * test/clients/harness.test.ts; this file needs no Go.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import type { TestKeyward } from '../../helpers/keyward.js';
import { issueUserToken } from '../../helpers/nativeApi.js';
import { customRole, gql, grantGroupRole, messages, newAccount, startCg, type Account } from './support.js';

/** harness/cd/user_group.go's userGroupFields, as the SDK sends it. */
const USER_GROUP_FIELDS = `
	id description importedByScim isSSOLinked name
	notificationSettings { groupEmailAddresses microsoftTeamsWebhookUrl sendMailToNewMembers sendNotificationToMembers slackNotificationSetting { slackChannelName slackWebhookURL } }
	permissions {
		accountPermissions { accountPermissionTypes }
		appPermissions { actions permissionType applications { appIds filterType } deployments { envIds filterTypes } environments { envIds filterTypes }
			pipelines { envIds filterTypes } provisioners { filterType provisionerIds } services { filterType serviceIds } workflows { envIds filterTypes } }
	}
	ldapSettings: ssoSetting { ... on LDAPSettings { groupDN groupName ssoProviderId } }
	samlSettings: ssoSetting { ... on SAMLSettings { groupName ssoProviderId } }
`;
const PAGINATION = 'pageInfo { limit offset total hasMore }';
const LIST = `query($limit: Int!, $offset: Int) { userGroups(limit: $limit, offset: $offset) { nodes { ${USER_GROUP_FIELDS} } ${PAGINATION} } }`;
const CREATE = `mutation($input: CreateUserGroupInput!) { createUserGroup(input: $input) { userGroup { ${USER_GROUP_FIELDS} } } }`;
const UPDATE = `mutation($input: UpdateUserGroupInput!) { updateUserGroup(input: $input) { userGroup { ${USER_GROUP_FIELDS} } } }`;
const byId = (id: string) => `{ userGroup(userGroupId: "${id}") { ${USER_GROUP_FIELDS} } }`;
const MEMBERSHIP = `query($limit: Int!, $offset: Int, $id: String!) { user(id: $id) { id email userGroups(limit: $limit, offset: $offset) { nodes { ${USER_GROUP_FIELDS} } ${PAGINATION} } } }`;

describeEachDb('harness CG: user groups and users as the Go SDK uses them', (kind) => {
  let k: TestKeyward;
  let a: Account;

  beforeAll(async () => {
    k = await startCg(kind);
    a = await newAccount(k);
  });
  afterAll(async () => k?.close());

  it("prices a limit variable at its value: the SDK's own list query runs; a nested page of 100 x 100 is refused", async () => {
    const list = await gql(a.http, a.acc, LIST, { limit: 10, offset: 0 });
    expect(list.body.errors, list.text).toBeUndefined();
    expect(list.body.data.userGroups.pageInfo).toEqual({ limit: 10, offset: 0, total: 0, hasMore: false });
    // The heaviest query the SDK sends (limit 100) is within the limit too.
    expect((await gql(a.http, a.acc, LIST, { limit: 100, offset: 0 })).body.errors).toBeUndefined();
    const nested = `query($n: Int!) { userGroups(limit: $n) { nodes { users(limit: $n) { nodes { id name email } } } } }`;
    expect((await gql(a.http, a.acc, nested, { n: 5 })).body.errors).toBeUndefined();
    const costly = await gql(a.http, a.acc, nested, { n: 100 });
    expect(costly.body.data).toBeUndefined();
    expect(messages(costly)[0]).toMatch(/^Query cost \d+ exceeds the maximum cost of 10000$/);
  });

  it("says a missing group or user in Harness's words, the ones the SDK takes for gone", async () => {
    const group = await gql(a.http, a.acc, byId('nosuchgroup'));
    expect(group.body.data.userGroup).toBeNull();
    expect(messages(group)).toEqual(['Invalid request: No User Group exists']);
    expect(group.body.errors[0].extensions.code).toBe('RESOURCE_NOT_FOUND');
    const del = await gql(a.http, a.acc, 'mutation($input: DeleteUserGroupInput!) { deleteUserGroup(input: $input) { clientMutationId } }', { input: { userGroupId: 'nosuchgroup' } });
    expect(messages(del)).toEqual(['Invalid request: No User Group exists']);
    const user = await gql(a.http, a.acc, '{ user(id: "nosuchuser") { id } }');
    expect(messages(user)).toEqual(['Invalid request: User does not exist']);
    expect((await gql(a.http, a.acc, '{ userGroupByName(name: "nobody") { id } }')).body).toEqual({ data: { userGroupByName: null } });
  });

  it('stores notification settings, the SSO link and permissions, and reads them back; the permission mutations change them', async () => {
    const input = {
      name: 'Ops',
      description: 'on call',
      notificationSettings: { groupEmailAddresses: ['ops@example.com'], sendMailToNewMembers: true, slackNotificationSetting: { slackChannelName: '#ops', slackWebhookURL: 'https://hooks.slack.com/x' } },
      permissions: {
        accountPermissions: { accountPermissionTypes: ['MANAGE_DELEGATES', 'MANAGE_DELEGATES', 'VIEW_AUDITS'] },
        appPermissions: [{ permissionType: 'ENV', applications: { appIds: ['a1'] }, environments: { filterTypes: ['PRODUCTION_ENVIRONMENTS'] }, actions: ['READ'] }],
      },
      ssoSetting: { ldapSettings: { ssoProviderId: 'ldap1', groupName: 'ops', groupDN: 'cn=ops' } },
    };
    const created = await gql(a.http, a.acc, CREATE, { input });
    expect(created.body.errors, created.text).toBeUndefined();
    const g = created.body.data.createUserGroup.userGroup;
    expect(g).toMatchObject({
      name: 'Ops',
      isSSOLinked: true,
      notificationSettings: { groupEmailAddresses: ['ops@example.com'], sendMailToNewMembers: true, sendNotificationToMembers: null, microsoftTeamsWebhookUrl: null, slackNotificationSetting: { slackChannelName: '#ops', slackWebhookURL: 'https://hooks.slack.com/x' } },
      permissions: {
        accountPermissions: { accountPermissionTypes: ['MANAGE_DELEGATES', 'VIEW_AUDITS'] },
        appPermissions: [{ permissionType: 'ENV', actions: ['READ'], applications: { appIds: ['a1'], filterType: null }, environments: { envIds: null, filterTypes: ['PRODUCTION_ENVIRONMENTS'] }, services: null }],
      },
      ldapSettings: { groupDN: 'cn=ops', groupName: 'ops', ssoProviderId: 'ldap1' },
      samlSettings: {},
    });
    expect((await gql(a.http, a.acc, byId(g.id))).body.data.userGroup).toEqual(g);
    // NG shows the same group's SSO link in UserGroupDTO's own fields.
    const ng = await a.http.get(`/ng/api/user-groups/${encodeURIComponent('Ops')}`, { query: { accountIdentifier: a.acc } });
    expect(ng.status, ng.text).toBe(200);
    expect(ng.body.data).toMatchObject({ isSsoLinked: true, linkedSsoId: 'ldap1', linkedSsoType: 'LDAP', ssoGroupId: 'cn=ops', ssoGroupName: 'ops', ssoLinked: true });

    // An update that leaves a setting out keeps it; null clears it.
    const upd = await gql(a.http, a.acc, UPDATE, { input: { userGroupId: g.id, name: 'Ops', notificationSettings: null } });
    expect(upd.body.errors, upd.text).toBeUndefined();
    expect(upd.body.data.updateUserGroup.userGroup).toEqual({ ...g, notificationSettings: null });

    const perms = await gql(a.http, a.acc, 'mutation($i: UpdateUserGroupPermissionsInput) { updateUserGroupPermissions(input: $i) { clientMutationId permissions { accountPermissions { accountPermissionTypes } appPermissions { permissionType } } } }', {
      i: { clientMutationId: 'm1', userGroupId: g.id, permissions: { accountPermissions: { accountPermissionTypes: ['READ_USERS_AND_GROUPS'] } } },
    });
    expect(perms.body).toEqual({ data: { updateUserGroupPermissions: { clientMutationId: 'm1', permissions: { accountPermissions: { accountPermissionTypes: ['READ_USERS_AND_GROUPS'] }, appPermissions: [] } } } });
    const addAcc = await gql(a.http, a.acc, 'mutation($i: AddAccountPermissionInput!) { addAccountPermission(input: $i) { userGroup { permissions { accountPermissions { accountPermissionTypes } } } } }', { i: { userGroupId: g.id, accountPermission: 'VIEW_AUDITS' } });
    expect(addAcc.body.data.addAccountPermission.userGroup.permissions.accountPermissions.accountPermissionTypes).toEqual(['READ_USERS_AND_GROUPS', 'VIEW_AUDITS']);
    const addApp = await gql(a.http, a.acc, 'mutation($i: AddAppPermissionInput!) { addAppPermission(input: $i) { userGroup { permissions { appPermissions { permissionType actions applications { filterType } } } } } }', {
      i: { userGroupId: g.id, appPermission: { permissionType: 'ALL', applications: { filterType: 'ALL' }, actions: ['READ', 'EXECUTE_PIPELINE'] } },
    });
    expect(addApp.body.data.addAppPermission.userGroup.permissions.appPermissions).toEqual([{ permissionType: 'ALL', actions: ['READ', 'EXECUTE_PIPELINE'], applications: { filterType: 'ALL' } }]);
    // Both SSO kinds at once is refused; an unknown enum value fails validation.
    const both = await gql(a.http, a.acc, UPDATE, { input: { userGroupId: g.id, ssoSetting: { ldapSettings: { ssoProviderId: 'l', groupName: 'g', groupDN: 'd' }, samlSettings: { ssoProviderId: 's', groupName: 'g' } } } });
    expect(both.body.errors[0].extensions.code).toBe('INVALID_ARGUMENT');
    const bad = await gql(a.http, a.acc, 'mutation($i: AddAccountPermissionInput!) { addAccountPermission(input: $i) { clientMutationId } }', { i: { userGroupId: g.id, accountPermission: 'ROOT' } });
    expect(bad.body.errors[0].extensions.classification).toBe('ValidationError');
  });

  it('keeps every account permission added at once (no lost update between concurrent mutations)', async () => {
    const id = (await gql(a.http, a.acc, CREATE, { input: { name: `Concurrent ${kind}` } })).body.data.createUserGroup.userGroup.id as string;
    const types = ['MANAGE_TAGS', 'MANAGE_ACCOUNT_DEFAULTS', 'MANAGE_CLOUD_PROVIDERS', 'MANAGE_CONNECTORS', 'MANAGE_APPLICATION_STACKS', 'MANAGE_DELEGATES', 'MANAGE_CONFIG_AS_CODE', 'MANAGE_SECRETS'];
    const add = 'mutation($i: AddAccountPermissionInput!) { addAccountPermission(input: $i) { clientMutationId } }';
    const answers = await Promise.all(types.map((t) => gql(a.http, a.acc, add, { i: { userGroupId: id, accountPermission: t } })));
    for (const r of answers) expect(r.body.errors, r.text).toBeUndefined();
    const held = (await gql(a.http, a.acc, byId(id))).body.data.userGroup.permissions.accountPermissions.accountPermissionTypes as string[];
    expect([...held].sort()).toEqual([...types].sort());
  });

  it('honours the account permission types it has a meaning for, for members and at once', async () => {
    const created = await a.http.post(`/v1/accounts/${a.acc}/users`, { email: `reader-${kind}@example.com` });
    expect(created.status, created.text).toBe(201);
    const reader = created.body.id as string;
    const token = (await issueUserToken(k, a.acc, reader)).token;
    const asReader = (q: string, v?: unknown) => gql(a.http, a.acc, q, v, { token });
    expect(messages(await asReader(LIST, { limit: 10 }))).toEqual(['User not authorized.']);

    const g = (await gql(a.http, a.acc, CREATE, { input: { name: `Readers ${kind}`, userIds: [reader], permissions: { accountPermissions: { accountPermissionTypes: ['READ_USERS_AND_GROUPS', 'MANAGE_DELEGATES'] } } } })).body.data.createUserGroup.userGroup;
    expect((await asReader(LIST, { limit: 10 })).body.errors).toBeUndefined();
    expect((await asReader('{ users(limit: 10) { nodes { id } } }')).body.errors).toBeUndefined();
    // Reading is not managing.
    expect(messages(await asReader(CREATE, { input: { name: 'not allowed' } }))).toEqual(['User not authorized.']);
    // NG sees the same grant.
    expect((await a.http.get('/ng/api/user-groups', { query: { accountIdentifier: a.acc }, token })).status).toBe(200);

    const perms = 'mutation($i: UpdateUserGroupPermissionsInput) { updateUserGroupPermissions(input: $i) { clientMutationId } }';
    await gql(a.http, a.acc, perms, { i: { userGroupId: g.id, permissions: { accountPermissions: { accountPermissionTypes: ['MANAGE_USERS_AND_GROUPS'] } } } });
    expect((await asReader(CREATE, { input: { name: `made by a member ${kind}` } })).body.errors).toBeUndefined();
    // Taking the types away takes the grant away at once (the permission cache is evicted).
    await gql(a.http, a.acc, perms, { i: { userGroupId: g.id, permissions: { accountPermissions: { accountPermissionTypes: ['MANAGE_DELEGATES'] } } } });
    expect(messages(await asReader(LIST, { limit: 10 }))).toEqual(['User not authorized.']);
  });

  it('adding honoured account permissions takes core_roleassignment_edit, as granting a role does; stored-only ones do not', async () => {
    const created = await a.http.post(`/v1/accounts/${a.acc}/users`, { email: `groupie-${kind}@example.com` });
    const groupie = created.body.id as string;
    const token = (await issueUserToken(k, a.acc, groupie)).token;
    await customRole(k, a.acc, `groups_only_${kind}`, ['core_usergroup_view', 'core_usergroup_manage']);
    const holder = (await gql(a.http, a.acc, CREATE, { input: { name: `Group managers ${kind}`, userIds: [groupie] } })).body.data.createUserGroup.userGroup.id as string;
    await grantGroupRole(k, a.acc, holder, `groups_only_${kind}`);
    const asGroupie = (q: string, v?: unknown) => gql(a.http, a.acc, q, v, { token });
    // Stored-only types, notification settings and SSO links: group management is enough.
    const plain = await asGroupie(CREATE, { input: { name: `delegates ${kind}`, permissions: { accountPermissions: { accountPermissionTypes: ['MANAGE_DELEGATES'] } } } });
    expect(plain.body.errors, plain.text).toBeUndefined();
    const id = plain.body.data.createUserGroup.userGroup.id as string;
    // Granting oneself MANAGE_API_KEYS through a group is refused, by every route, and nothing changes.
    const add = 'mutation($i: AddAccountPermissionInput!) { addAccountPermission(input: $i) { clientMutationId } }';
    expect(messages(await asGroupie(add, { i: { userGroupId: holder, accountPermission: 'MANAGE_API_KEYS' } }))).toEqual(['User not authorized.']);
    expect(messages(await asGroupie(UPDATE, { input: { userGroupId: id, permissions: { accountPermissions: { accountPermissionTypes: ['MANAGE_USER_AND_USER_GROUPS_AND_API_KEYS'] } } } }))).toEqual(['User not authorized.']);
    expect(messages(await asGroupie(CREATE, { input: { name: `escalation ${kind}`, userIds: [groupie], permissions: { accountPermissions: { accountPermissionTypes: ['VIEW_AUDITS'] } } } }))).toEqual(['User not authorized.']);
    expect(messages(await asGroupie('{ apiKeys(limit: 1) { nodes { name } } }'))).toEqual(['User not authorized.']);
    const after = await gql(a.http, a.acc, byId(id));
    expect(after.body.data.userGroup.permissions.accountPermissions.accountPermissionTypes).toEqual(['MANAGE_DELEGATES']);
    // An Account Admin may; and taking grants away needs only group management.
    expect((await gql(a.http, a.acc, add, { i: { userGroupId: id, accountPermission: 'VIEW_AUDITS' } })).body.errors).toBeUndefined();
    const perms = 'mutation($i: UpdateUserGroupPermissionsInput) { updateUserGroupPermissions(input: $i) { clientMutationId } }';
    expect((await asGroupie(perms, { i: { userGroupId: id, permissions: { accountPermissions: { accountPermissionTypes: [] } } } })).body.errors).toBeUndefined();
  });

  it("creates, finds, updates and deletes users as the SDK does; a deleted user's tokens stop working", async () => {
    const group = (await gql(a.http, a.acc, CREATE, { input: { name: `Members ${kind}` } })).body.data.createUserGroup.userGroup.id as string;
    const userFields = 'id email isEmailVerified isImportedFromIdentityProvider isPasswordExpired isTwoFactorAuthenticationEnabled isUserLocked name';
    const created = await gql(a.http, a.acc, `mutation($input: CreateUserInput!) { createUser(input: $input) { user { ${userFields} } } }`, { input: { name: 'Bob', email: `bob-${kind}@example.com`, userGroupIds: [group] } });
    expect(created.body.errors, created.text).toBeUndefined();
    const bob = created.body.data.createUser.user;
    expect(bob).toEqual({ id: expect.any(String), email: `bob-${kind}@example.com`, name: 'Bob', isEmailVerified: false, isImportedFromIdentityProvider: false, isPasswordExpired: false, isTwoFactorAuthenticationEnabled: false, isUserLocked: false });
    expect((await gql(a.http, a.acc, `{ userByName(name: "Bob") { id } }`)).body.data.userByName.id).toBe(bob.id);
    expect((await gql(a.http, a.acc, `{ userByEmail(email: "BOB-${kind.toUpperCase()}@example.com") { id } }`)).body.data.userByEmail.id).toBe(bob.id);
    const groups = await gql(a.http, a.acc, MEMBERSHIP, { id: bob.id, limit: 10, offset: 0 });
    expect(groups.body.data.user.userGroups.nodes.map((n: { id: string }) => n.id)).toEqual([group]);

    // An unknown group refuses the whole creation.
    const refused = await gql(a.http, a.acc, 'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }', { input: { name: 'Carol', email: `carol-${kind}@example.com`, userGroupIds: ['nosuchgroup'] } });
    expect(messages(refused)).toEqual(['Invalid request: No User Group exists']);
    expect((await gql(a.http, a.acc, `{ userByEmail(email: "carol-${kind}@example.com") { id } }`)).body.data.userByEmail).toBeNull();

    const renamed = await gql(a.http, a.acc, 'mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id name } } }', { input: { id: bob.id, name: 'Robert', userGroupIds: [] } });
    expect(renamed.body.data.updateUser.user).toEqual({ id: bob.id, name: 'Robert' });
    expect((await gql(a.http, a.acc, MEMBERSHIP, { id: bob.id, limit: 10, offset: 0 })).body.data.user.userGroups.nodes).toEqual([]);

    const token = (await issueUserToken(k, a.acc, bob.id)).token;
    expect((await k.anon.post('/v1/verify', { token })).body.valid).toBe(true);
    const del = await gql(a.http, a.acc, 'mutation($input: DeleteUserInput!) { deleteUser(input: $input) { clientMutationId } }', { input: { id: bob.id, clientMutationId: 'd' } });
    expect(del.body).toEqual({ data: { deleteUser: { clientMutationId: 'd' } } });
    expect((await k.anon.post('/v1/verify', { token })).body).toMatchObject({ valid: false });
    expect(messages(await gql(a.http, a.acc, `{ user(id: "${bob.id}") { id } }`))).toEqual(['Invalid request: User does not exist']);
    // Nobody deletes themselves.
    const self = await gql(a.http, a.acc, 'mutation($input: DeleteUserInput!) { deleteUser(input: $input) { clientMutationId } }', { input: { id: a.adminId } });
    expect(self.body.errors[0].extensions.code).toBe('INVALID_ARGUMENT');
  });
});
