/**
 * Two Keyward processes on one PostgreSQL: warm both caches, change something through node A, and
 * node B must answer differently within one second (docs/architecture.md, issue "verification").
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, pgUrl } from '../helpers/databases.js';
import { HttpClient } from '../helpers/keyward.js';
import { spawnTwoNodes, type KeywardProcess } from '../helpers/process.js';

const url = pgUrl();
const d = url ? describe : describe.skip;

/** Polls until `check` holds; returns the milliseconds it took, or fails after `limitMs`. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`condition not met within ${limitMs} ms`);
}

async function cacheHits(c: HttpClient): Promise<number> {
  const res = await c.get('/metrics');
  const m = /^keyward_verification_cache_hits (\d+)/m.exec(res.text);
  return Number(m?.[1] ?? NaN);
}

d('two nodes on one PostgreSQL', () => {
  const schema = `kw_two_${randomBytes(5).toString('hex')}`;
  let a: KeywardProcess;
  let b: KeywardProcess;
  let A: HttpClient;
  let B: HttpClient;
  let acc: string;

  beforeAll(async () => {
    ({ a, b } = await spawnTwoNodes(url!, schema));
    expect(a.bootstrapToken).toBeTruthy();
    expect(b.bootstrapToken).toBeNull();
    A = new HttpClient(a.url, a.bootstrapToken);
    B = new HttpClient(b.url, a.bootstrapToken);
    acc = (await A.get('/v1/whoami')).body.accountId;
  }, 60_000);

  afterAll(async () => {
    expect(await a?.stop()).toBe(0);
    expect(await b?.stop()).toBe(0);
    await dropSchema(url!, schema);
  });

  async function serviceAccountToken(id: string): Promise<string> {
    const q = { accountIdentifier: acc };
    expect((await A.post('/ng/api/serviceaccount', { identifier: id, name: id, email: `${id}@service.harness.io` }, { query: q })).status).toBe(200);
    expect((await A.post('/ng/api/apikey', { identifier: 'k', name: 'k', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: id, accountIdentifier: acc }, { query: q })).status).toBe(200);
    const t = await A.post('/ng/api/token', { identifier: 't', name: 't', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: id, apiKeyIdentifier: 'k', accountIdentifier: acc }, { query: q });
    expect(t.status).toBe(200);
    return t.body.data as string;
  }

  /** Verifies twice on B and checks the second came from B's cache. */
  async function warm(token: string): Promise<any> {
    expect((await A.post('/v1/verify', { token })).body.valid).toBe(true);
    expect((await B.post('/v1/verify', { token })).body.valid).toBe(true);
    const hits = await cacheHits(B);
    const again = await B.post('/v1/verify', { token });
    expect(await cacheHits(B)).toBe(hits + 1);
    return again.body;
  }

  it('a token deleted through A stops verifying on B within a second', async () => {
    const token = await serviceAccountToken('bot1');
    await warm(token);
    expect((await A.delete('/ng/api/token/t', { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'bot1', apiKeyIdentifier: 'k' } })).status).toBe(200);
    await within(1000, async () => (await B.post('/v1/verify', { token })).body.reason === 'deleted');
  });

  it('a token rotated through A stops verifying on B within a second', async () => {
    const token = await serviceAccountToken('bot2');
    await warm(token);
    const rotated = await A.post('/ng/api/token/rotate/t', undefined, { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'bot2', apiKeyIdentifier: 'k' } });
    expect(rotated.status).toBe(200);
    await within(1000, async () => (await B.post('/v1/verify', { token })).body.reason === 'rotated_out');
    expect((await B.post('/v1/verify', { token: rotated.body.data })).body.valid).toBe(true);
  });

  it('a service account deactivated through A is rejected on B within a second, and restored', async () => {
    const token = await serviceAccountToken('bot3');
    await warm(token);
    expect((await A.patch(`/v1/accounts/${acc}/service-accounts/bot3`, { active: false })).status).toBe(200);
    await within(1000, async () => (await B.post('/v1/verify', { token })).body.reason === 'principal_inactive');
    expect((await A.patch(`/v1/accounts/${acc}/service-accounts/bot3`, { active: true })).status).toBe(200);
    await within(1000, async () => (await B.post('/v1/verify', { token })).body.valid === true);
  });

  it('a role assignment removed through A leaves B within a second', async () => {
    const token = await serviceAccountToken('bot4');
    const ra = await A.post(
      '/authz/api/roleassignments',
      { identifier: 'bot4_viewer', resourceGroupIdentifier: '_all_account_level_resources', roleIdentifier: '_account_viewer', principal: { identifier: 'bot4', type: 'SERVICE_ACCOUNT' } },
      { query: { accountIdentifier: acc } },
    );
    expect(ra.status).toBe(200);
    const warmed = await warm(token);
    expect(warmed.permissions).toContain('core_serviceaccount_view');
    expect((await A.delete('/authz/api/roleassignments/bot4_viewer', { query: { accountIdentifier: acc } })).status).toBe(200);
    await within(1000, async () => !(await B.post('/v1/verify', { token })).body.permissions.includes('core_serviceaccount_view'));
  });
});
