/**
 * One model, two protocols (docs/architecture.md): a service account made through Harness NG at
 * account scope is also a ZenML service account, but its Harness API keys are not ZenML API keys
 * (they hold many tokens in another format). ZenML's routes must neither show nor touch them:
 * rotating one through ZenML once handed out a `sat.` token as `body.key` and rescheduled every
 * Harness token of the key.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { adminClient, createApiKey, expectDetail, keyNotFound, login, whoami, type ZenClient } from './client.js';

describeEachDb('zenml conformance: service accounts and keys made through Harness NG', (kind) => {
  let k: TestKeyward;
  let z: ZenClient;
  let acc: string;
  let harnessToken: string;

  const ng = (path: string, body: unknown) => k.http.post(`/ng/api${path}`, body, { query: { accountIdentifier: acc } });
  const verify = async (token: string) => (await k.anon.post('/v1/verify', { token })).body.valid as boolean;

  beforeAll(async () => {
    k = await startKeyward(kind);
    z = adminClient(k);
    acc = k.admin.accountId;
    expect((await ng('/serviceaccount', { identifier: 'hsa', name: 'harness-made', email: 'hsa@example.com', accountIdentifier: acc })).status).toBe(200);
    expect((await ng('/apikey', { identifier: 'hk', name: 'hk', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'hsa', accountIdentifier: acc })).status).toBe(200);
    const tok = await ng('/token', { identifier: 'ht', name: 'ht', apiKeyIdentifier: 'hk', parentIdentifier: 'hsa', apiKeyType: 'SERVICE_ACCOUNT', accountIdentifier: acc });
    expect(tok.status, tok.text).toBe(200);
    harnessToken = tok.body.data;
    expect(await verify(harnessToken)).toBe(true);
  });
  afterAll(async () => k?.close());

  it('the account is listed and resolvable by name; ZenML refuses a second account of that name', async () => {
    const list = await z.list('/service_accounts', { name: 'equals:harness-made' });
    expect(list.body.total).toBe(1);
    const got = await z.get('/service_accounts/harness-made');
    expect(got.status).toBe(200);
    expect(got.body.id).toBe(list.body.items[0].id);
    expectDetail(await z.post('/service_accounts', { name: 'harness-made', active: true }), 409, 'EntityExistsError');
  });

  it('its Harness key is not a ZenML key: not listed, and get, update, rotate, delete by its name → 404', async () => {
    const sa = (await z.get('/service_accounts/harness-made')).body;
    const base = `/service_accounts/${sa.id}/api_keys`;
    expect((await z.list(base)).body.total).toBe(0);
    expectDetail(await z.get(`${base}/hk`), 404, 'KeyError', keyNotFound('hk', sa.id));
    expectDetail(await z.put(`${base}/hk`, { active: false }), 404, 'KeyError');
    expectDetail(await z.put(`${base}/hk/rotate`, { retain_period_minutes: 0 }), 404, 'KeyError');
    expectDetail(await z.delete(`${base}/hk`), 404, 'KeyError');
    expect(await verify(harnessToken)).toBe(true);
  });

  it('its Harness key\'s name is free for a ZenML key (names are unique among ZenML keys only)', async () => {
    const sa = (await z.get('/service_accounts/harness-made')).body;
    const key = await createApiKey(z, sa.id, 'hk');
    expect((await z.get(`/service_accounts/${sa.id}/api_keys/hk`)).body.id).toBe(key.id);
    expect((await z.delete(`/service_accounts/${sa.id}/api_keys/hk`)).status).toBe(200);
    expect(await verify(harnessToken)).toBe(true);
  });

  it('a ZenML key made on it lists alone, logs in as the account, and leaves the Harness token alone', async () => {
    const sa = (await z.get('/service_accounts/harness-made')).body;
    const key = await createApiKey(z, sa.id, 'zen');
    const page = await z.list(`/service_accounts/${sa.id}/api_keys`);
    expect(page.body.items.map((i: any) => i.name)).toEqual(['zen']);
    const s = await login(k.url, key.body.key);
    expect((await whoami(s.client)).body.id).toBe(sa.id);
    const rot = await z.put(`/service_accounts/${sa.id}/api_keys/zen/rotate`, {});
    expect(rot.body.body.key).toMatch(/^ZENKEY_/);
    expect(await verify(harnessToken)).toBe(true);
  });

  it('deactivating the account through ZenML ends both its ZenML session and its Harness token; reactivating restores both', async () => {
    const sa = (await z.get('/service_accounts/harness-made')).body;
    const key = await createApiKey(z, sa.id, 'zen-2');
    const s = await login(k.url, key.body.key);
    await z.put(`/service_accounts/${sa.id}`, { active: false });
    expect((await whoami(s.client)).status).toBe(401);
    expect(await verify(harnessToken)).toBe(false);
    await z.put(`/service_accounts/${sa.id}`, { active: true });
    expect((await whoami(s.client)).status).toBe(200);
    expect(await verify(harnessToken)).toBe(true);
  });
});
