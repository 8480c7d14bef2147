/**
 * What ZenML's client reads before anything else, as ZenML 0.58's RestZenStore requests it:
 * `/info` (ServerModel: `server_url` and `dashboard_url` are `str`, never null), the default
 * workspace (`GET /workspaces/default`), the default stack (`GET /stacks?workspace_id=..&name=default`)
 * and its components; the default project of ZenML 0.80 and later. Read-only: every write answers
 * ZenML's IllegalOperationError. Sources: ZenML 0.58 src/zenml/zen_stores/base_zen_store.py
 * (validate_active_config), models/v2/core/{workspace,stack,component}.py, ZenML 0.80+
 * models/v2/core/project.py.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { accountWithKey, adminClient, expectDetail, login, NAIVE_UTC, UUID, ZenClient } from './client.js';

describeEachDb('zenml conformance: /info, the default workspace, project and stack', (kind) => {
  let k: TestKeyward;
  let z: ZenClient;
  /** A session of a service account with no role at all. */
  let bare: ZenClient;

  beforeAll(async () => {
    k = await startKeyward(kind, { config: { publicUrl: 'https://keyward.example.test' } });
    z = adminClient(k);
    const { secret } = await accountWithKey(z, 'no-roles');
    bare = (await login(k.url, secret)).client;
  });
  afterAll(async () => k?.close());

  it('/info: server_url and dashboard_url are KEYWARD_PUBLIC_URL (ServerModel declares both as str)', async () => {
    const info = await new ZenClient(k.url).get('/info', {});
    expect(info.status).toBe(200);
    expect(info.body.server_url).toBe('https://keyward.example.test');
    expect(info.body.dashboard_url).toBe('https://keyward.example.test');
  });

  it('/info without KEYWARD_PUBLIC_URL: empty strings, as ZenML sends `server_url or ""`', async () => {
    const other = await startKeyward(kind);
    try {
      const info = await new ZenClient(other.url).get('/info', {});
      expect(info.body.server_url).toBe('');
      expect(info.body.dashboard_url).toBe('');
    } finally {
      await other.close();
    }
  });

  it('GET /workspaces/default answers the account\'s one workspace, to any authenticated caller, by name and by id', async () => {
    const byName = await bare.get('/workspaces/default');
    expect(byName.status, byName.text).toBe(200);
    const ws = byName.body;
    expect(ws.id).toMatch(UUID);
    expect(ws.name).toBe('default');
    expect(ws.body.created).toMatch(NAIVE_UTC);
    expect(typeof ws.metadata.description).toBe('string');
    const byId = await z.get(`/workspaces/${ws.id}`, { hydrate: false });
    expect(byId.body.id).toBe(ws.id);
    expect(byId.body.metadata).toBeNull();
    const list = await bare.list('/workspaces', { name: 'default' });
    expect(list.body.total).toBe(1);
    expect(list.body.items[0].id).toBe(ws.id);
    // Stable: the same id on every call (derived from the account, not stored).
    expect((await z.get('/workspaces/default')).body.id).toBe(ws.id);
  });

  it('an unknown workspace is ZenML\'s 404 KeyError; no credential is 401', async () => {
    expectDetail(await z.get('/workspaces/other'), 404, 'KeyError', /'other' is not a valid  UUID and no workspace with this name exists/);
    expectDetail(await z.get('/workspaces/00000000-0000-4000-8000-000000000000'), 404, 'KeyError', /No workspace with this ID found/);
    const anon = await new ZenClient(k.url).get('/workspaces/default');
    expect(anon.status).toBe(401);
  });

  it('another account sees its own default workspace and stack, with other ids', async () => {
    const acc = await k.http.post('/v1/accounts', { name: 'Second', admin: { email: 'root@second.example' } });
    expect(acc.status, acc.text).toBe(201);
    const other = new ZenClient(k.url, { bearer: acc.body.token });
    const mine = (await z.get('/workspaces/default')).body.id;
    const theirs = await other.get('/workspaces/default');
    expect(theirs.status).toBe(200);
    expect(theirs.body.id).not.toBe(mine);
    expectDetail(await other.get(`/workspaces/${mine}`), 404, 'KeyError', /No workspace with this ID found/);
    const myStack = (await z.list('/stacks')).body.items[0].id;
    expect((await other.list('/stacks')).body.items[0].id).not.toBe(myStack);
    expectDetail(await other.get(`/stacks/${myStack}`), 404, 'KeyError', /not found/);
  });

  it('GET /projects/default (ZenML 0.80+) is the same entity with a display name', async () => {
    const ws = (await z.get('/workspaces/default')).body;
    const p = await bare.get('/projects/default');
    expect(p.status, p.text).toBe(200);
    expect(p.body.id).toBe(ws.id);
    expect(p.body.name).toBe('default');
    expect(p.body.body.display_name).toBe('Default');
    expect((await z.get(`/projects/${ws.id}`)).body.name).toBe('default');
    expect((await z.list('/projects')).body.total).toBe(1);
    expectDetail(await z.get('/projects/nope'), 404, 'KeyError', /no project with this name exists/);
  });

  it('the default stack: listed as the client asks for it, got by id, with an orchestrator and an artifact store', async () => {
    const ws = (await z.get('/workspaces/default')).body;
    // BaseZenStore._get_default_stack: StackFilter(workspace_id=..., name="default") (0.58); name only (0.80+).
    const list = await bare.list('/stacks', { workspace_id: ws.id, name: 'default' });
    expect(list.status, list.text).toBe(200);
    expect(list.body.total).toBe(1);
    const stackId = list.body.items[0].id;
    expect(list.body.items[0].metadata).toBeNull();
    expect((await bare.list('/stacks', { name: 'default' })).body.total).toBe(1);
    expect((await bare.list('/stacks', { name: 'other' })).body.total).toBe(0);
    expect((await bare.list('/stacks', { workspace_id: '00000000-0000-4000-8000-000000000000' })).body.total).toBe(0);

    const stack = await bare.get(`/stacks/${stackId}`);
    expect(stack.status, stack.text).toBe(200);
    expect(stack.body.metadata.workspace.id).toBe(ws.id);
    const comps = stack.body.metadata.components;
    expect(Object.keys(comps).sort()).toEqual(['artifact_store', 'orchestrator']);
    // `flavor` (0.58) and `flavor_name` (later versions' ComponentResponseBody).
    expect(comps.orchestrator[0]).toMatchObject({ name: 'default', body: { type: 'orchestrator', flavor: 'local', flavor_name: 'local' } });

    const orch = comps.orchestrator[0].id;
    const c = await bare.get(`/components/${orch}`);
    expect(c.status, c.text).toBe(200);
    expect(c.body.metadata.configuration).toEqual({});
    expect((await bare.list('/components', { scope_type: 'artifact_store' })).body.items.map((i: any) => i.body.type)).toEqual(['artifact_store']);
    expect((await bare.list('/components', { stack_id: stackId })).body.total).toBe(2);
    expect((await bare.list('/stacks', { component_id: orch })).body.total).toBe(1);

    expectDetail(await z.get('/stacks/00000000-0000-4000-8000-000000000000'), 404, 'KeyError', /Stack with ID 00000000-0000-4000-8000-000000000000 not found/);
    const bad = await z.get('/stacks/not-a-uuid');
    expect(bad.status).toBe(422);
    expect(bad.body[0]).toBe('ValueError');
  });

  it('writes are refused with ZenML\'s IllegalOperationError (403), even for an admin', async () => {
    const ws = (await z.get('/workspaces/default')).body;
    const stackId = (await z.list('/stacks')).body.items[0].id;
    expectDetail(await z.post('/workspaces', { name: 'w2', description: '' }), 403, 'IllegalOperationError', /one default workspace/);
    expectDetail(await z.put('/workspaces/default', { description: 'x' }), 403, 'IllegalOperationError', 'The default workspace cannot be modified.');
    expectDetail(await z.delete(`/workspaces/${ws.id}`), 403, 'IllegalOperationError', 'The default workspace cannot be deleted.');
    expectDetail(await z.post('/projects', { name: 'p2' }), 403, 'IllegalOperationError', /one default project/);
    expectDetail(await z.post(`/workspaces/${ws.id}/stacks`, { name: 's2', components: {} }), 403, 'IllegalOperationError', /cannot be registered/);
    expectDetail(await z.put(`/stacks/${stackId}`, { name: 'x' }), 403, 'IllegalOperationError', 'The default stack cannot be modified.');
    expectDetail(await z.delete(`/stacks/${stackId}`), 403, 'IllegalOperationError', 'The default stack cannot be deleted.');
    expectDetail(await z.post(`/workspaces/${ws.id}/components`, { name: 'c2' }), 403, 'IllegalOperationError', /components cannot be registered/);
    // Nothing changed.
    expect((await z.get('/workspaces/default')).body.name).toBe('default');
    expect((await z.list('/stacks')).body.total).toBe(1);
  });
});
