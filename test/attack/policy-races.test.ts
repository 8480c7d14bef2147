/**
 * Per-owner limits set by an account policy hold under concurrency (docs/policies.md): 20 parallel
 * creates over real HTTP against a policy's limit, on SQLite and PostgreSQL (where the owner's row
 * lock in ApiKeyService.authorizeOwner serialises them). Exactly the limit wins; the rest get the
 * protocol's own refusal, never a 5xx.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { raceNgApiKeyLimit, raceNgTokenLimit, raceZenmlApiKeyLimit, type Admin, type RaceOutcome } from './races.js';

const N = 20;

describeEachDb('policy limits under concurrency', (kind) => {
  let k: TestKeyward;
  let admin: Admin;
  beforeAll(async () => {
    k = await startKeyward(kind, { config: { logLevel: 'fatal' } });
    admin = { baseUrl: k.url, token: k.admin.token, accountId: k.admin.accountId, userId: k.admin.userId };
    // Not the process-wide default (5): the policy's numbers are what must hold.
    const put = await k.http.put(`/v1/accounts/${admin.accountId}/policy`, { maxApiKeysPerOwner: 3, maxTokensPerApiKey: 7 });
    expect(put.status, put.text).toBe(200);
  });
  afterAll(async () => k.close());

  const exact = (o: RaceOutcome, limit: number) => {
    expect(o.serverErrors, JSON.stringify(o.statuses)).toEqual([]);
    expect(o.unexpected).toEqual([]);
    expect(o.after, JSON.stringify(o.statuses)).toBe(limit);
    expect(o.wins, JSON.stringify(o.statuses)).toBe(limit);
  };

  it('NG API keys per owner: 20 parallel creates, exactly 3 win', { timeout: 120_000 }, async () => {
    exact(await raceNgApiKeyLimit(admin, N, 3), 3);
  });

  it('ZenML API keys per service account: 20 parallel creates, exactly 3 win', { timeout: 120_000 }, async () => {
    exact(await raceZenmlApiKeyLimit(admin, N, 3), 3);
  });

  it('NG tokens per key: 20 parallel creates, exactly 7 win', { timeout: 120_000 }, async () => {
    exact(await raceNgTokenLimit(admin, N, 7), 7);
  });
});
