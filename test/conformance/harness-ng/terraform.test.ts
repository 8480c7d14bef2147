/**
 * Replays the Terraform provider's read-after-write patterns (docs/compat/harness-ng.md, fixtures in
 * terraform.fixtures.ts) over real HTTP, through the Go SDK's base path /gateway/ng/api.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SYSTEM_CALLER } from '../../../src/services/context.js';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { TF_EXCHANGES, TF_ORG, TF_PROJECT } from './terraform.fixtures.js';
import { GW, expectSuccess, replay, S, sdkCall, T, type Vars } from './support.js';

describeEachDb('harness NG conformance: Terraform provider (docs/compat/harness-ng.md)', (kind) => {
  let k: TestKeyward;
  const vars: Vars = {};

  beforeAll(async () => {
    k = await startKeyward(kind);
    vars.acc = k.admin.accountId;
    vars.user = k.admin.userId;
    await k.keyward.services.scopes.createOrganization(SYSTEM_CALLER, k.admin.accountId, { identifier: TF_ORG, name: 'TF org' });
    await k.keyward.services.scopes.createProject(SYSTEM_CALLER, k.admin.accountId, TF_ORG, { identifier: TF_PROJECT, name: 'TF project' });
  });
  afterAll(async () => k?.close());

  for (const [i, ex] of TF_EXCHANGES.entries()) {
    it(`${String(i + 1).padStart(2, '0')} ${ex.call} (${ex.cite})`, async () => {
      await replay(k, GW, k.admin.token, ex, vars);
    });
  }

  it('reads a project-scoped service account, key and token the way TF does', async () => {
    // §5.2: every read names the scope with org_id/project_id; §3: SA keys live in the SA's scope.
    const acc = k.admin.accountId;
    const scope = { accountIdentifier: acc, orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT };
    const sa = await sdkCall(k, 'POST', `${GW}/serviceaccount`, {
      query: scope,
      body: { identifier: 'tf_psa', name: 'tf_psa', email: 'tf_psa@service.harness.io', accountIdentifier: acc, orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT },
    });
    expect(sa.status, sa.text).toBe(200);
    const key = await sdkCall(k, 'POST', `${GW}/apikey`, {
      query: { accountIdentifier: acc },
      body: { identifier: 'tf_pkey', name: 'tf_pkey', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'tf_psa', accountIdentifier: acc, orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT },
    });
    expect(key.status, key.text).toBe(200);
    const tok = await sdkCall(k, 'POST', `${GW}/token`, {
      query: { accountIdentifier: acc },
      body: { identifier: 'tf_ptok', name: 'tf_ptok', apiKeyIdentifier: 'tf_pkey', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'tf_psa', accountIdentifier: acc, orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT, valid: true, username: 'tf' },
    });
    expectSuccess(tok, T.satToken, vars);

    const readSa = await sdkCall(k, 'GET', `${GW}/serviceaccount/aggregate/tf_psa`, { query: scope });
    expectSuccess(
      readSa,
      S.serviceAccountAggregate(S.serviceAccount({ identifier: 'tf_psa', name: 'tf_psa', email: 'tf_psa@service.harness.io', orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT }), { tokensCount: 1 }),
      vars,
    );
    const readKey = await sdkCall(k, 'GET', `${GW}/apikey/aggregate/tf_pkey`, { query: { ...scope, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'tf_psa' } });
    expectSuccess(
      readKey,
      S.apiKeyAggregate(S.apiKey({ identifier: 'tf_pkey', name: 'tf_pkey', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'tf_psa', orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT }), { tokensCount: 1 }),
      vars,
    );
    const readTok = await sdkCall(k, 'GET', `${GW}/token/aggregate`, {
      query: { ...scope, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'tf_psa', apiKeyIdentifier: 'tf_pkey', identifiers: 'tf_ptok' },
    });
    expect(readTok.status, readTok.text).toBe(200);
    expect(readTok.body.data.content).toHaveLength(1);
    expect(readTok.body.data.content[0].token).toMatchObject({ identifier: 'tf_ptok', orgIdentifier: TF_ORG, projectIdentifier: TF_PROJECT, username: null });

    // The same identifiers asked at account scope find nothing: the scope is part of the key.
    const wrongScope = await sdkCall(k, 'GET', `${GW}/token/aggregate`, {
      query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'tf_psa', apiKeyIdentifier: 'tf_pkey', identifiers: 'tf_ptok' },
    });
    expectSuccess(wrongScope, S.page([]), vars);
  });
});
