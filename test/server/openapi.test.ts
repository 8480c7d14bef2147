/** /openapi.json describes the API (OpenAPI 3); /docs serves the reference page. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describeEachDb('OpenAPI and docs', (kind) => {
  let k: TestKeyward;
  beforeAll(async () => {
    k = await startKeyward(kind);
  });
  afterAll(async () => k?.close());

  it('/openapi.json is an OpenAPI 3 document listing the native routes', async () => {
    const res = await k.anon.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info).toMatchObject({ title: 'Keyward', version: pkg.version });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/verify', '/v1/whoami', '/v1/accounts', '/v1/accounts/{accountId}', '/v1/accounts/{accountId}/users', '/v1/accounts/{accountId}/audit']),
    );
    const verify = doc.paths['/v1/verify'].post;
    expect(verify.requestBody.content['application/json'].schema).toMatchObject({ required: ['token'] });
    expect(verify.responses['200']).toBeDefined();
    expect(doc.paths['/v1/whoami'].get.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-Api-Key' });
    // Operational routes are not part of the API document.
    expect(doc.paths['/healthz']).toBeUndefined();
    expect(doc.paths['/metrics']).toBeUndefined();
  });

  it('/docs serves an HTML page', async () => {
    const res = await k.anon.get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).toMatch(/<html/i);
    expect(res.text.toLowerCase()).toContain('swagger');
  });
});
