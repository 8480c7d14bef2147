/**
 * Organizations, projects and role assignments as Harness's Go SDK and Terraform provider use them
 * (docs/compat/harness-ng-resources.md): wrappers, response shapes, Terraform's read-miss code,
 * delete-then-create updates, and the permission effect of an assignment on verification.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';

const NG = '/gateway/ng/api';
const AUTHZ = '/gateway/authz/api';

describeEachDb('harness NG organizations, projects, role assignments', (kind) => {
  let k: TestKeyward;
  let acc: string;
  beforeAll(async () => {
    k = await startKeyward(kind);
    acc = k.admin.accountId;
  });
  afterAll(async () => k?.close());

  it('every account starts with the default organization', async () => {
    const res = await k.http.get(`${NG}/organizations/default`, { query: { accountIdentifier: acc } });
    expect(res.status).toBe(200);
    expect(res.body.data.organization.identifier).toBe('default');
  });

  it('runs the Terraform organization lifecycle', async () => {
    const create = await k.http.post(`${NG}/organizations`, { organization: { identifier: 'eng', name: 'Engineering', tags: { team: 'core' } } }, { query: { accountIdentifier: acc } });
    expect(create.status).toBe(200);
    expect(Object.keys(create.body.data)).toEqual(['organization', 'createdAt', 'lastModifiedAt', 'harnessManaged']);
    expect(Object.keys(create.body.data.organization)).toEqual(['identifier', 'name', 'description', 'tags']);
    expect(create.body.data.organization.tags).toEqual({ team: 'core' });

    const dup = await k.http.post(`${NG}/organizations`, { organization: { identifier: 'eng', name: 'Again' } }, { query: { accountIdentifier: acc } });
    expect(dup.status).toBe(400);
    expect(dup.body.code).toBe('DUPLICATE_FIELD');

    const update = await k.http.put(`${NG}/organizations/eng`, { organization: { identifier: 'eng', name: 'Eng', description: 'd' } }, { query: { accountIdentifier: acc } });
    expect(update.status).toBe(200);
    expect(update.body.data.organization.name).toBe('Eng');
    expect(update.body.data.organization.tags).toEqual({});

    const mismatch = await k.http.put(`${NG}/organizations/eng`, { organization: { identifier: 'other', name: 'x' } }, { query: { accountIdentifier: acc } });
    expect(mismatch.status).toBe(400);

    const search = await k.http.get(`${NG}/organizations`, { query: { accountIdentifier: acc, searchTerm: 'ENG' } });
    expect(search.body.data.content.map((o: any) => o.organization.identifier)).toEqual(['eng']);

    // The SDK's GetOrganizationByName pages with pageSize=2 until a page is empty: it must terminate.
    const seen: string[] = [];
    for (let pageIndex = 0; pageIndex < 20; pageIndex += 1) {
      const page = await k.http.get(`${NG}/organizations`, { query: { accountIdentifier: acc, pageSize: 2, pageIndex } });
      expect(page.status).toBe(200);
      if (page.body.data.content.length === 0) break;
      seen.push(...page.body.data.content.map((o: any) => o.organization.identifier));
    }
    expect(seen.sort()).toEqual(['default', 'eng']);

    const del = await k.http.delete(`${NG}/organizations/eng`, { query: { accountIdentifier: acc } });
    expect(del.body).toMatchObject({ status: 'SUCCESS', data: true });
    const read = await k.http.get(`${NG}/organizations/eng`, { query: { accountIdentifier: acc } });
    expect(read.status).toBe(400);
    expect(read.body).toMatchObject({ status: 'FAILURE', code: 'RESOURCE_NOT_FOUND_EXCEPTION' });
    const again = await k.http.delete(`${NG}/organizations/eng`, { query: { accountIdentifier: acc } });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('ENTITY_NOT_FOUND');
  });

  it('rejects a malformed organization with a FAILURE naming the field', async () => {
    const res = await k.http.post(`${NG}/organizations`, { organization: { identifier: '9bad', name: '' } }, { query: { accountIdentifier: acc } });
    expect(res.status).toBe(400);
    expect(res.body.status).toBe('FAILURE');
    expect(res.body.errors.map((e: any) => e.fieldId).sort()).toEqual(['identifier', 'name']);
    const noWrapper = await k.http.post(`${NG}/organizations`, { identifier: 'x', name: 'x' }, { query: { accountIdentifier: acc } });
    expect(noWrapper.status).toBe(400);
    expect(noWrapper.body.errors[0].fieldId).toBe('organization');
  });

  it('runs the Terraform project lifecycle, echoing modules', async () => {
    const q = { accountIdentifier: acc, orgIdentifier: 'default' };
    const create = await k.http.post(`${NG}/projects`, { project: { orgIdentifier: 'default', identifier: 'web', name: 'Web', color: '#0063F7', modules: ['CD', 'CI'] } }, { query: q });
    expect(create.status).toBe(200);
    expect(Object.keys(create.body.data)).toEqual(['project', 'createdAt', 'lastModifiedAt', 'isFavorite']);
    expect(Object.keys(create.body.data.project)).toEqual(['orgIdentifier', 'identifier', 'name', 'color', 'modules', 'description', 'tags']);
    expect(create.body.data.project.modules).toEqual(['CD', 'CI']);

    const read = await k.http.get(`${NG}/projects/web`, { query: q });
    expect(read.body.data.project.color).toBe('#0063F7');

    const mismatch = await k.http.post(`${NG}/projects`, { project: { orgIdentifier: 'other', identifier: 'p2', name: 'p2' } }, { query: q });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.message).toContain('Value mismatch');

    const noOrg = await k.http.post(`${NG}/projects`, { project: { identifier: 'p3', name: 'p3' } }, { query: { accountIdentifier: acc, orgIdentifier: 'missing' } });
    expect(noOrg.status).toBe(400);
    expect(noOrg.body.code).toBe('INVALID_ARGUMENT');

    const list = await k.http.get(`${NG}/projects/list`, { query: { accountIdentifier: acc, orgIdentifiers: ['default'] } });
    expect(list.body.data.content.map((p: any) => p.project.identifier)).toContain('web');

    const update = await k.http.put(`${NG}/projects/web`, { project: { orgIdentifier: 'default', identifier: 'web', name: 'Web 2' } }, { query: q });
    expect(update.body.data.project).toMatchObject({ name: 'Web 2', modules: ['CD', 'CI'] });

    await k.http.delete(`${NG}/projects/web`, { query: q });
    const gone = await k.http.get(`${NG}/projects/web`, { query: q });
    expect(gone.status).toBe(400);
    expect(gone.body.code).toBe('RESOURCE_NOT_FOUND_EXCEPTION');
  });

  it('grants and revokes a service account role, visible in verification', async () => {
    const q = { accountIdentifier: acc };
    await k.http.post(`${NG}/serviceaccount`, { identifier: 'robot', name: 'robot', email: 'robot@service.harness.io' }, { query: q });
    await k.http.post(`${NG}/apikey`, { identifier: 'rk', name: 'rk', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'robot', accountIdentifier: acc }, { query: q });
    const tok = await k.http.post(`${NG}/token`, { identifier: 'rt', name: 'rt', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'robot', apiKeyIdentifier: 'rk', accountIdentifier: acc }, { query: q });
    const robotToken = tok.body.data as string;
    const before = await k.anon.post('/v1/verify', { token: robotToken });
    expect(before.body.permissions).toEqual([]);

    const body = { identifier: 'robot_viewer', resourceGroupIdentifier: '_all_account_level_resources', roleIdentifier: '_account_viewer', principal: { identifier: 'robot', type: 'SERVICE_ACCOUNT' }, disabled: false, managed: false };
    const create = await k.http.post(`${AUTHZ}/roleassignments`, body, { query: q });
    expect(create.status).toBe(200);
    expect(Object.keys(create.body.data)).toEqual(['roleAssignment', 'scope', 'createdAt', 'lastModifiedAt', 'harnessManaged']);
    expect(create.body.data.roleAssignment.principal).toEqual({ scopeLevel: 'account', identifier: 'robot', type: 'SERVICE_ACCOUNT' });
    expect(create.body.data.roleAssignment).not.toHaveProperty('roleReference');

    const granted = await k.anon.post('/v1/verify', { token: robotToken });
    expect(granted.body.permissions).toContain('core_serviceaccount_view');
    expect(granted.body.permissions).not.toContain('core_serviceaccount_edit');

    const read = await k.http.get(`${AUTHZ}/roleassignments/robot_viewer`, { query: q });
    expect(read.body.data.roleAssignment.roleIdentifier).toBe('_account_viewer');

    const filtered = await k.http.post(`${AUTHZ}/roleassignments/filter`, { principalFilter: [{ identifier: 'robot', type: 'SERVICE_ACCOUNT' }] }, { query: q });
    expect(filtered.body.data.content.map((c: any) => c.roleAssignment.identifier)).toEqual(['robot_viewer']);

    // Terraform updates by delete then create with the same identifier.
    const del = await k.http.delete(`${AUTHZ}/roleassignments/robot_viewer`, { query: q });
    expect(del.body.data.roleAssignment.identifier).toBe('robot_viewer');
    const revoked = await k.anon.post('/v1/verify', { token: robotToken });
    expect(revoked.body.permissions).toEqual([]);
    const recreate = await k.http.post(`${AUTHZ}/roleassignments`, { ...body, roleIdentifier: '_account_admin' }, { query: q });
    expect(recreate.status).toBe(200);
    const admin = await k.anon.post('/v1/verify', { token: robotToken });
    expect(admin.body.permissions).toContain('core_serviceaccount_edit');

    const missRead = await k.http.get(`${AUTHZ}/roleassignments/nope`, { query: q });
    expect(missRead.status).toBe(400);
    expect(missRead.body.code).toBe('RESOURCE_NOT_FOUND_EXCEPTION');
    const missDelete = await k.http.delete(`${AUTHZ}/roleassignments/nope`, { query: q });
    expect(missDelete.status).toBe(400);
    expect(missDelete.body.message).toBe('Invalid request: Invalid Role Assignment');
  });

  it('refuses unsupported principals and unknown roles without a 500', async () => {
    const q = { accountIdentifier: acc };
    const service = await k.http.post(`${AUTHZ}/roleassignments`, { roleIdentifier: '_account_viewer', principal: { identifier: 'x', type: 'SERVICE' } }, { query: q });
    expect(service.status).toBe(400);
    const unknownRole = await k.http.post(`${AUTHZ}/roleassignments`, { roleIdentifier: 'no_such_role', principal: { identifier: k.admin.userId, type: 'USER' } }, { query: q });
    expect(unknownRole.status).toBe(400);
    const unknownPrincipal = await k.http.post(`${AUTHZ}/roleassignments`, { roleIdentifier: '_account_viewer', principal: { identifier: 'ghost', type: 'SERVICE_ACCOUNT' } }, { query: q });
    expect(unknownPrincipal.status).toBe(400);
    const noToken = await k.anon.get(`${AUTHZ}/roleassignments`, { query: q });
    expect(noToken.status).toBe(401);
    expect(noToken.body.code).toBe('INVALID_TOKEN');
  });

  it('deleting an organization removes what lives in it, and its tokens stop verifying', async () => {
    const acct = { accountIdentifier: acc };
    await k.http.post(`${NG}/organizations`, { organization: { identifier: 'tmp', name: 'tmp' } }, { query: acct });
    const q = { accountIdentifier: acc, orgIdentifier: 'tmp' };
    const sa = await k.http.post(`${NG}/serviceaccount`, { identifier: 'bot', name: 'bot', email: 'bot@service.harness.io', orgIdentifier: 'tmp' }, { query: q });
    expect(sa.status).toBe(200);
    await k.http.post(`${NG}/apikey`, { identifier: 'k', name: 'k', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'bot', accountIdentifier: acc, orgIdentifier: 'tmp' }, { query: acct });
    const tok = await k.http.post(`${NG}/token`, { identifier: 't', name: 't', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'bot', apiKeyIdentifier: 'k', accountIdentifier: acc, orgIdentifier: 'tmp' }, { query: acct });
    expect((await k.anon.post('/v1/verify', { token: tok.body.data })).body.valid).toBe(true);

    await k.http.delete(`${NG}/organizations/tmp`, { query: acct });
    const after = await k.anon.post('/v1/verify', { token: tok.body.data });
    expect(after.body).toEqual({ valid: false, reason: 'deleted' });
    const list = await k.http.get(`${NG}/serviceaccount/aggregate`, { query: q });
    expect(list.body.data?.content ?? []).toEqual([]);
  });
});
