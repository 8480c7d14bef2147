/**
 * The standing race suite (docs/attack-suite.md): 100 parallel requests against each per-owner limit,
 * each unique name and each delete, on SQLite and PostgreSQL over real HTTP. Never past a limit,
 * never a 5xx, exactly one delete wins.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/services/context.js';
import { describeEachDb } from '../helpers/databases.js';
import { startKeyward, type TestKeyward } from '../helpers/keyward.js';
import { allRaces, type Admin } from './races.js';

const N = 100;

describeEachDb('races', (kind) => {
  let k: TestKeyward;
  let admin: Admin;
  beforeAll(async () => {
    k = await startKeyward(kind, { config: { logLevel: 'fatal' } });
    admin = { baseUrl: k.url, token: k.admin.token, accountId: k.admin.accountId, userId: k.admin.userId };
  });
  afterAll(async () => k.close());

  it.each(allRaces(DEFAULT_LIMITS))('%s (100 parallel requests)', { timeout: 120_000 }, async (_name, race) => {
    const o = await race(admin, N);
    expect(o.serverErrors, JSON.stringify(o.statuses)).toEqual([]);
    expect(o.unexpected, `${o.name}: answers that are neither a win nor the protocol's refusal`).toEqual([]);
    expect(o.after, `${o.name}: objects afterwards (statuses ${JSON.stringify(o.statuses)})`).toBeLessThanOrEqual(o.limit);
    expect(o.wins, `${o.name}: winners (statuses ${JSON.stringify(o.statuses)})`).toBeGreaterThanOrEqual(o.expectedWins.min);
    expect(o.wins, `${o.name}: winners (statuses ${JSON.stringify(o.statuses)})`).toBeLessThanOrEqual(o.expectedWins.max);
  });
});
