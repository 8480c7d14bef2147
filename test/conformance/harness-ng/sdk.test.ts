/**
 * Replays the Go SDK's calls (docs/compat/harness-ng.md, fixtures in sdk.fixtures.ts) over real HTTP under the SDK's
 * default base path /gateway/ng/api, in order, checking status, envelope, field names and order,
 * nulls and types of every answer, and what each token then does at POST /v1/verify.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SYSTEM_CALLER } from '../../../src/services/context.js';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { SDK_EXCHANGES, SDK_ORG, SDK_PROJECT } from './sdk.fixtures.js';
import { GW, NG, ORDER, S, expectBody, replay, sdkHeaders, type Vars } from './support.js';

describeEachDb('harness NG conformance: Go SDK (docs/compat/harness-ng.md)', (kind) => {
  let k: TestKeyward;
  const vars: Vars = {};

  beforeAll(async () => {
    k = await startKeyward(kind);
    vars.acc = k.admin.accountId;
    vars.user = k.admin.userId;
    await k.keyward.services.scopes.createOrganization(SYSTEM_CALLER, k.admin.accountId, { identifier: SDK_ORG, name: 'SDK org' });
    await k.keyward.services.scopes.createProject(SYSTEM_CALLER, k.admin.accountId, SDK_ORG, { identifier: SDK_PROJECT, name: 'SDK project' });
  });
  afterAll(async () => k?.close());

  // One test per exchange, in order: each depends on the state the previous ones left.
  for (const [i, ex] of SDK_EXCHANGES.entries()) {
    it(`${String(i + 1).padStart(2, '0')} ${ex.call} (${ex.cite})`, async () => {
      await replay(k, GW, k.admin.token, ex, vars);
    });
  }

  it('answers the same under /ng/api as under /gateway/ng/api', async () => {
    const query = { accountIdentifier: k.admin.accountId, apiKeyType: 'USER', parentIdentifier: k.admin.userId, identifiers: 'admin' };
    const headers = sdkHeaders(k.admin.token, false);
    const viaGateway = await k.http.get(`${GW}/apikey`, { token: null, headers, query });
    const plain = await k.http.get(`${NG}/apikey`, { token: null, headers, query });
    expect(viaGateway.status).toBe(200);
    expect(plain.status).toBe(200);
    expect(plain.body.data).toEqual(viaGateway.body.data);
    expect(Object.keys(plain.body)).toEqual([...ORDER.success]);
    // An unknown route is JAX-RS NotFound under either prefix (§0 table).
    for (const base of [GW, NG]) {
      expectBody(await k.http.get(`${base}/apikey/nope/nope`, { token: null, headers }), 400, S.resourceNotFound());
    }
  });

  it('never lets the SDK see a secret again after create and rotate', async () => {
    // §1.2: the raw token is shown only once; listings carry encodedPassword null and no token string.
    const list = await k.http.get(`${GW}/token/aggregate`, {
      query: { accountIdentifier: k.admin.accountId, apiKeyType: 'USER', parentIdentifier: k.admin.userId, apiKeyIdentifier: 'admin' },
    });
    expect(list.status).toBe(200);
    expect(list.body.data.content.length).toBe(1);
    expect(list.body.data.content[0].token.encodedPassword).toBeNull();
    expect(list.text).not.toContain(k.admin.token.split('.')[3]!);
  });
});
