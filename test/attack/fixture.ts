/** What the fuzzer fuzzes around: a few real objects on each protocol, so requests reach the store. */
import type { FuzzFixture } from './fuzz.js';
import { call, ngApiKey, ngServiceAccount, type Admin } from './races.js';

export async function makeFixture(a: Admin): Promise<FuzzFixture> {
  const sa = await ngServiceAccount(a);
  const key = await ngApiKey(a, sa);
  const ids = [sa, key, 'fz_tok', 'fz_org', 'fz_group'];
  await call(a, 'POST', '/ng/api/token', { identifier: 'fz_tok', name: 'fz_tok', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: key, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId });
  await call(a, 'POST', '/ng/api/organizations', { organization: { identifier: 'fz_org', name: 'fz org' } }, { accountIdentifier: a.accountId });
  const z = await call(a, 'POST', '/api/v1/service_accounts', { name: 'fz-zenml', description: '', active: true });
  if (z.status === 200) {
    ids.push(z.body.id as string, 'fz-zenml');
    const zk = await call(a, 'POST', `/api/v1/service_accounts/${z.body.id}/api_keys`, { name: 'fz-key' });
    if (zk.status === 200) ids.push(zk.body.id as string, 'fz-key');
  }
  const cg = await call(a, 'POST', '/api/api-keys', { name: 'fz-cg', userGroupIds: [] }, { accountId: a.accountId });
  if (cg.status === 200) ids.push(cg.body.resource.uuid as string);
  return { accountId: a.accountId, userId: a.userId, ids, tokens: [a.token, null] };
}
