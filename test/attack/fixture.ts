/** What the fuzzer fuzzes around: a few real objects on each protocol, so requests reach the store. */
import type { FuzzFixture } from './fuzz.js';
import { call, ngApiKey, ngServiceAccount, type Admin } from './races.js';

let made = 0;

export async function makeFixture(a: Admin): Promise<FuzzFixture> {
  const n = made++;
  const sa = await ngServiceAccount(a);
  const key = await ngApiKey(a, sa);
  const [tok, org, zsa, zkey, cgName] = ['fz_tok', 'fz_org', 'fz-zenml', 'fz-key', 'fz-cg'].map((s) => `${s}${n}`) as [string, string, string, string, string];
  const ids = [sa, key, tok, org];
  await call(a, 'POST', '/ng/api/token', { identifier: tok, name: tok, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: sa, apiKeyIdentifier: key, accountIdentifier: a.accountId }, { accountIdentifier: a.accountId });
  await call(a, 'POST', '/ng/api/organizations', { organization: { identifier: org, name: org } }, { accountIdentifier: a.accountId });
  const z = await call(a, 'POST', '/api/v1/service_accounts', { name: zsa, description: '', active: true });
  if (z.status === 200) {
    ids.push(z.body.id as string, zsa);
    const zk = await call(a, 'POST', `/api/v1/service_accounts/${z.body.id}/api_keys`, { name: zkey });
    if (zk.status === 200) ids.push(zk.body.id as string, zkey);
  }
  const cg = await call(a, 'POST', '/api/api-keys', { name: cgName, userGroupIds: [] }, { accountId: a.accountId });
  if (cg.status === 200) ids.push(cg.body.resource.uuid as string);
  return { accountId: a.accountId, userId: a.userId, ids, tokens: [a.token, null] };
}
