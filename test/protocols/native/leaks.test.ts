/**
 * Leaked-token reports (docs/leak-reports.md): GitHub's secret scanning partner format, signed with
 * ECDSA P-256 over the raw body; the account admin's own report. A revoked token stops verifying at
 * once, on this node and (PostgreSQL) on a second `keyward serve` that had it cached.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { SYSTEM_CALLER } from '../../../src/services/context.js';
import { provisionAccount } from '../../../src/services/provisioning.js';
import { describeEachDb, dropSchema, pgUrl, type DbKind } from '../../helpers/databases.js';
import { HttpClient, startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { expectNativeError, issueUserToken } from '../../helpers/nativeApi.js';
import { spawnTwoNodes, type KeywardProcess } from '../../helpers/process.js';
import { WebhookReceiver } from '../../helpers/webhookReceiver.js';

function ecKey(): { id: string; privateKey: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { id: createHash('sha256').update(pem).digest('hex'), privateKey, pem };
}

const GITHUB = ecKey();
const STRANGER = ecKey();
const KEYS = JSON.stringify({ public_keys: [{ key_identifier: GITHUB.id, key: GITHUB.pem, is_current: true }] });

/** A report as GitHub sends it: the body bytes, and the headers signing exactly those bytes. */
function signed(matches: unknown, key = GITHUB, keyId = key.id): { rawBody: string; headers: Record<string, string> } {
  const rawBody = typeof matches === 'string' ? matches : JSON.stringify(matches);
  const signature = sign('sha256', Buffer.from(rawBody), { key: key.privateKey, dsaEncoding: 'der' }).toString('base64');
  return { rawBody, headers: { 'content-type': 'application/json', 'github-public-key-identifier': keyId, 'github-public-key-signature': signature } };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describeEachDb('leaked-token reports', (kind: DbKind) => {
  let k: TestKeyward;
  let rx: WebhookReceiver;
  let acc: string;

  beforeEach(async () => {
    k = await startKeyward(kind, { config: { leakReportKeys: KEYS, masterKey: randomBytes(32).toString('base64'), webhookIntervalMs: 50 } });
    acc = k.admin.accountId;
    rx = await new WebhookReceiver().start();
  });

  afterEach(async () => {
    await rx.stop();
    await k.close();
  });

  const verify = async (token: string) => (await k.anon.post('/v1/verify', { token })).body as { valid: boolean; reason?: string };
  const report = (matches: unknown, key = GITHUB, keyId?: string) => k.anon.request('POST', '/v1/leaks/github', signed(matches, key, keyId));

  it('revokes a reported live token at once, audits the url, announces token.leaked, and is idempotent', async () => {
    const hook = await k.http.post(`/v1/accounts/${acc}/webhooks`, { url: rx.url, events: ['token.leaked'] });
    expect(hook.status).toBe(201);
    const { token, tokenId } = await issueUserToken(k, acc, k.admin.userId);
    expect((await verify(token)).valid).toBe(true); // cached now
    const match = { token, type: 'keyward_token', url: 'https://github.com/octo/repo/blob/abc/.env', source: 'content' };
    const res = await report([match]);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual([{ token_hash: sha256(token), token_type: 'keyward_token', label: 'true_positive' }]);
    expect(res.text).not.toContain(token);
    expect(await verify(token)).toMatchObject({ valid: false });

    const audit = await k.http.get(`/v1/accounts/${acc}/audit`, { query: { action: 'token.leak_revoke' } });
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0].details).toMatchObject({ id: tokenId, url: match.url, source: 'content', reporter: 'github' });
    expect(JSON.stringify(audit.body)).not.toContain(token);

    await rx.waitFor((r) => r.length === 1);
    expect(rx.received[0]!.payload.data).toMatchObject({ tokenId, url: match.url, source: 'content' });
    expect(() => WebhookReceiver.verify(rx.received[0]!, hook.body.secret)).not.toThrow();

    // The same report again: still a true positive, nothing more revoked or announced.
    expect((await report([match])).body[0].label).toBe('true_positive');
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received).toHaveLength(1);
    expect(k.logs.join('\n')).not.toContain(token);
  });

  it('answers false_positive for a real token id with a wrong secret, an unknown token and garbage; revokes nothing', async () => {
    const { token } = await issueUserToken(k, acc, k.admin.userId);
    const parts = token.split('.');
    const wrong = [...parts.slice(0, 3), parts[3]!.startsWith('A') ? `B${parts[3]!.slice(1)}` : `A${parts[3]!.slice(1)}`].join('.');
    const res = await report([{ token: wrong, type: 't' }, { token: 'pat.x.0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAA', type: 't' }, { token: 'hello', type: 't' }]);
    expect(res.status, res.text).toBe(200);
    expect(res.body.map((v: { label: string }) => v.label)).toEqual(['false_positive', 'false_positive', 'false_positive']);
    expect((await verify(token)).valid).toBe(true);
  });

  it('refuses unsigned, badly signed, unknown-key, malformed and oversized reports, changing nothing', async () => {
    const { token } = await issueUserToken(k, acc, k.admin.userId);
    const body = [{ token, type: 't', url: 'u' }];
    const good = signed(body);
    expectNativeError(await k.anon.request('POST', '/v1/leaks/github', { rawBody: good.rawBody, headers: { 'content-type': 'application/json' } }), 401);
    expectNativeError(await report(body, STRANGER, GITHUB.id), 401); // signed by another key under GitHub's id
    expectNativeError(await report(body, STRANGER), 401); // an unknown key id
    // The signature covers the exact bytes: the same JSON re-spaced no longer verifies.
    expectNativeError(await k.anon.request('POST', '/v1/leaks/github', { rawBody: ` ${good.rawBody}`, headers: good.headers }), 401);
    expectNativeError(await report('[{"token":'), 400);
    expectNativeError(await report({ token }), 400);
    const huge = [{ token, type: 't', url: `https://x/${'a'.repeat(70_000)}` }];
    const over = await report(huge);
    expect(over.status).toBe(413);
    expect((await verify(token)).valid).toBe(true);
    const audit = await k.http.get(`/v1/accounts/${acc}/audit`, { query: { action: 'token.leak_revoke' } });
    expect(audit.body.items).toHaveLength(0);
  });

  it("an account's own report revokes its tokens, never another account's, and says the same for both", async () => {
    const { token: mine } = await issueUserToken(k, acc, k.admin.userId);
    const other = await provisionAccount(k.keyward.services.ctx, SYSTEM_CALLER, { accountName: 'Other', adminEmail: 'o@other.test' });
    const theirs = other.token;
    const res = await k.http.post(`/v1/accounts/${acc}/leaks`, [{ token: theirs, type: 't' }, { token: mine, type: 't' }]);
    expect(res.status, res.text).toBe(200);
    expect(res.body.map((v: { label: string }) => v.label)).toEqual(['false_positive', 'true_positive']);
    const unknown = await k.http.post(`/v1/accounts/${acc}/leaks`, [{ token: 'pat.x.0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAA', type: 't' }]);
    expect(Object.keys(unknown.body[0]).sort()).toEqual(Object.keys(res.body[0]).sort());
    expect((await verify(theirs)).valid).toBe(true);
    expect((await verify(mine)).valid).toBe(false);
    // Only an admin of the account may report for it.
    expectNativeError(await k.anon.post(`/v1/accounts/${acc}/leaks`, [{ token: mine }]), 401);
    expectNativeError(await k.http.withToken(theirs).post(`/v1/accounts/${acc}/leaks`, [{ token: mine }]), 403);
  });
});

const url = pgUrl();
(url ? describe : describe.skip)('leak report across two nodes on one PostgreSQL', () => {
  const schema = `kw_leak_${randomBytes(5).toString('hex')}`;
  let a: KeywardProcess;
  let b: KeywardProcess;

  beforeAll(async () => {
    [a, b] = await spawnTwoNodes(url!, schema, { KEYWARD_LEAK_REPORT_KEYS: KEYS, KEYWARD_MASTER_KEY: randomBytes(32).toString('base64') });
  }, 60_000);

  afterAll(async () => {
    expect(await a?.stop()).toBe(0);
    expect(await b?.stop()).toBe(0);
    await dropSchema(url!, schema);
  });

  it('a signed report to node A revokes a token node B had cached; B refuses it within a second', async () => {
    const A = new HttpClient(a.url, a.bootstrapToken);
    const B = new HttpClient(b.url, null);
    const who = (await A.get('/v1/whoami')).body as { accountId: string; principal: { identifier: string } };
    const created = await A.post(
      '/ng/api/token',
      { identifier: 'leaky', name: 'leaky', apiKeyType: 'USER', parentIdentifier: who.principal.identifier, apiKeyIdentifier: 'k1', accountIdentifier: who.accountId },
      { query: { accountIdentifier: who.accountId } },
    );
    expect(created.status, created.text).toBe(200);
    const token = created.body.data as string;
    expect((await B.post('/v1/verify', { token })).body.valid).toBe(true);
    expect((await B.post('/v1/verify', { token })).body.valid).toBe(true);
    const res = await A.request('POST', '/v1/leaks/github', signed([{ token, type: 'keyward', url: 'https://github.com/x/y/blob/z/f' }]));
    expect(res.status, res.text).toBe(200);
    expect(res.body[0].label).toBe('true_positive');
    const start = performance.now();
    while ((await B.post('/v1/verify', { token })).body.valid === true) {
      expect(performance.now() - start).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 10));
    }
  });
});
