/**
 * Other real clients (docs/compat/harness-ng.md), over /ng/api without /gateway: SPLIT's python client (its token
 * paging loop, its rotate without rotateTimestamp, its under-specified delete) and the Harness UI's
 * token forms (validTo only when an expiry is chosen, the URL-encoded identifier on update, rotate
 * with a rotateTimestamp that the old token keeps working until).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeScope } from '../../../src/domain/scope.js';
import { SYSTEM_CALLER } from '../../../src/services/context.js';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { DAY, DEFAULT_TTL, HOUR, NG, S, T, T0, expectFailure, expectSuccess, replay, verifyToken, type Exchange, type Vars } from './support.js';

const acc = '{{acc}}';

/** SPLIT (splitapiclient/microclients/harness/token_microclient.py), as data. */
const SPLIT_EXCHANGES: Exchange[] = [
  {
    call: 'SPLIT TokenMicroClient.rotate (no rotateTimestamp)',
    cite: '§5.3 SPLIT rotate; §1.2 "Rotate without rotateTimestamp": Keyward ends the old token now',
    request: {
      method: 'POST',
      path: '/token/rotate/split_tok',
      query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'split_sa', apiKeyIdentifier: 'split_key' },
    },
    status: 200,
    body: S.success(T.satToken),
    capture: { splitNew: 'data' },
    verify: [
      { token: '{{splitOld}}', valid: false },
      { token: '{{splitNew}}', valid: true },
    ],
  },
  {
    call: 'SPLIT TokenMicroClient.delete (accountIdentifier only)',
    cite: '§5.3 SPLIT delete "would fail the real server\'s @NotNull checks"; §0 bean validation -> FAILURE',
    request: { method: 'DELETE', path: '/token/split_tok', query: { accountIdentifier: acc } },
    status: 400,
    body: S.failure('INVALID_REQUEST', T.string, [
      { fieldId: 'apiKeyType', error: T.nonEmpty },
      { fieldId: 'parentIdentifier', error: T.nonEmpty },
      { fieldId: 'apiKeyIdentifier', error: T.nonEmpty },
    ]),
    verify: [{ token: '{{splitNew}}', valid: true }],
  },
];

describeEachDb('harness NG conformance: SPLIT and the UI (docs/compat/harness-ng.md)', (kind) => {
  let k: TestKeyward;
  const vars: Vars = {};

  beforeAll(async () => {
    k = await startKeyward(kind);
    vars.acc = k.admin.accountId;
    vars.user = k.admin.userId;
  });
  afterAll(async () => k?.close());

  describe('SPLIT', () => {
    /** parent/apiKey/identifier of every SA token at account scope. */
    const expected = new Set<string>();

    beforeAll(async () => {
      // 5 service accounts x 5 keys x 5 tokens (the default limits) = 125 tokens: two pages of 100.
      const s = k.keyward.services;
      const scope = makeScope(k.admin.accountId);
      for (let a = 0; a < 5; a += 1) {
        const sa = `split_page_sa${a}`;
        await s.serviceAccounts.create(SYSTEM_CALLER, scope, { identifier: sa, name: sa, email: `${sa}@service.harness.io` });
        for (let kk = 0; kk < 5; kk += 1) {
          const owner = { scope, type: 'SERVICE_ACCOUNT' as const, parentIdentifier: sa };
          await s.apiKeys.create(SYSTEM_CALLER, owner, { identifier: `key${kk}`, name: `key${kk}` });
          for (let t = 0; t < 5; t += 1) {
            await s.tokens.create(SYSTEM_CALLER, owner, { identifier: `tok${t}`, name: `tok${t}`, apiKeyIdentifier: `key${kk}` });
            expected.add(`${sa}/key${kk}/tok${t}`);
          }
        }
      }
      // Noise the loop must not see: a project-scoped SA token (another scope) and USER tokens.
      await s.scopes.createOrganization(SYSTEM_CALLER, k.admin.accountId, { identifier: 'split_org', name: 'split org' });
      await s.scopes.createProject(SYSTEM_CALLER, k.admin.accountId, 'split_org', { identifier: 'split_proj', name: 'split proj' });
      const projScope = makeScope(k.admin.accountId, 'split_org', 'split_proj');
      await s.serviceAccounts.create(SYSTEM_CALLER, projScope, { identifier: 'split_proj_sa', name: 'p', email: 'p@service.harness.io' });
      await s.tokens.create(SYSTEM_CALLER, { scope: projScope, type: 'SERVICE_ACCOUNT', parentIdentifier: 'split_proj_sa' }, { identifier: 'ptok', name: 'ptok', apiKeyIdentifier: 'pkey' }, { autoCreateKey: true });
    });

    it('pages GET /ng/api/token/aggregate?apiKeyType=SERVICE_ACCOUNT&pageSize=100 until content is empty, seeing every token once', async () => {
      // §5.3 SPLIT paging loop; §0 Pagination: "A page past the end returns empty content with correct totals".
      const seen: string[] = [];
      const pages: any[] = [];
      for (let pageIndex = 0; pageIndex < 10; pageIndex += 1) {
        const res = await k.http.get(`${NG}/token/aggregate`, { query: { apiKeyType: 'SERVICE_ACCOUNT', accountIdentifier: k.admin.accountId, pageIndex, pageSize: 100 } });
        expect(res.status, res.text).toBe(200);
        pages.push(res.body.data);
        if (res.body.data.content.length === 0) break;
        for (const item of res.body.data.content) {
          expect(Object.keys(item)).toEqual(['token', 'expiryAt', 'createdAt', 'lastModifiedAt']);
          expect(item.token.apiKeyType).toBe('SERVICE_ACCOUNT');
          expect(item.token.orgIdentifier).toBeNull();
          seen.push(`${item.token.parentIdentifier}/${item.token.apiKeyIdentifier}/${item.token.identifier}`);
        }
      }
      expect(pages).toHaveLength(3);
      expect(pages.map((p) => [p.pageIndex, p.pageItemCount, p.totalItems, p.totalPages, p.pageSize, p.empty])).toEqual([
        [0, 100, 125, 2, 100, false],
        [1, 25, 125, 2, 100, false],
        [2, 0, 125, 2, 100, true],
      ]);
      expect(seen).toHaveLength(125);
      expect(new Set(seen)).toEqual(expected);
    });

    it('rotates without rotateTimestamp: the old token fails /v1/verify at once and the new one passes; its delete without the @NotNull parameters is refused', async () => {
      const owner = { scope: makeScope(k.admin.accountId), type: 'SERVICE_ACCOUNT' as const, parentIdentifier: 'split_sa' };
      await k.keyward.services.serviceAccounts.create(SYSTEM_CALLER, owner.scope, { identifier: 'split_sa', name: 'split', email: 'split@service.harness.io' });
      const issued = await k.keyward.services.tokens.create(SYSTEM_CALLER, owner, { identifier: 'split_tok', name: 'split tok', apiKeyIdentifier: 'split_key' }, { autoCreateKey: true });
      vars.splitOld = issued.secret;
      expect((await verifyToken(k, issued.secret)).valid).toBe(true);
      for (const ex of SPLIT_EXCHANGES) await replay(k, NG, k.admin.token, ex, vars, 'script');
      expect((await verifyToken(k, String(vars.splitOld))).reason).toBe('rotated_out');
    });

    it('rotates a token of a key already at the token limit (the rotated-out token does not count)', async () => {
      // §2 Rotation quirk: Harness counted the old token and failed the create after committing the
      // rename. Keyward counts live tokens, so rotating at the limit works and is all-or-nothing.
      const res = await k.http.post(`${NG}/token/rotate/tok0`, undefined, {
        query: { accountIdentifier: k.admin.accountId, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'split_page_sa0', apiKeyIdentifier: 'key0' },
      });
      expectSuccess(res, T.satToken, vars);
      expect((await verifyToken(k, res.body.data)).valid).toBe(true);
    });
  });

  describe('UI token forms', () => {
    const expiry = Date.UTC(2026, 1, 20); // Date.parse('02/20/2026') in a UTC browser
    const routing = () => ({ routingId: k.admin.accountId });
    const tokenQuery = () => ({ accountIdentifier: k.admin.accountId, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'ui_sa', apiKeyIdentifier: 'ui_key' });
    const uiBody = (identifier: string, extra: Record<string, unknown> = {}) => ({
      // TokenForm's initialValues; orgIdentifier/projectIdentifier are undefined at account scope and vanish in JSON.
      identifier,
      name: identifier.replace('$', ' '),
      description: '',
      tags: {},
      accountIdentifier: k.admin.accountId,
      apiKeyIdentifier: 'ui_key',
      parentIdentifier: 'ui_sa',
      apiKeyType: 'SERVICE_ACCOUNT',
      ...extra,
    });
    const read = async (identifier: string) => {
      const res = await k.http.get(`${NG}/token/aggregate`, { query: { ...tokenQuery(), identifiers: identifier, ...routing() } });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.content, res.text).toHaveLength(1);
      return res.body.data.content[0];
    };

    beforeAll(async () => {
      const sa = await k.http.post(`${NG}/serviceaccount`, { identifier: 'ui_sa', name: 'ui sa', email: 'ui_sa@service.harness.io', accountIdentifier: k.admin.accountId }, { query: { accountIdentifier: k.admin.accountId } });
      expect(sa.status, sa.text).toBe(200);
      const key = await k.http.post(`${NG}/apikey`, { identifier: 'ui_key', name: 'ui key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'ui_sa', accountIdentifier: k.admin.accountId, description: '', tags: {} }, { query: { accountIdentifier: k.admin.accountId } });
      expect(key.status, key.text).toBe(200);
    });

    it('creates without an expiry: no validTo is sent and the key\'s default lifetime applies', async () => {
      // §5.3 UI create; §2 validTo defaults to validFrom + defaultTimeToExpireToken.
      const res = await k.http.post(`${NG}/token`, uiBody('ui_noexp'), { query: routing() });
      expectSuccess(res, T.satToken, vars);
      expect((await verifyToken(k, res.body.data)).valid).toBe(true);
      const item = await read('ui_noexp');
      expect(item.token).toMatchObject({ validFrom: T0, validTo: T0 + DEFAULT_TTL, description: null, tags: {} });
      expect(item.expiryAt).toBe(T0 + DEFAULT_TTL);
    });

    it('creates with an expiry: validTo is Date.parse of the chosen date', async () => {
      const res = await k.http.post(`${NG}/token`, uiBody('ui$tok', { validTo: expiry }), { query: routing() });
      expectSuccess(res, T.satToken, vars);
      vars.uiTok = res.body.data;
      const item = await read('ui$tok');
      expect(item.token).toMatchObject({ identifier: 'ui$tok', validFrom: T0, validTo: expiry, scheduledExpireTime: null, valid: true });
    });

    it('updates with the identifier URL-encoded in the path and the listed token spread into the body', async () => {
      // UI EditToken: useUpdateToken({ identifier: encodeURIComponent(identifier) }); body = { ...tokenData, name, validTo }.
      const listed = (await read('ui$tok')).token;
      const newExpiry = Date.UTC(2026, 2, 1);
      const res = await k.http.put(`${NG}/token/${encodeURIComponent('ui$tok')}`, { ...listed, name: 'ui tok edited', validTo: newExpiry }, { query: routing() });
      expectSuccess(
        res,
        S.token({ identifier: 'ui$tok', name: 'ui tok edited', validFrom: T0, validTo: newExpiry, apiKeyIdentifier: 'ui_key', parentIdentifier: 'ui_sa', apiKeyType: 'SERVICE_ACCOUNT' }),
        vars,
      );
      expect(encodeURIComponent('ui$tok')).toBe('ui%24tok');
      expect((await read('ui$tok')).token.name).toBe('ui tok edited');
      expect((await verifyToken(k, String(vars.uiTok))).valid).toBe(true);
    });

    it('rotates with rotateTimestamp = Date.now() (no expiry chosen): the old token ends at once', async () => {
      const created = await k.http.post(`${NG}/token`, uiBody('ui_now'), { query: routing() });
      expect(created.status).toBe(200);
      const res = await k.http.request('POST', `${NG}/token/rotate/ui_now`, {
        rawBody: '',
        headers: { 'content-type': 'text/plain' },
        query: { ...tokenQuery(), rotateTimestamp: k.clock.now() },
      });
      expectSuccess(res, T.satToken, vars);
      expect((await verifyToken(k, created.body.data)).valid).toBe(false);
      expect((await verifyToken(k, res.body.data)).valid).toBe(true);
    });

    it('rotates with a future rotateTimestamp: the old token keeps verifying until then, and the new one keeps the old validTo', async () => {
      // §5.3 UI rotate; §2 Rotation steps 1 and 2. The UI posts '' as the body.
      const old = String(vars.uiTok);
      const rotateAt = T0 + 2 * DAY;
      const res = await k.http.request('POST', `${NG}/token/rotate/${encodeURIComponent('ui$tok')}`, {
        rawBody: '',
        headers: { 'content-type': 'text/plain' },
        query: { ...tokenQuery(), rotateTimestamp: rotateAt },
      });
      expectSuccess(res, T.satToken, vars);
      const fresh = res.body.data as string;
      expect(fresh).not.toBe(old);
      expect((await verifyToken(k, old)).valid).toBe(true);
      expect((await verifyToken(k, fresh)).valid).toBe(true);

      const list = await k.http.get(`${NG}/token/aggregate`, { query: { ...tokenQuery(), sortOrders: 'identifier,ASC', searchTerm: 'ui tok edited' } });
      expect(list.status).toBe(200);
      const [rotated, current] = list.body.data.content;
      expect(rotated.token.identifier).toMatch(/^rotated_[A-Za-z]{15}$/);
      expect(rotated.token).toMatchObject({ name: 'ui tok edited', scheduledExpireTime: rotateAt, validTo: Date.UTC(2026, 2, 1), valid: true });
      expect(rotated.expiryAt).toBe(rotateAt);
      expect(current.token).toMatchObject({ identifier: 'ui$tok', name: 'ui tok edited', scheduledExpireTime: null, validFrom: k.clock.now(), validTo: Date.UTC(2026, 2, 1) });

      k.clock.set(rotateAt - 1);
      expect((await verifyToken(k, old)).valid).toBe(true);
      k.clock.advance(1);
      expect(await verifyToken(k, old)).toMatchObject({ valid: false, reason: 'rotated_out' });
      expect((await verifyToken(k, fresh)).valid).toBe(true);
      const after = await k.http.get(`${NG}/token/aggregate`, { query: { ...tokenQuery(), identifiers: rotated.token.identifier } });
      expect(after.status).toBe(200);
      for (const item of after.body.data.content) expect(item.token.valid).toBe(false);

      // PUT of the rotated token is refused (§1.2 "Rotated tokens cannot be updated").
      const put = await k.http.put(`${NG}/token/${rotated.token.identifier}`, { ...rotated.token, name: 'again' }, { query: routing() });
      expect(put.status).toBe(400);
      expect(put.body.message).toBe('Invalid request: Rotated tokens cannot be updated');
      k.clock.set(T0 + 2 * DAY + HOUR);
    });
  });

  it('keeps every client exchange under 500', async () => {
    // Design rule: bad input gets a 4xx, never a 500. A SPLIT rotate of a token that no longer exists:
    const res = await k.http.post(`${NG}/token/rotate/gone`, undefined, {
      query: { accountIdentifier: k.admin.accountId, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'split_sa', apiKeyIdentifier: 'split_key' },
    });
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('ENTITY_NOT_FOUND');
    expectFailure(
      await k.http.get(`${NG}/token/aggregate`, { query: { apiKeyType: 'SERVICE_ACCOUNT', accountIdentifier: k.admin.accountId, pageIndex: 'x' } }),
      'RESOURCE_NOT_FOUND_EXCEPTION',
      'HTTP 404 Not Found',
    );
  });
});
