/**
 * Access control (docs/architecture.md): built-in roles, assignments inherited downward and never
 * upward, user groups, and removal. Checked through AccessService.can, effectivePermissions and
 * what verification answers for a token.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, PermissionDeniedError } from '../../src/domain/errors.js';
import { ALL_PERMISSIONS, BUILT_IN_ROLE_BY_ID, BUILT_IN_ROLES, P } from '../../src/domain/permissions.js';
import { makeScope, type Scope } from '../../src/domain/scope.js';
import { effectivePermissions, type Principal } from '../../src/services/access.js';
import { describeEachDb } from '../helpers/databases.js';
import { addUser, failure, openServiceWorld, serviceAccountWithToken, verifyOk, type ServiceWorld } from '../helpers/services.js';

describe('built-in roles', () => {
  const perms = (id: string) => BUILT_IN_ROLE_BY_ID.get(id)!.permissions;

  it('are the four Harness roles at their levels', () => {
    expect(BUILT_IN_ROLES.map((r) => [r.identifier, r.name, r.level])).toEqual([
      ['_account_admin', 'Account Admin', 'account'],
      ['_organization_admin', 'Organization Admin', 'organization'],
      ['_project_admin', 'Project Admin', 'project'],
      ['_account_viewer', 'Account Viewer', 'account'],
      ['_organization_viewer', 'Organization Viewer', 'organization'],
      ['_project_viewer', 'Project Viewer', 'project'],
    ]);
  });

  it('give Account Admin every permission, the CG one included', () => {
    expect([...perms('_account_admin')].sort()).toEqual([...ALL_PERMISSIONS].sort());
    expect(perms('_account_admin')).toContain('MANAGE_API_KEYS');
  });

  it('keep account-level permissions out of lower-level roles', () => {
    expect(perms('_organization_admin')).not.toContain(P.accountEdit);
    expect(perms('_organization_admin')).not.toContain(P.organizationCreate);
    expect(perms('_organization_admin')).toContain(P.projectCreate);
    expect(perms('_project_admin')).not.toContain(P.projectCreate);
    expect(perms('_project_admin')).not.toContain(P.organizationEdit);
    expect(perms('_project_admin')).toContain(P.serviceAccountManageApiKey);
  });

  it('give viewers only view permissions', () => {
    for (const id of ['_account_viewer', '_organization_viewer', '_project_viewer']) {
      expect(perms(id).length).toBeGreaterThan(0);
      for (const p of perms(id)) expect(p).toMatch(/_view$/);
    }
    expect(perms('_account_viewer')).toContain(P.serviceAccountView);
    expect(perms('_account_viewer')).not.toContain(P.serviceAccountManageApiKey);
  });
});

describeEachDb('access control', (kind) => {
  let w: ServiceWorld;
  let org: Scope;
  let proj: Scope;
  let otherProj: Scope;
  beforeEach(async () => {
    w = await openServiceWorld(kind);
    await w.services.scopes.createOrganization(w.admin, w.accountId, { identifier: 'org1', name: 'org1' });
    await w.services.scopes.createProject(w.admin, w.accountId, 'org1', { identifier: 'proj1', name: 'proj1' });
    await w.services.scopes.createProject(w.admin, w.accountId, 'org1', { identifier: 'proj2', name: 'proj2' });
    org = makeScope(w.accountId, 'org1');
    proj = makeScope(w.accountId, 'org1', 'proj1');
    otherProj = makeScope(w.accountId, 'org1', 'proj2');
  });
  afterEach(async () => w.close());

  const principal = (userId: string): Principal => ({ type: 'USER', id: userId, accountId: w.accountId });

  it('gives a user with no assignment no permission anywhere', async () => {
    const { user } = await addUser(w, 'nobody@acme.test');
    for (const s of [w.accountScope, org, proj]) expect((await effectivePermissions(w.ts.store.db, principal(user.id), s)).size).toBe(0);
  });

  it('inherits an account-scope assignment at org and project scopes', async () => {
    const { user } = await addUser(w, 'viewer@acme.test', { roleIdentifier: '_account_viewer' });
    for (const s of [w.accountScope, org, proj]) {
      expect(await w.services.access.can(principal(user.id), P.serviceAccountView, s)).toBe(true);
      expect(await w.services.access.can(principal(user.id), P.serviceAccountEdit, s)).toBe(false);
    }
  });

  it('does not lift a project-scope assignment to the org, the account or a sibling project', async () => {
    const { user } = await addUser(w, 'dev@acme.test', { roleIdentifier: '_project_admin', scope: proj });
    expect(await w.services.access.can(principal(user.id), P.serviceAccountManageApiKey, proj)).toBe(true);
    expect(await w.services.access.can(principal(user.id), P.serviceAccountManageApiKey, org)).toBe(false);
    expect(await w.services.access.can(principal(user.id), P.serviceAccountManageApiKey, w.accountScope)).toBe(false);
    expect(await w.services.access.can(principal(user.id), P.serviceAccountManageApiKey, otherProj)).toBe(false);
  });

  it('grants nothing in another account', async () => {
    const { user } = await addUser(w, 'viewer@acme.test', { roleIdentifier: '_account_viewer' });
    expect(await w.services.access.can(principal(user.id), P.serviceAccountView, makeScope('someOtherAccount'))).toBe(false);
  });

  it("gives a user group's members the group's roles, and takes them away with membership", async () => {
    const { user: alice } = await addUser(w, 'alice@acme.test');
    const { user: bob } = await addUser(w, 'bob@acme.test');
    const { group } = await w.services.userGroups.create(w.admin, { scope: w.accountScope }, { identifier: 'ops', name: 'Ops', users: [alice.id] });
    await w.services.access.createAssignment(w.admin, org, { roleIdentifier: '_organization_admin', principalType: 'USER_GROUP', principalId: group.id });

    expect(await w.services.access.can(principal(alice.id), P.serviceAccountEdit, proj)).toBe(true);
    expect(await w.services.access.can(principal(alice.id), P.serviceAccountEdit, w.accountScope)).toBe(false);
    expect(await w.services.access.can(principal(bob.id), P.serviceAccountEdit, proj)).toBe(false);

    await w.services.userGroups.setMembership(w.admin, { scope: w.accountScope, identifier: 'ops' }, bob.id, true);
    await w.services.userGroups.setMembership(w.admin, { scope: w.accountScope, identifier: 'ops' }, alice.id, false);
    expect(await w.services.access.can(principal(bob.id), P.serviceAccountEdit, proj)).toBe(true);
    expect(await w.services.access.can(principal(alice.id), P.serviceAccountEdit, proj)).toBe(false);

    await w.services.userGroups.delete(w.admin, { scope: w.accountScope, identifier: 'ops' });
    expect(await w.services.access.can(principal(bob.id), P.serviceAccountEdit, proj)).toBe(false);
  });

  it('removes the permission with the assignment, in what verification answers too', async () => {
    const { sa, token } = await serviceAccountWithToken(w, 'robot');
    expect((await verifyOk(w.services, token)).permissions).toEqual([]);

    const a = await w.services.access.createAssignment(w.admin, w.accountScope, { roleIdentifier: '_account_viewer', principalType: 'SERVICE_ACCOUNT', principalId: sa.id });
    expect((await verifyOk(w.services, token)).permissions).toContain(P.serviceAccountView);
    expect(await w.services.access.can({ type: 'SERVICE_ACCOUNT', id: sa.id, identifier: sa.identifier, scope: sa.scope }, P.serviceAccountView, proj)).toBe(true);

    await w.services.access.deleteAssignment(w.admin, w.accountScope, a.identifier);
    expect((await verifyOk(w.services, token)).permissions).toEqual([]);
    expect(await w.services.access.can({ type: 'SERVICE_ACCOUNT', id: sa.id, identifier: sa.identifier, scope: sa.scope }, P.serviceAccountView, proj)).toBe(false);
  });

  it('unions roles from several assignments and scopes', async () => {
    const { user } = await addUser(w, 'mix@acme.test', { roleIdentifier: '_account_viewer' });
    await w.services.access.createAssignment(w.admin, proj, { roleIdentifier: '_project_admin', principalType: 'USER', principalId: user.id });
    const atProj = await effectivePermissions(w.ts.store.db, principal(user.id), proj);
    const atAccount = await effectivePermissions(w.ts.store.db, principal(user.id), w.accountScope);
    expect(atProj.has(P.serviceAccountManageApiKey)).toBe(true);
    expect(atProj.has(P.accountView)).toBe(true); // from the account viewer role
    expect(atAccount.has(P.serviceAccountManageApiKey)).toBe(false);
  });

  it('applies custom roles at their scope and below', async () => {
    await w.services.access.createRole(w.admin, org, { identifier: 'keyMinter', name: 'Key minter', permissions: [P.serviceAccountManageApiKey] });
    const { user } = await addUser(w, 'minter@acme.test');
    await w.services.access.createAssignment(w.admin, org, { roleIdentifier: 'keyMinter', principalType: 'USER', principalId: user.id });
    expect([...(await effectivePermissions(w.ts.store.db, principal(user.id), proj))]).toEqual([P.serviceAccountManageApiKey]);
    expect(await w.services.access.can(principal(user.id), P.serviceAccountManageApiKey, w.accountScope)).toBe(false);
  });

  it('refuses assignments to unknown roles or principals, and to callers without core_roleassignment_edit', async () => {
    const { user, caller } = await addUser(w, 'viewer@acme.test', { roleIdentifier: '_account_viewer' });
    await expect(w.services.access.createAssignment(w.admin, w.accountScope, { roleIdentifier: '_no_such_role', principalType: 'USER', principalId: user.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(w.services.access.createAssignment(w.admin, w.accountScope, { roleIdentifier: '_account_admin', principalType: 'USER', principalId: 'ghost' })).rejects.toBeInstanceOf(NotFoundError);
    const err = await failure<PermissionDeniedError>(w.services.access.createAssignment(caller, w.accountScope, { roleIdentifier: '_account_admin', principalType: 'USER', principalId: user.id }));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.failedChecks[0]!.permission).toBe(P.roleAssignmentEdit);
    expect(await w.services.access.can(principal(user.id), P.accountEdit, w.accountScope)).toBe(false);
  });
});
