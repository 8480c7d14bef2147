/**
 * Envelopes and errors of Harness NG (docs/compat/harness-ng.md table and its error tables): the error
 * fixtures in errors.fixtures.ts replayed over /ng/api, then the rules that need a story (limits,
 * auto-created keys, the service-account cascade, /token/validate, correlation ids), and a sweep
 * of odd input that must never produce a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb } from '../../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../../helpers/keyward.js';
import { ERROR_EXCHANGES } from './errors.fixtures.js';
import { DAY, DEFAULT_TTL, NG, ORDER, S, T, T0, expectBody, expectError, expectFailure, expectSuccess, replay, verifyToken, type Vars } from './support.js';

describeEachDb('harness NG conformance: envelopes and errors', (kind) => {
  let k: TestKeyward;
  const vars: Vars = {};
  let acc: string;
  let user: string;
  const userKeyQuery = () => ({ accountIdentifier: acc, apiKeyType: 'USER', parentIdentifier: user });
  const saKeyBody = (parent: string, identifier: string) => ({ identifier, name: identifier, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: parent, accountIdentifier: acc });
  const saTokenBody = (parent: string, key: string, identifier: string) => ({ identifier, name: identifier, apiKeyIdentifier: key, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: parent, accountIdentifier: acc });
  const createSa = async (identifier: string) => {
    const res = await k.http.post(`${NG}/serviceaccount`, { identifier, name: identifier, email: `${identifier}@service.harness.io`, accountIdentifier: acc }, { query: { accountIdentifier: acc } });
    expect(res.status, res.text).toBe(200);
  };
  const post = (path: string, body: unknown) => k.http.post(`${NG}${path}`, body, { query: { accountIdentifier: acc } });

  beforeAll(async () => {
    k = await startKeyward(kind);
    acc = k.admin.accountId;
    user = k.admin.userId;
    vars.acc = acc;
    vars.user = user;
    expect((await post('/apikey', { identifier: 'err_key', name: 'err key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc })).status).toBe(200);
    const tok = await post('/token', { identifier: 'err_tok', name: 'err tok', apiKeyIdentifier: 'err_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc });
    expect(tok.status).toBe(200);
    vars.errTok = tok.body.data;
    await createSa('err_sa');
    expect((await post('/apikey', saKeyBody('err_sa', 'err_sa_key'))).status).toBe(200);
    const saTok = await post('/token', saTokenBody('err_sa', 'err_sa_key', 'err_sa_tok'));
    expect(saTok.status).toBe(200);
    vars.errSaTok = saTok.body.data;
  });
  afterAll(async () => k?.close());

  describe('error fixtures', () => {
    for (const ex of ERROR_EXCHANGES) {
      it(`${ex.call} -> ${ex.status} (${ex.cite})`, async () => {
        await replay(k, NG, k.admin.token, ex, vars, 'script');
      });
    }

    it('left the fixtures\' targets untouched', async () => {
      expect((await verifyToken(k, String(vars.errTok))).valid).toBe(true);
      expect((await verifyToken(k, String(vars.errSaTok))).valid).toBe(true);
      const sa = await k.http.get(`${NG}/serviceaccount/aggregate/err_sa`, { query: { accountIdentifier: acc } });
      expect(sa.body.data.serviceAccount).toMatchObject({ name: 'err_sa', email: 'err_sa@service.harness.io' });
      const tok = await k.http.get(`${NG}/token/aggregate`, { query: { ...userKeyQuery(), apiKeyIdentifier: 'err_key' } });
      expect(tok.body.data.content.map((c: any) => [c.token.identifier, c.token.scheduledExpireTime])).toEqual([['err_tok', null]]);
    });
  });

  describe('envelopes', () => {
    it('carries X-requestId back as correlationId in SUCCESS, FAILURE, ERROR and 401 bodies', async () => {
      // §0 Correlation ID: taken from the request header X-requestId (HC CorrelationFilter).
      const h = (id: string) => ({ 'X-requestId': id });
      const ok = await k.http.get(`${NG}/apikey`, { query: userKeyQuery(), headers: h('corr-success-1') });
      expectSuccess(ok, T.any);
      expect(ok.body.correlationId).toBe('corr-success-1');
      const failure = await k.http.get(`${NG}/no/such/route`, { headers: h('corr-failure-2') });
      expectBody(failure, 400, S.resourceNotFound());
      expect(failure.body.correlationId).toBe('corr-failure-2');
      const error = await k.http.get(`${NG}/apikey/aggregate/nope`, { query: userKeyQuery(), headers: h('corr-error-3') });
      expectError(error, 400, 'INVALID_ARGUMENT', T.nonEmpty);
      expect(error.body.correlationId).toBe('corr-error-3');
      const unauth = await k.anon.get(`${NG}/apikey`, { query: userKeyQuery(), headers: h('corr-401-4') });
      expectBody(unauth, 401, S.invalidToken());
      expect(unauth.body.correlationId).toBe('corr-401-4');
    });

    it('makes a fresh UUID correlationId when the client sends none, different per request', async () => {
      const a = await k.http.get(`${NG}/apikey`, { query: userKeyQuery() });
      const b = await k.http.get(`${NG}/apikey`, { query: userKeyQuery() });
      expectSuccess(a, T.any);
      expect(a.body.correlationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(b.body.correlationId).not.toBe(a.body.correlationId);
    });

    it('serializes nulls rather than omitting them, and enums by name', async () => {
      const res = await k.http.get(`${NG}/apikey/aggregate/err_key`, { query: userKeyQuery() });
      expect(res.status).toBe(200);
      expect(res.text).toContain('"metaData":null');
      expect(res.text).toContain('"orgIdentifier":null');
      expect(res.text).toContain('"projectIdentifier":null');
      expect(res.text).toContain('"description":null');
      expect(res.text).toContain('"apiKeyType":"USER"');
      expect(Object.keys(res.body)).toEqual([...ORDER.success]);
    });

    it('ignores unknown request fields (FAIL_ON_UNKNOWN_PROPERTIES=false) and governanceMetadata', async () => {
      const res = await post('/apikey', { identifier: 'extra_key', name: 'extra', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, governanceMetadata: null, someFutureField: { x: 1 } });
      expectSuccess(res, S.apiKey({ identifier: 'extra_key', name: 'extra', apiKeyType: 'USER', parentIdentifier: user }), vars);
      expectSuccess(await k.http.delete(`${NG}/apikey/extra_key`, { query: userKeyQuery() }), true);
    });
  });

  describe('limits (default 5 keys per parent, 5 tokens per key)', () => {
    it('refuses the sixth key of a parent with "Invalid request: Maximum limit has reached"', async () => {
      // §1.1 Errors: Limit reached; §0 license checks raise INVALID_REQUEST -> 400.
      await createSa('limit_sa');
      for (let i = 1; i <= 5; i += 1) expect((await post('/apikey', saKeyBody('limit_sa', `lk${i}`))).status).toBe(200);
      expectError(await post('/apikey', saKeyBody('limit_sa', 'lk6')), 400, 'INVALID_REQUEST', 'Invalid request: Maximum limit has reached');
      // An auto-created key counts too: a token for a sixth key cannot make it.
      expectError(await post('/token', saTokenBody('limit_sa', 'lk6', 't')), 400, 'INVALID_REQUEST', 'Invalid request: Maximum limit has reached');
      const list = await k.http.get(`${NG}/apikey`, { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'limit_sa' } });
      expect(list.body.data).toHaveLength(5);
      // The limit is per parent: another service account still has room.
      await createSa('limit_sa2');
      expect((await post('/apikey', saKeyBody('limit_sa2', 'lk1'))).status).toBe(200);
    });

    it('refuses the sixth token of a key with the same message', async () => {
      // §1.2 Errors: Limit (default 5 tokens per API key).
      for (let i = 1; i <= 5; i += 1) expect((await post('/token', saTokenBody('limit_sa', 'lk1', `lt${i}`))).status).toBe(200);
      expectError(await post('/token', saTokenBody('limit_sa', 'lk1', 'lt6')), 400, 'INVALID_REQUEST', 'Invalid request: Maximum limit has reached');
      // Deleting one frees the slot.
      const del = await k.http.delete(`${NG}/token/lt1`, { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'limit_sa', apiKeyIdentifier: 'lk1' } });
      expectSuccess(del, true);
      expect((await post('/token', saTokenBody('limit_sa', 'lk1', 'lt6'))).status).toBe(200);
    });
  });

  describe('rules', () => {
    it('auto-creates a missing key on POST /token as <id>_auto, "Auto Generated API key", default lifetime', async () => {
      // §2 Auto-created keys.
      const res = await post('/token', { identifier: 'auto_tok', name: 'auto tok', apiKeyIdentifier: 'auto_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc });
      expectSuccess(res, T.patToken, vars);
      const key = await k.http.get(`${NG}/apikey/aggregate/auto_key`, { query: userKeyQuery() });
      expectSuccess(
        key,
        S.apiKeyAggregate(
          S.apiKey({ identifier: 'auto_key', name: 'auto_key_auto', description: 'Auto Generated API key', apiKeyType: 'USER', parentIdentifier: user, defaultTimeToExpireToken: DEFAULT_TTL }),
          { tokensCount: 1 },
        ),
        vars,
      );
      const list = await k.http.get(`${NG}/token/aggregate`, { query: { ...userKeyQuery(), apiKeyIdentifier: 'auto_key' } });
      expect(list.body.data.content[0].token).toMatchObject({ validFrom: T0, validTo: T0 + DEFAULT_TTL });
      expectSuccess(await k.http.delete(`${NG}/apikey/auto_key`, { query: userKeyQuery() }), true);
      expect((await verifyToken(k, res.body.data)).valid).toBe(false);
    });

    it('allows the same key identifier under different parents, and service-account identifiers differing only in case', async () => {
      // §3 Uniqueness: keys are unique per parent; service accounts are case-sensitive.
      expectSuccess(await post('/apikey', saKeyBody('err_sa', 'err_key')), S.apiKey({ identifier: 'err_key', name: 'err_key', apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'err_sa' }), vars);
      const upper = await post('/serviceaccount', { identifier: 'ERR_SA', name: 'upper', email: 'upper@service.harness.io', accountIdentifier: acc });
      expectSuccess(upper, S.serviceAccount({ identifier: 'ERR_SA', name: 'upper', email: 'upper@service.harness.io' }), vars);
      expectSuccess(await k.http.delete(`${NG}/serviceaccount/ERR_SA`, { query: { accountIdentifier: acc } }), true);
      expectSuccess(await k.http.delete(`${NG}/apikey/err_key`, { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'err_sa' } }), true);
      // The admin's own err_key is a different key and survived.
      expect((await verifyToken(k, String(vars.errTok))).valid).toBe(true);
    });

    it('keeps the stored email when an update tries to change it', async () => {
      const res = await k.http.put(`${NG}/serviceaccount/err_sa`, { identifier: 'err_sa', name: 'renamed', email: 'other@service.harness.io', accountIdentifier: acc }, { query: { accountIdentifier: acc } });
      expect(res.status).toBe(400);
      // Same email in another case is the same email (stored lower-cased).
      const same = await k.http.put(`${NG}/serviceaccount/err_sa`, { identifier: 'err_sa', name: 'err_sa', email: 'ERR_SA@service.harness.io', accountIdentifier: acc }, { query: { accountIdentifier: acc } });
      expectSuccess(same, S.serviceAccount({ identifier: 'err_sa', name: 'err_sa', email: 'err_sa@service.harness.io' }), vars);
    });

    it('cascades a service-account delete to its keys and tokens: the token stops verifying', async () => {
      // §1.3 Delete cascades; §3 Deletion cascade.
      await createSa('casc_sa');
      expect((await post('/apikey', saKeyBody('casc_sa', 'casc_key'))).status).toBe(200);
      const t1 = await post('/token', saTokenBody('casc_sa', 'casc_key', 'casc_t1'));
      const t2 = await post('/token', saTokenBody('casc_sa', 'casc_other', 'casc_t2')); // auto-created second key
      expect((await verifyToken(k, t1.body.data)).valid).toBe(true);
      expect((await verifyToken(k, t2.body.data)).valid).toBe(true);
      const agg = await k.http.get(`${NG}/serviceaccount/aggregate/casc_sa`, { query: { accountIdentifier: acc } });
      expect(agg.body.data.tokensCount).toBe(2); // §1.3 quirk: the number of API keys

      expectSuccess(await k.http.delete(`${NG}/serviceaccount/casc_sa`, { query: { accountIdentifier: acc } }), true);
      expect((await verifyToken(k, t1.body.data)).valid).toBe(false);
      expect((await verifyToken(k, t2.body.data)).valid).toBe(false);
      const keys = await k.http.get(`${NG}/apikey/aggregate/casc_key`, { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'casc_sa' } });
      expectBody(keys, 400, S.failure('RESOURCE_NOT_FOUND_EXCEPTION', T.startsWith('Service account with identifier [casc_sa] is not found')));
      const tokens = await k.http.get(`${NG}/token/aggregate`, { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'casc_sa' } });
      expect(tokens.status).toBeLessThan(500);
      if (tokens.status === 200) expect(tokens.body.data.content).toEqual([]);
    });

    it('deletes an API key with its tokens (§3)', async () => {
      await createSa('kdel_sa');
      expect((await post('/apikey', saKeyBody('kdel_sa', 'kdel_key'))).status).toBe(200);
      const t = await post('/token', saTokenBody('kdel_sa', 'kdel_key', 'kdel_t'));
      expectSuccess(await k.http.delete(`${NG}/apikey/kdel_key`, { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'kdel_sa' } }), true);
      expect((await verifyToken(k, t.body.data)).valid).toBe(false);
      const list = await k.http.get(`${NG}/token/aggregate`, { query: { accountIdentifier: acc, apiKeyType: 'SERVICE_ACCOUNT', parentIdentifier: 'kdel_sa' } });
      expectSuccess(list, S.page([]), vars);
    });

    it('refuses a PUT of a rotated token', async () => {
      // §1.2 Errors; §2 Rotation "Rotated tokens cannot be updated".
      const q = { ...userKeyQuery(), apiKeyIdentifier: 'err_key' };
      expect((await post('/token', { identifier: 'rot_me', name: 'rot me', apiKeyIdentifier: 'err_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc })).status).toBe(200);
      expect((await k.http.post(`${NG}/token/rotate/rot_me`, undefined, { query: { ...q, rotateTimestamp: T0 + DAY } })).status).toBe(200);
      const list = await k.http.get(`${NG}/token/aggregate`, { query: { ...q, searchTerm: 'rotated_' } });
      const rotated = list.body.data.content.map((c: any) => c.token).find((t: any) => t.scheduledExpireTime !== null);
      expect(rotated.identifier).toMatch(/^rotated_[A-Za-z]{15}$/);
      const put = await k.http.put(`${NG}/token/${rotated.identifier}`, { ...rotated, scheduledExpireTime: null, name: 'revived' }, { query: { accountIdentifier: acc } });
      expectError(put, 400, 'INVALID_REQUEST', 'Invalid request: Rotated tokens cannot be updated');
      const del = await k.http.delete(`${NG}/token/rot_me`, { query: q });
      expectSuccess(del, true);
      expectSuccess(await k.http.delete(`${NG}/token/${rotated.identifier}`, { query: q }), true);
    });
  });

  describe('POST /token/validate', () => {
    const validate = (raw: string, accountIdentifier: string = acc) =>
      k.http.request('POST', `${NG}/token/validate`, { token: null, rawBody: raw, headers: { 'content-type': 'text/plain' }, query: { accountIdentifier } });

    it('returns the Token of a USER token with email and username set and encodedPassword null', async () => {
      // §1.2 POST /token/validate.
      const res = await validate(String(vars.errTok));
      expectSuccess(
        res,
        S.token({
          identifier: 'err_tok',
          name: 'err tok',
          apiKeyIdentifier: 'err_key',
          parentIdentifier: user,
          apiKeyType: 'USER',
          email: k.admin.email,
          username: T.nonEmpty,
          encodedPassword: null,
        }),
        vars,
      );
    });

    it('returns the service account\'s email and name for a SERVICE_ACCOUNT token', async () => {
      const res = await validate(String(vars.errSaTok));
      expectSuccess(
        res,
        S.token({ identifier: 'err_sa_tok', name: 'err_sa_tok', apiKeyIdentifier: 'err_sa_key', parentIdentifier: 'err_sa', apiKeyType: 'SERVICE_ACCOUNT', email: 'err_sa@service.harness.io', username: 'err_sa' }),
        vars,
      );
    });

    it('answers a bad token with 400 "Invalid request: <why>" (§2 validation order)', async () => {
      const tok = String(vars.errTok);
      const tokenId = tok.split('.')[2]!;
      expectError(await validate(''), 400, 'INVALID_REQUEST', 'Invalid request: Invalid API Token: Token is Empty');
      expectError(await validate('a.b'), 400, 'INVALID_REQUEST', 'Invalid request: Invalid API Token: Token length not matching for API token');
      expectError(await validate(`pat.${acc}.0123456789abcdef01234567.AAAAAAAAAAAAAAAAAAAA`), 400, 'INVALID_REQUEST', 'Invalid request: Invalid API token 0123456789abcdef01234567: Token not found');
      expectError(await validate(`${tok.slice(0, -1)}${tok.endsWith('A') ? 'B' : 'A'}`), 400, 'INVALID_REQUEST', T.startsWith('Invalid request: '));
      expectError(await validate(tok, 'some_other_account'), 400, 'INVALID_REQUEST', `Invalid request: Invalid account token access ${tokenId}`);
    });
  });

  describe('never a 500', () => {
    const q = () => ({ ...userKeyQuery(), apiKeyIdentifier: 'err_key' });
    const cases: Array<[string, () => Promise<{ status: number; text: string; headers: Headers }>]> = [
      ['an invalid regex as searchTerm (keys)', () => k.http.get(`${NG}/apikey/aggregate`, { query: { ...userKeyQuery(), searchTerm: '(' } })],
      ['an invalid regex as searchTerm (tokens)', () => k.http.get(`${NG}/token/aggregate`, { query: { ...q(), searchTerm: '[z-a' } })],
      ['an invalid regex as searchTerm (service accounts)', () => k.http.get(`${NG}/serviceaccount/aggregate`, { query: { accountIdentifier: acc, searchTerm: '*' } })],
      ['a nonsense sortOrders', () => k.http.get(`${NG}/token/aggregate`, { query: { ...q(), sortOrders: ['password,ASC', '{', ',,,'] } })],
      ['pageSize 0', () => k.http.get(`${NG}/apikey/aggregate`, { query: { ...userKeyQuery(), pageSize: 0 } })],
      ['a negative pageIndex', () => k.http.get(`${NG}/apikey/aggregate`, { query: { ...userKeyQuery(), pageIndex: -1 } })],
      ['a huge pageIndex', () => k.http.get(`${NG}/apikey/aggregate`, { query: { ...userKeyQuery(), pageIndex: 9007199254740991 } })],
      ['pageSize above 100', () => k.http.get(`${NG}/apikey/aggregate`, { query: { ...userKeyQuery(), pageSize: 100000 } })],
      ['a negative rotateTimestamp', () => k.http.post(`${NG}/token/rotate/err_tok`, undefined, { query: { ...q(), rotateTimestamp: -5 } })],
      ['a JSON array body', () => post('/apikey', [1, 2])],
      ['a JSON null body', () => k.http.request('POST', `${NG}/apikey`, { rawBody: 'null', headers: { 'content-type': 'application/json' }, query: { accountIdentifier: acc } })],
      ['a JSON number body', () => k.http.request('POST', `${NG}/token`, { rawBody: '5', headers: { 'content-type': 'application/json' }, query: { accountIdentifier: acc } })],
      ['an empty JSON body', () => k.http.request('PUT', `${NG}/apikey/x`, { rawBody: '', headers: { 'content-type': 'application/json' } })],
      ['a text/plain body on a JSON route', () => k.http.request('POST', `${NG}/apikey`, { rawBody: 'hello', headers: { 'content-type': 'text/plain' }, query: { accountIdentifier: acc } })],
      ['an XML body', () => k.http.request('POST', `${NG}/serviceaccount`, { rawBody: '<sa/>', headers: { 'content-type': 'application/xml' }, query: { accountIdentifier: acc } })],
      ['nested tag values', () => post('/apikey', { identifier: 'nt', name: 'nt', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, tags: { a: { b: 1 } } })],
      ['129 tags', () => post('/apikey', { identifier: 'mt', name: 'mt', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, tags: Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v'])) })],
      ['a non-Latin name', () => post('/apikey', { identifier: 'nl', name: 'ключ', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc })],
      ['a 300-character identifier', () => post('/apikey', { identifier: 'i'.repeat(300), name: 'long', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc })],
      ['a 600-character path segment', () => k.http.get(`${NG}/apikey/aggregate/${'x'.repeat(600)}`, { query: userKeyQuery() })],
      ['SQL in identifiers', () => k.http.get(`${NG}/apikey`, { query: { ...userKeyQuery(), identifiers: ["' OR 1=1 --", 'a"b'] } })],
      ['a float defaultTimeToExpireToken', () => post('/apikey', { identifier: 'fl', name: 'fl', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, defaultTimeToExpireToken: 1.5 })],
      ['a negative defaultTimeToExpireToken', () => post('/apikey', { identifier: 'ng', name: 'ng', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, defaultTimeToExpireToken: -1 })],
      ['PUT /token with validFrom and validTo null (Harness NPE)', () => k.http.put(`${NG}/token/err_tok`, { identifier: 'err_tok', name: 'err tok', apiKeyIdentifier: 'err_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, validFrom: null, validTo: null }, { query: { accountIdentifier: acc } })],
      ['a token with a validTo beyond year 9999', () => post('/token', { identifier: 'far', name: 'far', apiKeyIdentifier: 'err_key', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc, validTo: 9007199254740991 })],
      ['a service account in an org without a project', () => k.http.post(`${NG}/serviceaccount`, { identifier: 'o_sa', name: 'o', email: 'o@service.harness.io' }, { query: { accountIdentifier: acc, orgIdentifier: 'no_org' } })],
      ['a trailing slash', () => k.http.get(`${NG}/apikey/`, { query: userKeyQuery() })],
      ['DELETE /serviceaccount/ with no identifier', () => k.http.delete(`${NG}/serviceaccount/`, { query: { accountIdentifier: acc } })],
      ['a percent-encoded NUL in the path', () => k.http.get(`${NG}/apikey/aggregate/a%00b`, { query: userKeyQuery() })],
      ['a bad percent-encoding in the path', () => k.http.get(`${NG}/apikey/aggregate/%E0%A4%A`, { query: userKeyQuery() })],
      ['a NUL character in a query value', () => k.http.get(`${NG}/apikey/aggregate`, { query: { ...userKeyQuery(), searchTerm: 'a\u0000b' } })],
      ['a NUL character in identifiers', () => k.http.get(`${NG}/apikey`, { query: { ...userKeyQuery(), identifiers: 'a\u0000b' } })],
      ['a NUL character in orgIdentifier', () => k.http.get(`${NG}/serviceaccount`, { query: { accountIdentifier: acc, orgIdentifier: 'o\u0000' } })],
      ['a NUL character in a description', () => post('/apikey', { identifier: 'nul_d', name: 'nul d', description: 'a\u0000b', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc })],
      ['a NUL character in a tag', () => post('/apikey', { identifier: 'nul_t', name: 'nul t', tags: { 'k\u0000': 'v' }, apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc })],
      ['a NUL character in an email', () => post('/serviceaccount', { identifier: 'nul_sa', name: 'nul sa', email: 'a\u0000b@service.harness.io', accountIdentifier: acc })],
      ['rotating a token at a rotateTimestamp in the past', () => k.http.post(`${NG}/token/rotate/err_tok`, undefined, { query: { ...q(), rotateTimestamp: 1 } })],
    ];
    for (const [name, send] of cases) {
      it(`${name}: a 2xx or 4xx JSON answer`, async () => {
        const res = await send();
        expect(res.status, res.text).toBeLessThan(500);
        expect(res.headers.get('content-type') ?? '', res.text).toContain('application/json');
      });
    }

    it('answers a NUL character with a FAILURE naming the field (PostgreSQL cannot hold one)', async () => {
      expectFailure(await k.http.get(`${NG}/apikey/aggregate/a%00b`, { query: userKeyQuery() }), 'INVALID_REQUEST', 'identifier: must not contain a NUL character', [
        { fieldId: 'identifier', error: 'must not contain a NUL character' },
      ]);
      expectFailure(
        await post('/apikey', { identifier: 'nul_d', name: 'nul d', description: 'a\u0000b', apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc }),
        'INVALID_REQUEST',
        'description: must not contain a NUL character',
        [{ fieldId: 'description', error: 'must not contain a NUL character' }],
      );
    });

    it('leaves err_tok listed exactly once after the sweep', async () => {
      const list = await k.http.get(`${NG}/token/aggregate`, { query: { ...q(), identifiers: 'err_tok' } });
      expect(list.status).toBe(200);
      expect(list.body.data.content).toHaveLength(1);
    });
  });

  it('answers validation errors with a FAILURE whose errors name each field', async () => {
    expectFailure(
      await post('/token', { apiKeyType: 'USER', parentIdentifier: user, accountIdentifier: acc }),
      'INVALID_REQUEST',
      T.nonEmpty,
      [
        { fieldId: 'identifier', error: 'cannot be empty' },
        { fieldId: 'name', error: T.nonEmpty },
        { fieldId: 'apiKeyIdentifier', error: 'cannot be empty' },
      ],
    );
  });
});
