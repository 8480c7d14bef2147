/**
 * The standing fuzzer (docs/attack-suite.md): every route of the app's own route table gets seeded,
 * hostile requests (malformed and deeply nested JSON, wrong types, huge and non-finite numbers, 1 MB
 * strings, NUL and control characters, path tricks, bad pagination), with the admin's credentials and
 * without. Not one may answer 5xx, and not one may hang. A route added later is fuzzed without anyone
 * listing it here. `npm run bench:attack` runs the same fuzzer at 100,000 requests per database.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { fuzz, type FuzzFixture } from './fuzz.js';
import { makeFixture } from './fixture.js';

const REQUESTS = Number(process.env.KEYWARD_FUZZ_REQUESTS ?? 2500);
const SEED = Number(process.env.KEYWARD_FUZZ_SEED ?? 12);

describeEachDb('route-table fuzzer', (kind) => {
  let k: TestKeyward;
  let fixture: FuzzFixture;
  beforeAll(async () => {
    k = await startKeyward(kind, { config: { logLevel: 'fatal' } });
    fixture = await makeFixture({ baseUrl: k.url, token: k.admin.token, accountId: k.admin.accountId, userId: k.admin.userId });
  });
  afterAll(async () => k.close());

  it(`${REQUESTS} seeded requests over every route: no 5xx, no hang`, { timeout: 240_000 }, async () => {
    const routes = k.keyward.app.routeTable;
    expect(routes.length).toBeGreaterThan(100);
    const result = await fuzz({ baseUrl: k.url, routes, fixture, seed: SEED, requests: REQUESTS, concurrency: 4, timeoutMs: 15_000 });
    expect(result.requests).toBe(REQUESTS);
    expect(result.hangs).toEqual([]);
    expect(result.serverErrors).toEqual([]);
    // The requests reached past authentication and validation too, not only refusals.
    expect(result.statuses['200'] ?? 0).toBeGreaterThan(REQUESTS / 50);
  });

  it('the server still answers, and the fixture is intact, after the fuzzing', async () => {
    const r = await k.http.get('/healthz');
    expect(r.status).toBe(200);
    const who = await k.http.get('/v1/whoami');
    expect(who.status).toBe(200);
  });
});
